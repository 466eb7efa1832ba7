//! What rtcwire's interop tests share: starting peers that nobody here
//! wrote, on loopback, and cleaning up after them.
//!
//! The tests are `#[ignore]`d so that `cargo test --workspace` passes on a
//! machine without those peers; `scripts/test` installs them and runs
//! `cargo test -p rtcwire-interop -- --ignored`.
#![forbid(unsafe_code)]

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

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

/// coturn's `turnserver`, running in the foreground on 127.0.0.1 with the
/// repository's configuration; killed on drop.
pub struct Coturn {
    child: Child,
    /// The UDP (and TCP) port it listens on.
    pub port: u16,
    dir: TempDir,
}

impl Coturn {
    /// Starts coturn on a free port.
    pub fn start() -> Coturn {
        require_tool("turnserver");
        let dir = TempDir::new("coturn");
        let port = free_udp_port();
        let base = include_str!("coturn/turnserver.conf");
        let conf = format!(
            "{base}listening-port={port}\npidfile={pid}\nuserdb={db}\n",
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
        Coturn { child, port, dir }
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
