//! Runnable examples of rtcwire with real sockets; see the `[[example]]`
//! targets in this package's Cargo.toml.
//!
//! The programs share what is here, so each is only its own logic:
//! - [`driver`]: an [`rtcwire::Rtc`] on `std::net::UdpSocket`s (and the
//!   TCP connections TURN over TCP and TLS asks for), driven by one
//!   blocking loop (no async runtime);
//! - [`signal`]: offer and answer exchanged through files (raw SDP text,
//!   written atomically), as `interop/browser/driver.js signal-files` does;
//! - [`peer`]: the `peer offer|answer` roles; [`file_transfer`]: send and
//!   receive a file with a SHA-256 check; both are functions here so that
//!   the tests run them in-process;
//! - [`progress`]: a plain `\r` progress bar on stderr;
//! - [`echo`]: the `echo_server` (tokio): page, WebSocket signalling,
//!   one UDP socket for every browser through `rtcwire::Server`;
//!   [`websocket`]: the minimal RFC 6455 server side it uses; [`tls`]:
//!   rustls by hand over tokio for its `--tls`.
#![forbid(unsafe_code)]

#[path = "lib/driver.rs"]
pub mod driver;
#[path = "lib/echo.rs"]
pub mod echo;
#[path = "lib/file_transfer.rs"]
pub mod file_transfer;
#[path = "lib/peer.rs"]
pub mod peer;
#[path = "lib/progress.rs"]
pub mod progress;
#[path = "lib/signal.rs"]
pub mod signal;
#[path = "lib/tls.rs"]
pub mod tls;
#[path = "lib/websocket.rs"]
pub mod websocket;

/// The examples' error type: anything, with a message for the terminal.
pub type Error = Box<dyn std::error::Error + Send + Sync>;
