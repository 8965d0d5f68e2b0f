//! Stand-ins for the HTTP services privai talks to, for tests and
//! benchmarks: each follows its documented API (errors included), keeps its
//! state in memory, logs every request, and listens on 127.0.0.1 only.
//!
//! [`Server`] is the tiny HTTP/1.1 server they share: one thread per
//! connection, one request per connection (`Connection: close`), bodies
//! with `Content-Length` in, whole bodies or chunked streams out. It speaks
//! plain HTTP, or HTTPS with a given certificate ([`Server::start_tls`],
//! rustls on the same blocking sockets) as a service terminating TLS itself.

#![allow(dead_code)]

pub mod headscale;
pub mod ollama;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// One HTTP request, read whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query, without `?` (empty if none).
    pub query: String,
    /// Headers, names lowercased, in order.
    pub headers: Vec<(String, String)>,
    /// The body (`Content-Length` bytes).
    pub body: Vec<u8>,
    /// How it came over TLS; `None`: plain HTTP.
    pub tls: Option<Tls>,
}

/// The TLS session a request came over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tls {
    /// The server name the client asked for (SNI), if it sent one.
    pub server_name: Option<String>,
    /// The protocol version, e.g. `TLSv1_3`.
    pub version: String,
}

/// A connection: plain TCP, or TLS over it.
enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ServerConnection, TcpStream>>),
}

impl Stream {
    /// Closes the connection at once, without a TLS `close_notify`: to the
    /// client, a connection that broke.
    fn shutdown(&self) -> io::Result<()> {
        match self {
            Self::Plain(stream) => stream.shutdown(Shutdown::Both),
            Self::Tls(stream) => stream.sock.shutdown(Shutdown::Both),
        }
    }

    /// The session's server name and version, once the handshake is done.
    fn tls(&self) -> Option<Tls> {
        let Self::Tls(stream) = self else {
            return None;
        };
        Some(Tls {
            server_name: stream.conn.server_name().map(str::to_owned),
            version: stream
                .conn
                .protocol_version()
                .map(|v| format!("{v:?}"))
                .unwrap_or_default(),
        })
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Plain(stream) => stream.read(buf),
            Self::Tls(stream) => stream.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Plain(stream) => stream.write(buf),
            Self::Tls(stream) => stream.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Plain(stream) => stream.flush(),
            Self::Tls(stream) => stream.flush(),
        }
    }
}

impl Drop for Stream {
    /// Ends a TLS session with `close_notify`, as a server closing cleanly
    /// does (after [`Stream::shutdown`] this fails quietly).
    fn drop(&mut self) {
        if let Self::Tls(stream) = self {
            stream.conn.send_close_notify();
            while stream.conn.wants_write() {
                if stream.conn.write_tls(&mut stream.sock).is_err() {
                    break;
                }
            }
        }
    }
}

/// A TLS server configuration serving the certificate chain `cert_pem`
/// with the private key `key_pem` (both PEM), with ring as the provider.
pub fn tls_config(cert_pem: &str, key_pem: &str) -> io::Result<Arc<ServerConfig>> {
    let invalid =
        |e: &dyn std::fmt::Display| io::Error::new(io::ErrorKind::InvalidInput, e.to_string());
    let chain = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(&e))?;
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|e| invalid(&e))?;
    let config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| invalid(&e))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| invalid(&e))?;
    Ok(Arc::new(config))
}

impl Request {
    /// The first header named `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON, or `Null` if it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// Where a handler writes its answer.
pub struct Responder {
    stream: Stream,
    head: bool,
}

/// The reason phrase of `status`.
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        412 => "Precondition Failed",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

impl Responder {
    /// Sends a whole answer. For a `HEAD` request only the headers go out.
    pub fn send(mut self, status: u16, content_type: &str, body: &[u8]) -> io::Result<()> {
        let mut out = format!(
            "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            reason(status),
            body.len()
        )
        .into_bytes();
        if !self.head {
            out.extend_from_slice(body);
        }
        self.stream.write_all(&out)?;
        self.stream.flush()
    }

    /// Sends a JSON answer.
    pub fn json(self, status: u16, value: &serde_json::Value) -> io::Result<()> {
        self.send(
            status,
            "application/json; charset=utf-8",
            value.to_string().as_bytes(),
        )
    }

    /// Starts a chunked answer (as Ollama streams NDJSON).
    pub fn chunked(mut self, status: u16, content_type: &str) -> io::Result<Chunked> {
        write!(
            self.stream,
            "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
            reason(status)
        )?;
        Ok(Chunked {
            stream: self.stream,
            buffer: Vec::with_capacity(CHUNK),
            sent: 0,
        })
    }
}

/// Bytes buffered before a chunk goes out.
const CHUNK: usize = 64 * 1024;

/// A chunked answer being written. Dropped without [`Chunked::finish`], it
/// ends like a broken connection (no terminating chunk).
pub struct Chunked {
    stream: Stream,
    buffer: Vec<u8>,
    sent: u64,
}

impl Chunked {
    /// Queues `bytes`; a chunk goes out once 64 KiB are queued.
    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= CHUNK {
            self.flush()?;
        }
        Ok(())
    }

    /// Sends what is queued as one chunk.
    pub fn flush(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let mut out = format!("{:x}\r\n", self.buffer.len()).into_bytes();
        out.extend_from_slice(&self.buffer);
        out.extend_from_slice(b"\r\n");
        self.stream.write_all(&out)?;
        self.stream.flush()?;
        self.sent += self.buffer.len() as u64;
        self.buffer.clear();
        Ok(())
    }

    /// Body bytes sent so far (queued ones not counted).
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// Sends what is queued and the terminating chunk.
    pub fn finish(mut self) -> io::Result<()> {
        self.flush()?;
        self.stream.write_all(b"0\r\n\r\n")?;
        self.stream.flush()
    }

    /// Sends what is queued, then closes the connection mid-answer, as a
    /// server that dies or a network that breaks would.
    pub fn abort(mut self) -> io::Result<()> {
        self.flush()?;
        self.stream.shutdown()
    }
}

/// What a [`Server`] runs for each request.
pub type Handler = dyn Fn(Request, Responder) + Send + Sync;

/// A tiny HTTP/1.1 server on 127.0.0.1; it stops when dropped.
pub struct Server {
    addr: SocketAddr,
    tls: bool,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Listens on 127.0.0.1:`port` (0: any free port) and answers each
    /// request with `handler`, on a thread of its own.
    pub fn start(port: u16, handler: Arc<Handler>) -> io::Result<Self> {
        Self::listen(port, handler, None)
    }

    /// As [`Server::start`], speaking HTTPS only with `tls` (see
    /// [`tls_config`]). A connection whose handshake fails (the client
    /// does not trust the certificate) never reaches `handler`.
    pub fn start_tls(port: u16, handler: Arc<Handler>, tls: Arc<ServerConfig>) -> io::Result<Self> {
        Self::listen(port, handler, Some(tls))
    }

    fn listen(
        port: u16,
        handler: Arc<Handler>,
        tls: Option<Arc<ServerConfig>>,
    ) -> io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let speaks_tls = tls.is_some();
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let handler = Arc::clone(&handler);
                let tls = tls.clone();
                std::thread::spawn(move || {
                    let _ = serve(stream, tls, &*handler);
                });
            }
        });
        Ok(Self {
            addr,
            tls: speaks_tls,
            stop,
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`, or `https://…` when it speaks TLS.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads one request from `stream` (over TLS with `tls`) and hands it to
/// `handler`.
fn serve(stream: TcpStream, tls: Option<Arc<ServerConfig>>, handler: &Handler) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let stream = match tls {
        None => Stream::Plain(stream),
        Some(config) => {
            let conn = ServerConnection::new(config).map_err(io::Error::other)?;
            Stream::Tls(Box::new(StreamOwned::new(conn, stream)))
        }
    };
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Ok(());
    };
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 {
            break;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<u64>().ok())
        .unwrap_or(0);
    let mut body = Vec::new();
    (&mut reader).take(length).read_to_end(&mut body)?;
    let stream = reader.into_inner();
    let request = Request {
        method: method.to_owned(),
        path: path.to_owned(),
        query: query.to_owned(),
        headers,
        body,
        tls: stream.tls(),
    };
    let head = request.method == "HEAD";
    handler(request, Responder { stream, head });
    Ok(())
}
