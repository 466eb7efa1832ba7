//! Offer and answer through files: the raw SDP text, nothing else.
//!
//! A writer writes a temporary file in the same folder and renames it, so
//! a reader never sees half a description; a reader polls every 50 ms
//! until the file exists. This is what `interop/browser/driver.js
//! signal-files` reads and writes, so a browser can be either side.

use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

/// How often a reader looks for the file.
const POLL: Duration = Duration::from_millis(50);

/// Writes `text` to `path` atomically (temporary name, then rename).
pub fn write_atomic(path: &Path, text: &str) -> io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "signal file path has no file name"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

/// Reads `path` as soon as it exists, or fails at `deadline`.
pub fn read_when_exists(path: &Path, deadline: Instant) -> io::Result<String> {
    loop {
        match std::fs::read_to_string(path) {
            Ok(text) => return Ok(text),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("timed out waiting for {}", path.display()),
            ));
        }
        std::thread::sleep(POLL.min(deadline - now));
    }
}
