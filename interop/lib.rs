//! What rtcwire's interop tests share: starting peers that nobody here
//! wrote, on loopback, and cleaning up after them.
//!
//! The tests are `#[ignore]`d so that `cargo test --workspace` passes on a
//! machine without those peers; `scripts/test` installs them and runs
//! `cargo test -p rtcwire-interop -- --ignored`.
#![forbid(unsafe_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Panics with a message that says how to install `tool` if it is missing.
pub fn require_tool(tool: &str) {
    let found = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(tool).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "`{tool}` is not installed: run scripts/test, which installs it"
    );
}

/// A free UDP port on 127.0.0.1 (the OS picks it; there is a small window in
/// which another process could take it).
pub fn free_udp_port() -> u16 {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind an ephemeral port");
    socket.local_addr().expect("local address").port()
}

/// A fresh temporary folder, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates `$TMPDIR/rtcwire-<name>-<pid>-<n>`.
    pub fn new(name: &str) -> TempDir {
        use std::sync::atomic::{AtomicU32, Ordering};
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("rtcwire-{name}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The long-term credentials configured in `coturn/turnserver.conf`.
pub const COTURN_USER: &str = "rtcwire";
/// Password of [`COTURN_USER`].
pub const COTURN_PASSWORD: &str = "interop-secret";
/// Realm of the coturn configuration.
pub const COTURN_REALM: &str = "rtcwire.test";

/// coturn on 127.0.0.1 with the repository's configuration (and extra
/// lines, and TLS on a certificate generated here if asked), killed on drop.
pub struct Coturn {
    child: Child,
    /// The UDP and TCP port it listens on.
    pub port: u16,
    /// TLS listener and the client configuration that trusts its
    /// certificate, when started with [`Coturn::start_tls`].
    pub tls: Option<(u16, Arc<rustls::ClientConfig>)>,
    dir: TempDir,
}

impl Coturn {
    /// coturn with the repository's configuration on a free port.
    pub fn start() -> Coturn {
        Coturn::start_with(false, "")
    }

    /// coturn with a TLS listener too, on a certificate for `localhost`
    /// generated here.
    pub fn start_tls() -> Coturn {
        Coturn::start_with(true, "")
    }

    /// coturn with `extra` configuration lines, and a TLS listener if
    /// `tls`.
    pub fn start_with(tls: bool, extra: &str) -> Coturn {
        require_tool("turnserver");
        let dir = TempDir::new("coturn-turn");
        let port = free_udp_port();
        let base = include_str!("coturn/turnserver.conf");
        let mut extra = extra.to_owned();
        let mut tls_setup = None;
        let base: String = if tls {
            let certified =
                rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("certificate");
            let cert = dir.path().join("cert.pem");
            let key = dir.path().join("key.pem");
            std::fs::write(&cert, pem("CERTIFICATE", certified.cert.der())).expect("write certificate");
            std::fs::write(&key, pem("PRIVATE KEY", &certified.signing_key.serialize_der()))
                .expect("write key");
            let tls_port = free_udp_port();
            extra = format!(
                "{extra}\ncert={}\npkey={}\ntls-listening-port={tls_port}\n",
                cert.display(),
                key.display()
            );
            let mut roots = rustls::RootCertStore::empty();
            roots.add(certified.cert.der().clone()).expect("trust anchor");
            let config = rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
            tls_setup = Some((tls_port, Arc::new(config)));
            // The shared configuration turns TLS off; this server needs it.
            base.lines()
                .filter(|l| *l != "no-tls")
                .map(|l| format!("{l}\n"))
                .collect()
        } else {
            base.to_owned()
        };
        let conf = format!(
            "{base}{extra}\nlistening-port={port}\npidfile={pid}\nuserdb={db}\n",
            pid = dir.path().join("turnserver.pid").display(),
            db = dir.path().join("turndb").display(),
        );
        let conf_path = dir.path().join("turnserver.conf");
        std::fs::write(&conf_path, conf).expect("write coturn config");
        let log = std::fs::File::create(dir.path().join("turnserver.log")).expect("create coturn log");
        let child = Command::new("turnserver")
            .arg("-c")
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup log"))
            .stderr(log)
            .spawn()
            .expect("start turnserver");
        // Its TCP listeners accept once it is up (the UDP one at the same
        // time): connecting to them is how to know.
        for port in std::iter::once(port).chain(tls_setup.as_ref().map(|(p, _)| *p)) {
            let deadline = Instant::now() + std::time::Duration::from_secs(10);
            while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(
                    Instant::now() < deadline,
                    "coturn never listened on TCP port {port}"
                );
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
        Coturn {
            child,
            port,
            tls: tls_setup,
            dir,
        }
    }

    /// Its UDP/TCP address.
    pub fn addr(&self) -> SocketAddr {
        ([127, 0, 0, 1], self.port).into()
    }

    /// coturn's log so far, for assertion messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("turnserver.log")).unwrap_or_default()
    }
}

impl Drop for Coturn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// PEM for coturn (rcgen's `pem` feature is off in the workspace).
pub fn pem(label: &str, der: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut b64 = String::new();
    for chunk in der.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                b64.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                b64.push('=');
            }
        }
    }
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The repository's root folder.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("interop/ has a parent")
        .to_path_buf()
}

/// The Python of the repository's virtual environment (`.venv`), which
/// `scripts/install-deps` creates with the Python peers (aioice); panics
/// with a message that says so if it is missing.
pub fn venv_python() -> PathBuf {
    let python = repo_root().join(".venv/bin/python");
    assert!(
        python.is_file(),
        "{} is missing: run scripts/install-deps (scripts/test does)",
        python.display()
    );
    python
}

/// A peer process spoken to in lines: written to its standard input, read
/// from its standard output by a thread (so waits can have deadlines), its
/// standard error kept for assertion messages. Killed on drop.
pub struct LinePeer {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
}

impl LinePeer {
    /// Starts `command` with piped standard streams.
    pub fn spawn(mut command: Command) -> LinePeer {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {command:?}: {e}"));
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr_pipe = child.stderr.take().expect("piped stderr");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr_pipe).lines() {
                let Ok(line) = line else { break };
                let mut s = sink.lock().unwrap_or_else(|e| e.into_inner());
                s.push_str(&line);
                s.push('\n');
            }
        });
        LinePeer {
            child,
            stdin,
            lines,
            stderr,
        }
    }

    /// Writes one line (a newline is added) and flushes it.
    pub fn send(&mut self, line: &str) -> std::io::Result<()> {
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "stdin closed"))?;
        stdin.write_all(line.as_bytes())?;
        stdin.write_all(b"\n")?;
        stdin.flush()
    }

    /// Closes its standard input (end of input).
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// The next line of its standard output, waiting until `deadline`:
    /// `Err(Timeout)` past it, `Err(Disconnected)` once the output ended.
    pub fn recv(&self, deadline: Instant) -> Result<String, RecvTimeoutError> {
        self.lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
    }

    /// The next line if one is already there: `Err(Disconnected)` once the
    /// output ended.
    pub fn try_recv(&self) -> Result<String, TryRecvError> {
        self.lines.try_recv()
    }

    /// Waits for the process to exit; call once its output has ended.
    pub fn wait(&mut self) -> std::io::Result<ExitStatus> {
        self.stdin = None;
        self.child.wait()
    }

    /// The last `max_lines` lines of its standard error so far.
    pub fn stderr_tail(&self, max_lines: usize) -> String {
        let s = self.stderr.lock().unwrap_or_else(|e| e.into_inner());
        let lines: Vec<&str> = s.lines().collect();
        let skipped = lines.len().saturating_sub(max_lines);
        let mut out = String::new();
        if skipped > 0 {
            out.push_str(&format!("[... {skipped} earlier lines]\n"));
        }
        for line in &lines[skipped..] {
            out.push_str(line);
            out.push('\n');
        }
        out
    }
}

impl Drop for LinePeer {
    fn drop(&mut self) {
        self.stdin = None;
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A network namespace with only a loopback interface (`ip netns`); its
/// processes are killed and it is deleted on drop, also when a test fails.
pub struct Netns {
    name: String,
}

impl Netns {
    /// Creates the namespace (needs root).
    pub fn create(name: &str) -> Netns {
        let out = Command::new("ip")
            .args(["netns", "add", name])
            .output()
            .expect("run `ip netns add`");
        assert!(
            out.status.success(),
            "`ip netns add {name}` failed (the test needs root): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Netns {
            name: name.to_owned(),
        }
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `args` inside the namespace and asserts that it succeeded.
    pub fn run(&self, args: &[&str]) {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.name])
            .args(args)
            .output()
            .expect("run `ip netns exec`");
        assert!(
            out.status.success(),
            "`ip netns exec {} {}` failed: {}",
            self.name,
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Runs the ignored test `test` of the current test binary again inside
    /// the namespace, with the environment variable `inside` set so that
    /// the inner run does the work; echoes its output (each line also goes
    /// to `on_line`) and asserts that it passed within `limit`.
    pub fn run_test_inside(
        &self,
        test: &str,
        inside: &str,
        limit: std::time::Duration,
        mut on_line: impl FnMut(&str),
    ) {
        let exe = std::env::current_exe().expect("path of this test binary");
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", &self.name])
            .arg(exe)
            .args(["--exact", test, "--ignored", "--nocapture", "--test-threads=1"])
            .env(inside, "1");
        let mut inner = LinePeer::spawn(command);
        let deadline = Instant::now() + limit;
        let mut ran = false;
        loop {
            match inner.recv(deadline) {
                Ok(line) => {
                    ran |= line.starts_with("test result: ok. 1 passed");
                    println!("[{}] {line}", self.name);
                    on_line(&line);
                }
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => panic!(
                    "the run inside {} did not finish within {limit:?}; its stderr:\n{}",
                    self.name,
                    inner.stderr_tail(80)
                ),
            }
        }
        let status = inner.wait().expect("wait for the run inside the namespace");
        assert!(
            status.success(),
            "the run inside {} failed ({status}); its stderr:\n{}",
            self.name,
            inner.stderr_tail(80)
        );
        assert!(ran, "the run inside {} did not run {test}", self.name);
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Whatever still runs in it was started by the test (a peer, if the
        // inner run was killed on its deadline).
        if let Ok(out) = Command::new("ip").args(["netns", "pids", &self.name]).output() {
            let pids = String::from_utf8_lossy(&out.stdout);
            let pids: Vec<&str> = pids.split_whitespace().collect();
            if !pids.is_empty() {
                let _ = Command::new("kill").arg("-KILL").args(&pids).output();
            }
        }
        let _ = Command::new("ip").args(["netns", "delete", &self.name]).output();
    }
}
