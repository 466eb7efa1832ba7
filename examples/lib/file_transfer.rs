//! Send a file over a data channel, with a SHA-256 check at the end.
//!
//! The sender offers, the receiver answers, through the same files as
//! [`crate::peer`]. On the channel `file` (reliable, ordered):
//! 1. sender: a text message `file <size> <sha256 hex> <name>`;
//! 2. sender: the bytes, as binary messages of up to 64 KiB;
//! 3. receiver, once it has `size` bytes: `ok <sha256 hex>` or
//!    `mismatch <sha256 hex>` (text); the sender then closes.
//!
//! Flow control: the sender keeps at most [`HIGH_WATER`] bytes queued on
//! the channel (the SCTP send buffer holds 4 MiB) and refills as
//! acknowledgements come in.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ring::digest;
use rtcwire::Event;

use crate::Error;
use crate::peer::{PeerOptions, ended, start_answerer, start_offerer};
use crate::progress::Progress;

/// Largest chunk sent.
pub const CHUNK: usize = 64 * 1024;
/// Most bytes queued on the channel at once.
pub const HIGH_WATER: usize = 2 << 20;
/// How long the receiver waits for the sender to close after replying.
const LINGER: Duration = Duration::from_secs(5);

/// What a transfer did.
#[derive(Debug, Clone)]
pub struct Report {
    /// The file's path (the receiver's copy on the receiving side).
    pub path: PathBuf,
    /// Its size.
    pub bytes: u64,
    /// Its SHA-256, hex.
    pub sha256: String,
    /// From the channel opening to the receiver's verdict.
    pub transfer: Duration,
}

impl Report {
    /// Megabytes (10^6 bytes) per second.
    pub fn mb_per_s(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.transfer.as_secs_f64().max(1e-9)
    }
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 (hex) and size of a file.
pub fn sha256_file(path: &Path) -> std::io::Result<(String, u64)> {
    let mut file = File::open(path)?;
    let mut ctx = digest::Context::new(&digest::SHA256);
    let mut buf = vec![0; 1 << 20];
    let mut size = 0;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        ctx.update(&buf[..n]);
        size += n as u64;
    }
    Ok((hex(ctx.finish().as_ref()), size))
}

/// Sends `path` as the offerer.
pub fn send(path: &Path, options: &PeerOptions, show_progress: bool) -> Result<Report, Error> {
    send_claiming(path, options, show_progress, None)
}

/// [`send`], announcing `claimed` as the SHA-256 instead of the file's
/// (tests use it to see a receiver refuse a file).
#[doc(hidden)]
pub fn send_claiming(
    path: &Path,
    options: &PeerOptions,
    show_progress: bool,
    claimed: Option<&str>,
) -> Result<Report, Error> {
    let (sha256, size) = sha256_file(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let sha256 = claimed.map_or(sha256, str::to_owned);
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| format!("{}: no file name in UTF-8", path.display()))?
        .to_owned();
    let mut file = File::open(path)?;
    options.log(&format!("{name}: {size} bytes, sha256 {sha256}"));

    let mut deadline = Instant::now() + options.timeout;
    let (mut ep, channel) = start_offerer(options, "file", deadline)?;
    let mut progress = Progress::hidden(size);
    let mut buf = vec![0; CHUNK];
    let mut started: Option<Instant> = None;
    let mut sent: u64 = 0;
    let verdict = loop {
        let now = Instant::now();
        if now >= deadline {
            return Err(format!("no progress for {:?}", options.timeout).into());
        }
        if started.is_some() {
            // Refill up to the high-water mark; each acknowledgement wakes
            // the loop.
            let chunk = CHUNK.min(ep.rtc.max_message_size());
            while sent < size && ep.rtc.buffered_amount(channel) < HIGH_WATER {
                let want = chunk.min((size - sent) as usize);
                file.read_exact(&mut buf[..want])
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                ep.rtc.send(channel, &buf[..want], true)?;
                sent += want as u64;
                deadline = now + options.timeout;
            }
            progress.set(sent.saturating_sub(ep.rtc.buffered_amount(channel) as u64));
        }
        let Some(event) = ep.poll(deadline)? else { continue };
        match event {
            Event::ChannelOpen { id, .. } if id == channel => {
                options.log("channel open; sending");
                ep.rtc
                    .send_text(channel, &format!("file {size} {sha256} {name}"))?;
                started = Some(Instant::now());
                deadline = Instant::now() + options.timeout;
                if show_progress {
                    progress = Progress::new("send", size);
                }
            }
            Event::ChannelData(d) if !d.binary => break String::from_utf8_lossy(&d.data).into_owned(),
            e => match ended(options, &e) {
                Some(Ok(why)) => return Err(format!("{why} before the receiver's verdict").into()),
                Some(Err(e)) => return Err(e),
                None => {}
            },
        }
    };
    let transfer = started.map_or(Duration::ZERO, |s| s.elapsed());
    progress.set(size);
    progress.finish();
    ep.close();
    if verdict != format!("ok {sha256}") {
        return Err(format!("the receiver says: {verdict} (sent sha256 {sha256})").into());
    }
    Ok(Report {
        path: path.to_owned(),
        bytes: size,
        sha256,
        transfer,
    })
}

/// The header's fields, checked: the name is one plain file name.
fn parse_header(text: &str) -> Result<(u64, String, String), Error> {
    let mut parts = text.splitn(4, ' ');
    let (Some("file"), Some(size), Some(sha), Some(name)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(format!("not a file header: {text:?}").into());
    };
    let size: u64 = size.parse().map_err(|_| format!("bad size in {text:?}"))?;
    if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("bad sha256 in {text:?}").into());
    }
    // Only a plain name: no folders, no `..`, nothing absolute.
    if name.is_empty() || Path::new(name).file_name().and_then(|n| n.to_str()) != Some(name) {
        return Err(format!("refusing file name {name:?}").into());
    }
    Ok((size, sha.to_ascii_lowercase(), name.to_owned()))
}

/// An incoming file being written.
struct Incoming {
    path: PathBuf,
    size: u64,
    sha256: String,
    out: BufWriter<File>,
    ctx: digest::Context,
    received: u64,
}

/// Receives one file into `dir` as the answerer; fails if its SHA-256
/// does not match the sender's.
pub fn receive(dir: &Path, options: &PeerOptions, show_progress: bool) -> Result<Report, Error> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut deadline = Instant::now() + options.timeout;
    let mut ep = start_answerer(options, deadline)?;
    let mut incoming: Option<Incoming> = None;
    let mut progress = Progress::hidden(0);
    let mut started: Option<Instant> = None;
    let mut result: Option<Result<Report, Error>> = None;
    loop {
        if Instant::now() >= deadline {
            break;
        }
        let Some(event) = ep.poll(deadline)? else { continue };
        match event {
            Event::ChannelOpen { label, .. } => {
                options.log(&format!("channel {label:?} open"));
                started = Some(Instant::now());
            }
            Event::ChannelData(d) if result.is_none() => {
                deadline = Instant::now() + options.timeout;
                match (&mut incoming, d.binary) {
                    (None, false) => {
                        let (size, sha256, name) = parse_header(&String::from_utf8_lossy(&d.data))?;
                        let path = dir.join(&name);
                        options.log(&format!(
                            "receiving {name} ({size} bytes) into {}",
                            path.display()
                        ));
                        let file = File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                        progress = if show_progress {
                            Progress::new("recv", size)
                        } else {
                            Progress::hidden(size)
                        };
                        incoming = Some(Incoming {
                            path,
                            size,
                            sha256,
                            out: BufWriter::with_capacity(1 << 20, file),
                            ctx: digest::Context::new(&digest::SHA256),
                            received: 0,
                        });
                    }
                    (Some(file), true) => {
                        if file.received + d.data.len() as u64 > file.size {
                            return Err("the sender sent more bytes than announced".into());
                        }
                        file.out.write_all(&d.data)?;
                        file.ctx.update(&d.data);
                        file.received += d.data.len() as u64;
                        progress.set(file.received);
                    }
                    (None, true) => return Err("binary data before the file header".into()),
                    (Some(_), false) => return Err("a second header in one transfer".into()),
                }
                if let Some(file) = incoming.as_mut().filter(|f| f.received == f.size) {
                    file.out.flush()?;
                    progress.finish();
                    let got = hex(file.ctx.clone().finish().as_ref());
                    let transfer = started.map_or(Duration::ZERO, |s| s.elapsed());
                    let channel = d.id;
                    if got == file.sha256 {
                        ep.rtc.send_text(channel, &format!("ok {got}"))?;
                        options.log(&format!("OK sha256 {got}"));
                        result = Some(Ok(Report {
                            path: file.path.clone(),
                            bytes: file.size,
                            sha256: got,
                            transfer,
                        }));
                    } else {
                        ep.rtc.send_text(channel, &format!("mismatch {got}"))?;
                        result = Some(Err(format!(
                            "sha256 mismatch: got {got}, the sender announced {}",
                            file.sha256
                        )
                        .into()));
                    }
                    // Give the verdict time to arrive; the sender closes.
                    deadline = Instant::now() + LINGER;
                }
            }
            Event::ChannelClosed(_) if result.is_some() => break,
            e => match ended(options, &e) {
                Some(_) if result.is_some() => break,
                Some(Ok(why)) => return Err(format!("{why} before the whole file arrived").into()),
                Some(Err(e)) => return Err(e),
                None => {}
            },
        }
    }
    ep.close();
    result.unwrap_or_else(|| Err(format!("no progress for {:?}", options.timeout).into()))
}

#[cfg(test)]
mod tests {
    use super::parse_header;

    #[test]
    fn header_names_are_plain_file_names() {
        let sha = "a".repeat(64);
        assert!(parse_header(&format!("file 3 {sha} notes v2.txt")).is_ok());
        for bad in ["../x", "/etc/passwd", "a/b", "..", ""] {
            assert!(parse_header(&format!("file 3 {sha} {bad}")).is_err(), "{bad:?}");
        }
        assert!(parse_header("file x y z").is_err());
    }
}
