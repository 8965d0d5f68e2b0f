//! A test network of Linux network namespaces: one namespace per host or
//! device, each with one veth leg into a bridge that lives in a namespace
//! of its own. Addresses come from [`SUBNET`], which exists only inside
//! these namespaces; no namespace has a default route, so nothing started
//! in one can reach any other address. Everything is removed on drop:
//! the processes started in the namespaces are killed, the namespaces
//! deleted.

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The test network's subnet (a /24): the bridge side has no address,
/// hosts get `.1`, `.2`, … in the order they are added.
pub const SUBNET: [u8; 3] = [172, 31, 250];

/// Networks made by this process so far (names unique per test).
static NETWORKS: AtomicUsize = AtomicUsize::new(0);

/// One host of the network: its namespace and its address.
#[derive(Debug, Clone)]
pub struct Host {
    /// The host's name in the test (e.g. `laptop`).
    pub name: String,
    /// Its network namespace (`ip netns` name).
    pub ns: String,
    /// Its address on the test network.
    pub ip: Ipv4Addr,
}

/// A test network; torn down on drop.
pub struct Net {
    prefix: String,
    bridge: String,
    hosts: Vec<Host>,
    names: Vec<(String, Ipv4Addr)>,
    children: Vec<(String, Child)>,
}

/// Runs `ip ARGS`, panicking with its output when it fails.
fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("running ip");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        crate::tools::show(&out)
    );
}

impl Net {
    /// An empty network: the bridge's namespace and its bridge, up.
    pub fn new() -> Self {
        let n = NETWORKS.fetch_add(1, Ordering::SeqCst);
        let prefix = format!("pv{}n{n}", std::process::id());
        let bridge = format!("{prefix}-br");
        ip(&["netns", "add", &bridge]);
        let net = Self {
            prefix,
            bridge,
            hosts: Vec::new(),
            names: Vec::new(),
            children: Vec::new(),
        };
        ip(&["-n", &net.bridge, "link", "add", "br0", "type", "bridge"]);
        ip(&["-n", &net.bridge, "link", "set", "br0", "up"]);
        net
    }

    /// Adds a host named `name`: a namespace with loopback up and `eth0`
    /// (its address on the test network, no default route) plugged into
    /// the bridge. Its `/etc/resolv.conf` is a file of its own (`ip netns
    /// exec` binds `/etc/netns/NS/resolv.conf` over it), so that nothing
    /// run there changes this machine's.
    pub fn add_host(&mut self, name: &str) -> Host {
        let index = self.hosts.len();
        let ns = format!("{}-{index}", self.prefix);
        ip(&["netns", "add", &ns]);
        let host = Host {
            name: name.to_owned(),
            ns: ns.clone(),
            ip: Ipv4Addr::new(SUBNET[0], SUBNET[1], SUBNET[2], index as u8 + 1),
        };
        self.hosts.push(host.clone());
        let etc = PathBuf::from("/etc/netns").join(&ns);
        std::fs::create_dir_all(&etc).unwrap();
        std::fs::write(etc.join("resolv.conf"), "").unwrap();
        self.write_hosts_file(&host);
        let leg = format!("h{index}");
        ip(&[
            "link",
            "add",
            "eth0",
            "netns",
            &ns,
            "type",
            "veth",
            "peer",
            "name",
            &leg,
            "netns",
            &self.bridge,
        ]);
        ip(&["-n", &self.bridge, "link", "set", &leg, "master", "br0"]);
        ip(&["-n", &self.bridge, "link", "set", &leg, "up"]);
        ip(&["-n", &ns, "link", "set", "lo", "up"]);
        let cidr = format!("{}/24", host.ip);
        ip(&["-n", &ns, "addr", "add", &cidr, "dev", "eth0"]);
        ip(&["-n", &ns, "link", "set", "eth0", "up"]);
        host
    }

    /// Makes `name` resolve to `ip` on every host (their own
    /// `/etc/hosts`, which `ip netns exec` binds over this machine's).
    pub fn name(&mut self, name: &str, ip: Ipv4Addr) {
        self.names.push((name.to_owned(), ip));
        for host in &self.hosts {
            self.write_hosts_file(host);
        }
    }

    fn write_hosts_file(&self, host: &Host) {
        let mut text = String::from("127.0.0.1 localhost\n");
        for (name, ip) in &self.names {
            text.push_str(&format!("{ip} {name}\n"));
        }
        std::fs::write(
            PathBuf::from("/etc/netns").join(&host.ns).join("hosts"),
            text,
        )
        .unwrap();
    }

    /// Starts `program ARGS` in `host`'s namespace with `env`, its output
    /// appended to `log`; killed when the network is dropped.
    pub fn spawn(
        &mut self,
        host: &Host,
        program: &std::path::Path,
        args: &[String],
        env: &[(&str, &str)],
        log: &std::path::Path,
    ) -> u32 {
        let file = File::options().create(true).append(true).open(log).unwrap();
        let mut cmd = host.command(program);
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", program.display()));
        let pid = child.id();
        self.children.push((program.display().to_string(), child));
        pid
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for (_, child) in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        for host in &self.hosts {
            let _ = Command::new("ip").args(["netns", "del", &host.ns]).status();
            let _ = std::fs::remove_dir_all(PathBuf::from("/etc/netns").join(&host.ns));
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.bridge])
            .status();
    }
}

/// Runs `f` on a thread that has entered the network namespace `ns` (an
/// `ip netns` name): the sockets it opens (and the threads it starts)
/// belong to that namespace.
pub fn enter<T: Send>(ns: &str, f: impl FnOnce() -> T + Send) -> T {
    let path = PathBuf::from("/run/netns").join(ns);
    std::thread::scope(|s| {
        s.spawn(|| {
            let file =
                File::open(&path).unwrap_or_else(|e| panic!("opening {}: {e}", path.display()));
            rustix::thread::move_into_link_name_space(
                std::os::fd::AsFd::as_fd(&file),
                Some(rustix::thread::LinkNameSpaceType::Network),
            )
            .unwrap_or_else(|e| panic!("entering {ns}: {e}"));
            f()
        })
        .join()
        .unwrap()
    })
}

impl Host {
    /// `program` to be run in this host's namespace (`ip netns exec`).
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.ns]).arg(program);
        cmd
    }

    /// Runs `program ARGS` in this host's namespace to the end.
    pub fn run(&self, program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> Output {
        self.command(program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    /// Runs `f` on a thread that has entered this host's namespace: the
    /// sockets it opens (and the threads it starts) belong to the host.
    pub fn enter<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        enter(&self.ns, f)
    }

    /// A TCP listener on `ip:port` of this host, accepting and closing
    /// connections until the test ends; none when something listens on
    /// every address of the port already.
    pub fn listen_at(&self, ip: Ipv4Addr, port: u16) {
        let listener = match self.enter(|| TcpListener::bind((ip, port))) {
            Ok(listener) => listener,
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => return,
            Err(e) => panic!("listening on {}:{ip}:{port}: {e}", self.name),
        };
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                drop(stream);
            }
        });
    }

    /// Whether a TCP connection from this host to `addr` is accepted
    /// within `timeout`.
    pub fn connects(&self, addr: SocketAddr, timeout: Duration) -> bool {
        self.enter(|| TcpStream::connect_timeout(&addr, timeout).is_ok())
    }
}
