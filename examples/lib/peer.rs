//! `peer offer|answer`: a data-channel chat with complete descriptions
//! exchanged through files (see [`crate::signal`]).
//!
//! - The answerer waits for the offer, writes a complete answer, and echoes
//!   every text message on every channel as `echo: <message>` and every
//!   binary message unchanged, until the peer closes (connection or DTLS
//!   closed, or all its channels closed after one opened) or the timeout.
//!   It fails only if the connection fails.
//! - The offerer writes a complete offer with a channel `chat`, waits for
//!   the answer, sends its message when the channel opens and succeeds as
//!   soon as a message containing it comes back; it then closes.
//!
//! Each side writes its description once gathering is complete, so it
//! carries every candidate and end-of-candidates: no trickle. Without ICE
//! servers that is at once; with STUN or TURN servers (`--ice-server`,
//! e.g. relay-only through TURN over TCP or TLS, see
//! [`PeerOptions::from_args`]) once every server answered. While a side
//! waits for the other's file it keeps driving its connection (TURN
//! allocations, TCP connections).

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rtcwire::{
    ChannelOptions, DtlsTransportState, Event, IceGatheringState, IceServer, IceTransportPolicy,
    PeerConnectionState, RtcConfig, SessionDescription,
};

use crate::Error;
use crate::driver::Endpoint;
use crate::signal::write_atomic;

/// What the offerer sends unless told otherwise.
pub const DEFAULT_MESSAGE: &str = "hello from rtcwire";
/// Default for `--timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// How often a side waiting for the other's file looks for it.
const FILE_POLL: Duration = Duration::from_millis(50);

/// Where the descriptions go, which sockets to use, how long to try.
#[derive(Debug, Clone)]
pub struct PeerOptions {
    /// The offer's file.
    pub offer: PathBuf,
    /// The answer's file.
    pub answer: PathBuf,
    /// The whole run, waiting for files included.
    pub timeout: Duration,
    /// One UDP socket (and host candidate) per address.
    pub bind: Vec<SocketAddr>,
    /// The connection's settings: ICE servers, transport policy and TLS
    /// trust anchors included.
    pub config: RtcConfig,
    /// Prefix of the log lines on stderr; empty for none.
    pub log: String,
}

impl PeerOptions {
    /// Defaults: 30 s, one socket on 127.0.0.1 with a free port.
    pub fn new(offer: impl Into<PathBuf>, answer: impl Into<PathBuf>) -> PeerOptions {
        PeerOptions {
            offer: offer.into(),
            answer: answer.into(),
            timeout: DEFAULT_TIMEOUT,
            bind: vec![SocketAddr::from(([127, 0, 0, 1], 0))],
            config: RtcConfig::default(),
            log: String::new(),
        }
    }

    /// Parses `--offer FILE --answer FILE [--timeout S] [--bind ADDR]...`
    /// `[--ice-server URL]... [--username U --credential C] [--relay-only]
    /// [--tls-ca FILE] [--tls-name NAME]`, and returns what it did not
    /// know (positional arguments and other options) for the program.
    ///
    /// - `--ice-server URL` (repeatable): `stun:IP:PORT`,
    ///   `turn:IP:PORT[?transport=udp|tcp]` or `turns:IP:PORT` (TLS over
    ///   TCP), by IP address; `--username U` and `--credential C` are the
    ///   TURN servers' long-term credentials;
    /// - `--relay-only`: gather and use relay candidates only;
    /// - `--tls-ca FILE`: the PEM certificates `turns:` servers are checked
    ///   against (required with `turns:`); `--tls-name NAME`: the name
    ///   their certificates must carry, when not the URL's IP address.
    pub fn from_args(args: impl IntoIterator<Item = String>) -> Result<(PeerOptions, Vec<String>), Error> {
        let mut offer = None;
        let mut answer = None;
        let mut timeout = DEFAULT_TIMEOUT;
        let mut bind = Vec::new();
        let mut urls = Vec::new();
        let (mut username, mut credential) = (None, None);
        let mut relay_only = false;
        let (mut tls_ca, mut tls_name) = (None, None);
        let mut rest = Vec::new();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
            match arg.as_str() {
                "--offer" => offer = Some(PathBuf::from(value("--offer")?)),
                "--answer" => answer = Some(PathBuf::from(value("--answer")?)),
                "--timeout" => {
                    let v = value("--timeout")?;
                    let secs: f64 = v
                        .parse()
                        .map_err(|_| format!("--timeout {v}: not a number of seconds"))?;
                    timeout = Duration::try_from_secs_f64(secs)
                        .map_err(|_| format!("--timeout {v}: out of range"))?;
                }
                "--bind" => {
                    let v = value("--bind")?;
                    bind.push(
                        v.parse()
                            .map_err(|_| format!("--bind {v}: not an address like 127.0.0.1:0"))?,
                    );
                }
                "--ice-server" => urls.push(value("--ice-server")?),
                "--username" => username = Some(value("--username")?),
                "--credential" => credential = Some(value("--credential")?),
                "--relay-only" => relay_only = true,
                "--tls-ca" => tls_ca = Some(PathBuf::from(value("--tls-ca")?)),
                "--tls-name" => tls_name = Some(value("--tls-name")?),
                _ => rest.push(arg),
            }
        }
        let (Some(offer), Some(answer)) = (offer, answer) else {
            return Err("--offer FILE and --answer FILE are required".into());
        };
        let mut options = PeerOptions::new(offer, answer);
        options.timeout = timeout;
        if !bind.is_empty() {
            options.bind = bind;
        }
        let mut turns = false;
        for url in urls {
            let server = if url.starts_with("stun:") {
                IceServer::stun(&url)
            } else if url.starts_with("turn:") || url.starts_with("turns:") {
                let (Some(username), Some(credential)) = (&username, &credential) else {
                    return Err(format!("--ice-server {url} needs --username and --credential").into());
                };
                let mut server = IceServer::turn(&url, username, credential);
                if url.starts_with("turns:") {
                    turns = true;
                    server.tls_server_name.clone_from(&tls_name);
                }
                server
            } else {
                return Err(format!("--ice-server {url}: not a stun:, turn: or turns: URL").into());
            };
            options.config.ice_servers.push(server);
        }
        if relay_only {
            if !options
                .config
                .ice_servers
                .iter()
                .any(|s| s.urls.iter().any(|u| u.starts_with("turn")))
            {
                return Err("--relay-only needs a TURN server (--ice-server turn:... or turns:...)".into());
            }
            options.config.ice_transport_policy = IceTransportPolicy::Relay;
        }
        match tls_ca {
            Some(ca) => options.config.tls_config = Some(crate::tls::client_config_trusting(&ca)?),
            None if turns => return Err("a turns: server needs --tls-ca FILE (PEM) to check it".into()),
            None => {}
        }
        Ok((options, rest))
    }

    pub(crate) fn log(&self, text: &str) {
        if !self.log.is_empty() {
            eprintln!("{}: {text}", self.log);
        }
    }
}

/// Drives `ep` until gathering is complete (at once without ICE servers),
/// so that the description carries every candidate.
fn gather(options: &PeerOptions, ep: &mut Endpoint, deadline: Instant) -> Result<(), Error> {
    loop {
        // The events first, so that the log tells what came before.
        if let Some(event) = ep.drain()? {
            early_event(options, &event)?;
            continue;
        }
        if ep.rtc.ice_gathering_state() == IceGatheringState::Complete {
            break;
        }
        if Instant::now() >= deadline {
            return Err(format!("gathering not complete within {:?}", options.timeout).into());
        }
        if let Some(event) = ep.poll(deadline)? {
            early_event(options, &event)?;
        }
    }
    for e in ep.stream_errors() {
        options.log(e);
    }
    Ok(())
}

/// Drives `ep` (TURN allocations, TCP connections) until `path` exists,
/// then reads it; fails at `deadline`.
fn wait_for_file(
    options: &PeerOptions,
    ep: &mut Endpoint,
    path: &Path,
    deadline: Instant,
) -> Result<String, Error> {
    loop {
        match std::fs::read_to_string(path) {
            Ok(text) => return Ok(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("read {}: {e}", path.display()).into()),
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(format!("timed out waiting for {}", path.display()).into());
        }
        // A file has no event: look again every FILE_POLL, meanwhile
        // serving the connection.
        let look_again = (now + FILE_POLL).min(deadline);
        while Instant::now() < look_again {
            if let Some(event) = ep.poll(look_again)? {
                early_event(options, &event)?;
            }
        }
    }
}

/// What happens before both descriptions are applied: gathering is
/// logged, a failure or close ends the run.
fn early_event(options: &PeerOptions, event: &Event) -> Result<(), Error> {
    match event {
        Event::IceGatheringStateChange(state) => options.log(&format!("gathering {state:?}")),
        e => match ended(options, e) {
            Some(Ok(why)) => return Err(format!("{why} before the descriptions were exchanged").into()),
            Some(Err(e)) => return Err(e),
            None => {}
        },
    }
    Ok(())
}

/// Binds the sockets, reads the offer when it appears, writes the answer.
pub(crate) fn start_answerer(options: &PeerOptions, deadline: Instant) -> Result<Endpoint, Error> {
    let mut ep = Endpoint::bind(options.config.clone(), &options.bind)?;
    options.log(&format!(
        "bound {:?}; waiting for {}",
        ep.local_addrs(),
        options.offer.display()
    ));
    // Gathering before the offer is applied: a peer connection whose
    // only candidates are relays still being allocated fails ICE at once
    // when it learns the peer's candidates and their end.
    gather(options, &mut ep, deadline)?;
    let offer = wait_for_file(options, &mut ep, &options.offer, deadline)?;
    ep.rtc.set_remote_description(&SessionDescription::offer(offer))?;
    let answer = ep.rtc.create_answer()?;
    ep.rtc.set_local_description(&answer)?;
    write_atomic(&options.answer, &answer.sdp)
        .map_err(|e| format!("write {}: {e}", options.answer.display()))?;
    options.log(&format!("wrote {}", options.answer.display()));
    Ok(ep)
}

/// Binds the sockets, creates the channel `label`, writes the offer and
/// applies the answer once it appears. Returns the endpoint and channel.
pub(crate) fn start_offerer(
    options: &PeerOptions,
    label: &str,
    deadline: Instant,
) -> Result<(Endpoint, rtcwire::ChannelId), Error> {
    let mut ep = Endpoint::bind(options.config.clone(), &options.bind)?;
    let channel = ep.rtc.create_data_channel(label, ChannelOptions::default())?;
    gather(options, &mut ep, deadline)?;
    let offer = ep.rtc.create_offer()?;
    ep.rtc.set_local_description(&offer)?;
    // An answer left from an earlier run would be taken for this one's.
    remove_stale(&options.answer)?;
    write_atomic(&options.offer, &offer.sdp)
        .map_err(|e| format!("write {}: {e}", options.offer.display()))?;
    options.log(&format!(
        "bound {:?}; wrote {}; waiting for {}",
        ep.local_addrs(),
        options.offer.display(),
        options.answer.display()
    ));
    let answer = wait_for_file(options, &mut ep, &options.answer, deadline)?;
    ep.rtc
        .set_remote_description(&SessionDescription::answer(answer))?;
    options.log("answer applied");
    Ok((ep, channel))
}

fn remove_stale(path: &Path) -> Result<(), Error> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("remove stale {}: {e}", path.display()).into()),
    }
}

/// How the connection ended, if it did, for both roles: `Some(Ok(why))`
/// when the peer closed, `Some(Err)` when it failed, and logs states.
pub(crate) fn ended(options: &PeerOptions, event: &Event) -> Option<Result<&'static str, Error>> {
    match event {
        Event::PeerConnectionStateChange(state) => {
            options.log(&format!("connection {state:?}"));
            match state {
                PeerConnectionState::Closed => Some(Ok("connection closed")),
                PeerConnectionState::Failed => Some(Err("connection failed".into())),
                _ => None,
            }
        }
        Event::IceConnectionStateChange(state) => {
            options.log(&format!("ICE {state:?}"));
            None
        }
        Event::DtlsStateChange(state) => {
            options.log(&format!("DTLS {state:?}"));
            match state {
                DtlsTransportState::Closed => Some(Ok("DTLS closed")),
                DtlsTransportState::Failed => Some(Err("DTLS failed".into())),
                _ => None,
            }
        }
        Event::SelectedPairChange { local, remote } => {
            options.log(&format!("selected pair {local} <-> {remote}"));
            None
        }
        _ => None,
    }
}

/// What the answerer did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerReport {
    /// Messages echoed.
    pub echoed: u64,
    /// Why it stopped.
    pub stopped: &'static str,
}

/// The answerer: echoes until the peer closes or the timeout.
pub fn answer(options: &PeerOptions) -> Result<AnswerReport, Error> {
    let deadline = Instant::now() + options.timeout;
    let mut ep = start_answerer(options, deadline)?;
    let mut open = HashSet::new();
    let mut had_channel = false;
    let mut echoed = 0;
    let stopped = loop {
        if Instant::now() >= deadline {
            break "timeout";
        }
        let Some(event) = ep.poll(deadline)? else { continue };
        match event {
            Event::ChannelOpen { id, label, .. } => {
                options.log(&format!("channel {label:?} open"));
                open.insert(id);
                had_channel = true;
            }
            Event::ChannelData(d) => {
                let sent = if d.binary {
                    ep.rtc.send(d.id, &d.data, true)
                } else {
                    let text = String::from_utf8_lossy(&d.data);
                    options.log(&format!("got {text:?}"));
                    ep.rtc.send_text(d.id, &format!("echo: {text}"))
                };
                match sent {
                    Ok(()) => echoed += 1,
                    Err(e) => options.log(&format!("echo not sent: {e}")),
                }
            }
            Event::ChannelClosed(id) => {
                open.remove(&id);
                if had_channel && open.is_empty() {
                    break "all channels closed";
                }
            }
            e => match ended(options, &e) {
                Some(Ok(why)) => break why,
                Some(Err(e)) => return Err(e),
                None => {}
            },
        }
    };
    options.log(&format!("stopping: {stopped}; echoed {echoed}"));
    ep.close();
    Ok(AnswerReport { echoed, stopped })
}

/// The offerer: sends `message` on channel `chat` and returns the first
/// message that contains it, then closes.
pub fn offer(options: &PeerOptions, message: &str) -> Result<String, Error> {
    let start = Instant::now();
    let deadline = start + options.timeout;
    let (mut ep, chat) = start_offerer(options, "chat", deadline)?;
    let reply = loop {
        if Instant::now() >= deadline {
            return Err(format!("timed out after {:?} without a reply", options.timeout).into());
        }
        let Some(event) = ep.poll(deadline)? else { continue };
        match event {
            Event::ChannelOpen { id, label, .. } if id == chat => {
                options.log(&format!(
                    "channel {label:?} open after {:?}; sending {message:?}",
                    start.elapsed()
                ));
                ep.rtc.send_text(chat, message)?;
            }
            Event::ChannelData(d) => {
                let text = String::from_utf8_lossy(&d.data).into_owned();
                options.log(&format!("got {text:?}"));
                if text.contains(message) {
                    break text;
                }
            }
            e => match ended(options, &e) {
                Some(Ok(why)) => return Err(format!("{why} before a reply came").into()),
                Some(Err(e)) => return Err(e),
                None => {}
            },
        }
    };
    ep.close();
    Ok(reply)
}
