//! Runnable examples of rtcwire with real sockets; see the `[[example]]`
//! targets in this package's Cargo.toml.
#![forbid(unsafe_code)]
