//! Health probes: after `apply` starts a service, it waits here until the
//! service answers, or gives up with what it tried and the last thing that
//! went wrong.
//!
//! * [`Health::Http`]: `GET url` every [`PROBE_EVERY`] until it answers 2xx;
//! * [`Health::Tcp`]: a TCP connection to `addr` every [`PROBE_EVERY`] until
//!   one is accepted.
//!
//! The HTTP client is a minimal HTTP/1.1 `GET` over [`std::net::TcpStream`]
//! that reads only the status line: the probed URLs are always plain
//! `http://` on the host itself (a TLS listener gets a TCP probe instead),
//! and this way no proxy settings, redirects or other hosts can ever be
//! involved: the probe contacts exactly the address in the URL.

use crate::render::units::{Health, ServiceUnit};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// The pause between two attempts.
pub const PROBE_EVERY: Duration = Duration::from_millis(250);

/// The shortest time one attempt may take, even when the timeout is nearly
/// used up (a zero timeout is not a valid socket timeout).
const MIN_ATTEMPT: Duration = Duration::from_millis(10);

/// The longest status line read before giving up on the answer.
const MAX_STATUS_LINE: usize = 8 * 1024;

/// Waits until `health` passes, for at most `timeout` (at least one attempt
/// is always made). The error names what was tried and the last failure:
/// `GET http://127.0.0.1:11434/api/version: connection refused after 30 s`.
pub fn probe(health: &Health, timeout: Duration) -> Result<(), String> {
    match health {
        Health::Http { url } => {
            let target = HttpTarget::parse(url).map_err(|e| format!("GET {url}: {e}"))?;
            retry(timeout, |budget| get(&target, budget))
                .map_err(|last| format!("GET {url}: {last} after {}", human(timeout)))
        }
        Health::Tcp { addr } => retry(timeout, |budget| connect(addr, budget).map(drop))
            .map_err(|last| format!("connect {addr}: {last} after {}", human(timeout))),
    }
}

/// [`probe`] of `unit`'s health check with its own timeout; a unit without
/// one (a scheduled job) passes at once.
pub fn probe_unit(unit: &ServiceUnit) -> Result<(), String> {
    match &unit.health {
        Some(health) => probe(health, Duration::from_secs(unit.health_timeout_secs)),
        None => Ok(()),
    }
}

/// Runs `attempt` (given the time it may take) until it succeeds or
/// `timeout` has passed, pausing [`PROBE_EVERY`] in between; returns the
/// last failure.
fn retry(
    timeout: Duration,
    mut attempt: impl FnMut(Duration) -> Result<(), String>,
) -> Result<(), String> {
    let started = Instant::now();
    loop {
        let budget = timeout.saturating_sub(started.elapsed()).max(MIN_ATTEMPT);
        let last = match attempt(budget) {
            Ok(()) => return Ok(()),
            Err(last) => last,
        };
        let remaining = timeout.saturating_sub(started.elapsed());
        // No attempt on a sliver of time: its "timed out" would hide the
        // more telling answer of this one (e.g. an HTTP 500).
        if remaining < PROBE_EVERY * 2 {
            std::thread::sleep(remaining);
            return Err(last);
        }
        std::thread::sleep(PROBE_EVERY);
    }
}

/// `d` as people read it: `30 s`, `600 ms`, `1.5 s`.
fn human(d: Duration) -> String {
    if d.subsec_millis() == 0 && d.as_secs() > 0 {
        format!("{} s", d.as_secs())
    } else if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// Where an `http://` URL points.
#[derive(Debug, PartialEq, Eq)]
struct HttpTarget {
    /// `host:port` (IPv6 in brackets), port 80 when the URL has none.
    addr: String,
    /// The `Host` header: the URL's authority as written.
    host: String,
    /// Path and query, at least `/`.
    path: String,
}

impl HttpTarget {
    /// Splits `url`; anything but a plain `http://` URL is refused.
    fn parse(url: &str) -> Result<Self, String> {
        let rest = match url.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
            _ => {
                return Err(
                    "only `http://` URLs can be probed (a TLS listener gets a TCP \
                            health check)"
                        .to_owned(),
                );
            }
        };
        let rest = rest.split('#').next().unwrap_or_default();
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(end);
        if authority.is_empty() || authority.contains('@') {
            return Err("the URL needs a plain `host[:port]`".to_owned());
        }
        let has_port = match authority.rfind(':') {
            Some(colon) => !authority[colon..].contains(']'),
            None => false,
        };
        let addr = if has_port {
            authority.to_owned()
        } else {
            format!("{authority}:80")
        };
        let path = match path {
            "" => "/".to_owned(),
            p if p.starts_with('?') => format!("/{p}"),
            p => p.to_owned(),
        };
        Ok(Self {
            addr,
            host: authority.to_owned(),
            path,
        })
    }
}

/// One `GET`: `Ok` on a 2xx status, else what happened.
fn get(target: &HttpTarget, budget: Duration) -> Result<(), String> {
    let deadline = Instant::now() + budget;
    let mut stream = connect(&target.addr, budget)?;
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: privai/{}\r\nAccept: */*\r\n\
         Connection: close\r\n\r\n",
        target.path,
        target.host,
        env!("CARGO_PKG_VERSION"),
    );
    stream
        .set_write_timeout(Some(left(deadline)))
        .and_then(|()| stream.write_all(request.as_bytes()))
        .map_err(|e| describe(&e))?;
    let line = read_status_line(&mut stream, deadline).map_err(|e| describe(&e))?;
    let mut parts = line.splitn(3, ' ');
    let (version, code, reason) = (parts.next(), parts.next(), parts.next());
    let code = match (version, code.and_then(|c| c.parse::<u16>().ok())) {
        (Some(v), Some(code)) if v.starts_with("HTTP/") => code,
        _ => return Err(format!("not an HTTP answer: {:?}", truncate(&line, 80))),
    };
    if (200..300).contains(&code) {
        Ok(())
    } else {
        let reason = reason.unwrap_or_default().trim();
        Err(format!("HTTP {code} {reason}").trim_end().to_owned())
    }
}

/// The first line of the answer, without its line ending.
fn read_status_line(stream: &mut TcpStream, deadline: Instant) -> io::Result<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 512];
    loop {
        if let Some(end) = buf.iter().position(|&b| b == b'\n') {
            buf.truncate(end);
            let line = String::from_utf8_lossy(&buf);
            return Ok(line.trim_end_matches('\r').to_owned());
        }
        if buf.len() > MAX_STATUS_LINE {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "status line too long",
            ));
        }
        stream.set_read_timeout(Some(left(deadline)))?;
        match stream.read(&mut chunk)? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// A TCP connection to `addr` (`ip:port` or `host:port`) within `budget`,
/// trying each address it resolves to.
fn connect(addr: &str, budget: Duration) -> Result<TcpStream, String> {
    let deadline = Instant::now() + budget;
    let addrs: Vec<SocketAddr> = addr
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve `{addr}`: {e}"))?
        .collect();
    let mut last = format!("`{addr}` resolves to no address");
    for socket in addrs {
        match TcpStream::connect_timeout(&socket, left(deadline)) {
            Ok(stream) => return Ok(stream),
            Err(e) => last = describe(&e),
        }
    }
    Err(last)
}

/// The time until `deadline`, at least [`MIN_ATTEMPT`].
fn left(deadline: Instant) -> Duration {
    deadline
        .saturating_duration_since(Instant::now())
        .max(MIN_ATTEMPT)
}

/// A socket error in a few words.
fn describe(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused".to_owned(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => "no answer (timed out)".to_owned(),
        io::ErrorKind::ConnectionReset => "connection reset".to_owned(),
        io::ErrorKind::ConnectionAborted => "connection aborted".to_owned(),
        io::ErrorKind::UnexpectedEof => "connection closed without an answer".to_owned(),
        _ => e.to_string(),
    }
}

/// At most `max` characters of `s`.
fn truncate(s: &str, max: usize) -> &str {
    s.char_indices().nth(max).map_or(s, |(i, _)| &s[..i])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::sync::mpsc::{Receiver, channel};

    const OK: &str = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
    const UNAVAILABLE: &str =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    const ERROR: &str =
        "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

    /// An HTTP server on 127.0.0.1 that answers its n-th connection with
    /// `answers[n]` (the last one from then on) and reports each request's
    /// head.
    fn serve(answers: &[&'static str]) -> (SocketAddr, Receiver<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let answers = answers.to_vec();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for (n, stream) in listener.incoming().enumerate() {
                let Ok(mut stream) = stream else { continue };
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                    head.push(byte[0]);
                }
                let _ = tx.send(String::from_utf8_lossy(&head).into_owned());
                let answer = answers[n.min(answers.len() - 1)];
                let _ = stream.write_all(answer.as_bytes());
            }
        });
        (addr, rx)
    }

    /// A port on 127.0.0.1 that nothing listens on.
    fn closed_port() -> SocketAddr {
        TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
    }

    fn http(url: String) -> Health {
        Health::Http { url }
    }

    #[test]
    fn an_http_service_that_answers_2xx_is_healthy_after_one_plain_get() {
        let (addr, requests) = serve(&[OK]);
        let url = format!("http://{addr}/api/version");
        probe(&http(url), Duration::from_secs(5)).unwrap();
        let head = requests.recv().unwrap();
        assert!(head.starts_with("GET /api/version HTTP/1.1\r\n"), "{head}");
        assert!(head.contains(&format!("\r\nHost: {addr}\r\n")), "{head}");
        assert!(head.contains("\r\nConnection: close\r\n"), "{head}");
        assert!(requests.try_recv().is_err(), "one request only");
    }

    #[test]
    fn an_http_service_is_polled_until_it_answers_2xx() {
        let (addr, requests) = serve(&[UNAVAILABLE, UNAVAILABLE, OK]);
        probe(
            &http(format!("http://{addr}/health")),
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(requests.try_iter().count(), 3);
    }

    #[test]
    fn an_http_service_that_keeps_failing_reports_its_last_status_after_the_timeout() {
        let (addr, requests) = serve(&[ERROR]);
        let started = Instant::now();
        let err = probe(
            &http(format!("http://{addr}/healthz")),
            Duration::from_millis(600),
        )
        .unwrap_err();
        assert_eq!(
            err,
            format!("GET http://{addr}/healthz: HTTP 500 Internal Server Error after 600 ms")
        );
        assert!(started.elapsed() >= Duration::from_millis(600));
        assert!(requests.try_iter().count() >= 2, "it was retried");
    }

    #[test]
    fn a_closed_port_reports_connection_refused_after_the_timeout() {
        let addr = closed_port();
        let started = Instant::now();
        let err = probe(
            &http(format!("http://{addr}/api/version")),
            Duration::from_millis(600),
        )
        .unwrap_err();
        assert_eq!(
            err,
            format!("GET http://{addr}/api/version: connection refused after 600 ms")
        );
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(600), "{waited:?}");
        assert!(waited < Duration::from_secs(5), "{waited:?}");
    }

    #[test]
    fn a_server_that_accepts_but_never_answers_times_out() {
        // The kernel accepts connections into the backlog; nobody answers.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let err = probe(&http(format!("http://{addr}/")), Duration::from_millis(600)).unwrap_err();
        assert_eq!(
            err,
            format!("GET http://{addr}/: no answer (timed out) after 600 ms")
        );
        drop(listener);
    }

    #[test]
    fn only_plain_http_urls_are_probed() {
        let err = probe(
            &http("https://127.0.0.1:1/health".into()),
            Duration::from_secs(30),
        )
        .unwrap_err();
        assert_eq!(
            err,
            "GET https://127.0.0.1:1/health: only `http://` URLs can be probed \
             (a TLS listener gets a TCP health check)"
        );
    }

    #[test]
    fn urls_are_split_into_address_host_header_and_path() {
        assert_eq!(
            HttpTarget::parse("http://127.0.0.1:11434/api/version").unwrap(),
            HttpTarget {
                addr: "127.0.0.1:11434".into(),
                host: "127.0.0.1:11434".into(),
                path: "/api/version".into(),
            }
        );
        assert_eq!(
            HttpTarget::parse("HTTP://[::1]:8080?x=1#frag").unwrap(),
            HttpTarget {
                addr: "[::1]:8080".into(),
                host: "[::1]:8080".into(),
                path: "/?x=1".into(),
            }
        );
        assert_eq!(HttpTarget::parse("http://[::1]").unwrap().addr, "[::1]:80");
        assert_eq!(HttpTarget::parse("http://127.0.0.1").unwrap().path, "/");
        assert!(HttpTarget::parse("http://user@127.0.0.1/").is_err());
    }

    #[test]
    fn a_tcp_service_is_healthy_once_it_accepts_a_connection() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        probe(&Health::Tcp { addr }, Duration::from_secs(5)).unwrap();
    }

    #[test]
    fn a_tcp_port_that_stays_closed_fails_after_the_timeout() {
        let addr = closed_port().to_string();
        let err = probe(
            &Health::Tcp { addr: addr.clone() },
            Duration::from_millis(600),
        )
        .unwrap_err();
        assert_eq!(
            err,
            format!("connect {addr}: connection refused after 600 ms")
        );
    }

    #[test]
    fn a_tcp_service_that_comes_up_late_is_still_healthy() {
        let addr = closed_port();
        let late = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            let listener = TcpListener::bind(addr).unwrap();
            std::thread::sleep(Duration::from_secs(2));
            drop(listener);
        });
        probe(
            &Health::Tcp {
                addr: addr.to_string(),
            },
            Duration::from_secs(5),
        )
        .unwrap();
        late.join().unwrap();
    }

    #[test]
    fn a_unit_without_a_health_check_passes_at_once() {
        let unit = ServiceUnit {
            host: "mac".into(),
            id: crate::render::ServiceId::KeyRotation,
            manager: crate::render::units::Manager::Systemd {
                unit: "privai-rotate-keys.timer".into(),
            },
            health: None,
            health_timeout_secs: 0,
            definition: None,
        };
        probe_unit(&unit).unwrap();
    }

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(human(Duration::from_secs(30)), "30 s");
        assert_eq!(human(Duration::from_millis(600)), "600 ms");
        assert_eq!(human(Duration::from_millis(1500)), "1.5 s");
        assert_eq!(human(Duration::ZERO), "0 ms");
    }
}
