//! rtcwire-ice against aioice, a full ICE agent in Python that nobody here
//! wrote, over 127.0.0.1: the agents exchange credentials and candidates
//! through `interop/aioice/peer.py`'s standard streams, connect, carry
//! datagrams on the selected pair (aioice echoes ours and sends one of its
//! own), then check consent (RFC 7675) both ways for a while. In both roles,
//! and through the four outcomes of a role conflict (RFC 8445 section
//! 7.3.1.1).

use std::net::{SocketAddr, UdpSocket};
use std::process::Command;
use std::sync::mpsc::{RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};

use rtcwire_ice::{
    Candidate, CandidateKind, Credentials, IceAgent, IceConfig, IceConnectionState, IceEvent, IceRole,
};
use rtcwire_interop::{LinePeer, repo_root, venv_python};
use serde_json::{Value, json};

/// Everything (start, gathering, checks, data, close) must be done by then.
const TIME_LIMIT: Duration = Duration::from_secs(20);
/// What rtcwire sends on the selected pair; aioice sends it back prefixed.
const OUR_DATAGRAM: &[u8] = b"datagram from rtcwire";
/// What aioice sends on its own.
const THEIR_DATAGRAM: &[u8] = b"hello from aioice";
/// After the datagrams, both agents keep checking consent (RFC 7675) for
/// this long: rtcwire every 100 ms, going `Disconnected` after 1 s without
/// an answer, and aioice every 100 ms (peer.py), closing after six misses.
const CONSENT_PHASE: Duration = Duration::from_millis(1500);

fn ice_config() -> IceConfig {
    IceConfig {
        consent_interval: Duration::from_millis(100),
        disconnected_timeout: Duration::from_secs(1),
        ..IceConfig::default()
    }
}

/// One run: rtcwire's agent on a UDP socket and aioice in a child process.
struct Run {
    peer: LinePeer,
    agent: IceAgent,
    socket: UdpSocket,
    local: SocketAddr,
    deadline: Instant,
    /// What happened, for failure messages.
    log: Vec<String>,
}

impl Run {
    fn start(our_role: IceRole, their_role: &str, their_tie_breaker: Option<u64>) -> Run {
        let python = venv_python();
        let script = repo_root().join("interop/aioice/peer.py");
        let mut command = Command::new(python);
        command.arg(script).arg(their_role);
        if let Some(t) = their_tie_breaker {
            command.arg(t.to_string());
        }
        let deadline = Instant::now() + TIME_LIMIT;
        let peer = LinePeer::spawn(command);
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let local = socket.local_addr().unwrap();
        let agent = IceAgent::new(ice_config(), our_role);
        Run {
            peer,
            agent,
            socket,
            local,
            deadline,
            log: vec![format!(
                "rtcwire {our_role:?} on {local}, aioice {their_role} (tie-breaker {their_tie_breaker:?})"
            )],
        }
    }

    /// Panics with `what` and everything known about the run.
    fn fail(&self, what: &str) -> ! {
        panic!(
            "{what}\n\n--- rtcwire: state {:?}, role {:?}, selected {:?}\n{:?}\npairs: {:#?}\n--- log\n{}\n--- aioice stderr\n{}",
            self.agent.state(),
            self.agent.role(),
            self.agent.selected_pair(),
            self.agent.stats(),
            self.agent.pairs(),
            self.log.join("\n"),
            self.peer.stderr_tail(300),
        )
    }

    /// The next JSON message from aioice, before the deadline.
    fn recv_json(&mut self) -> Value {
        match self.peer.recv(self.deadline) {
            Ok(line) => self.parse_line(&line),
            Err(RecvTimeoutError::Timeout) => self.fail("aioice said nothing before the time limit"),
            Err(RecvTimeoutError::Disconnected) => self.fail("aioice exited early"),
        }
    }

    fn parse_line(&mut self, line: &str) -> Value {
        self.log.push(format!("aioice -> {line}"));
        let value: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| self.fail(&format!("aioice printed a line that is not JSON ({e})")));
        if value["type"] == "error" {
            self.fail(&format!("aioice failed: {}", value["message"]));
        }
        value
    }

    fn send_json(&mut self, value: Value) {
        let line = value.to_string();
        self.log.push(format!("aioice <- {line}"));
        if let Err(e) = self.peer.send(&line) {
            self.fail(&format!("could not write to aioice: {e}"));
        }
    }

    fn drain(&mut self) {
        while let Some(t) = self.agent.poll_transmit() {
            if t.source != self.local {
                self.fail(&format!("a transmit from {}, not our socket", t.source));
            }
            self.socket.send_to(&t.contents, t.destination).unwrap();
        }
    }
}

/// Parses one of aioice's candidates (`Candidate.to_sdp()`) into rtcwire's.
fn remote_candidate(sdp: &str) -> Result<Candidate, String> {
    let c = rtcwire_sdp::Candidate::parse(sdp)?;
    if c.protocol() != Some(rtcwire_sdp::Protocol::Udp) || c.component != 1 {
        return Err("not a UDP candidate of component 1".into());
    }
    let address = c.socket_addr().ok_or("not an IP address")?;
    let kind = match c.typ {
        rtcwire_sdp::CandidateType::Host => CandidateKind::Host,
        rtcwire_sdp::CandidateType::ServerReflexive => CandidateKind::ServerReflexive,
        rtcwire_sdp::CandidateType::PeerReflexive => CandidateKind::PeerReflexive,
        rtcwire_sdp::CandidateType::Relay => CandidateKind::Relayed,
    };
    Candidate::remote(kind, address, c.priority, &c.foundation, c.related_socket_addr())
        .ok_or_else(|| "foundation of 1 to 32 characters".into())
}

fn addr_of(value: &Value) -> Option<SocketAddr> {
    let ip = value.get(0)?.as_str()?.parse().ok()?;
    let port = u16::try_from(value.get(1)?.as_u64()?).ok()?;
    Some(SocketAddr::new(ip, port))
}

/// Connects rtcwire in `our_role` to aioice in `their_role` (with a random
/// or the given tie-breaker), exchanges datagrams on the selected pair, and
/// checks both sides' view of it; rtcwire must end up in `final_role` and
/// aioice in the other.
fn connect_and_exchange(
    our_role: IceRole,
    their_role: &str,
    their_tie_breaker: Option<u64>,
    final_role: IceRole,
) {
    let mut run = Run::start(our_role, their_role, their_tie_breaker);
    let now = Instant::now();
    let local = run.local;
    run.agent.add_host_candidate(now, local).unwrap();

    // aioice's description: credentials and its candidates on 127.0.0.1.
    let theirs = run.recv_json();
    if theirs["type"] != "local" {
        run.fail("expected aioice's credentials and candidates first");
    }
    let credentials = Credentials {
        ufrag: theirs["ufrag"].as_str().unwrap_or_default().to_owned(),
        pwd: theirs["pwd"].as_str().unwrap_or_default().to_owned(),
    };
    if let Err(e) = run.agent.set_remote_credentials(now, credentials) {
        run.fail(&format!("rtcwire refuses aioice's credentials: {e}"));
    }
    let sdps: Vec<String> = theirs["candidates"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c.as_str().map(str::to_owned))
        .collect();
    if sdps.len() != 1 {
        run.fail("expected aioice to gather exactly one candidate, on 127.0.0.1");
    }
    let remote = match remote_candidate(&sdps[0]) {
        Ok(c) => c,
        Err(e) => run.fail(&format!("aioice's candidate `{}`: {e}", sdps[0])),
    };
    let their_address = remote.address();
    if their_address.ip() != std::net::Ipv4Addr::LOCALHOST || remote.kind() != CandidateKind::Host {
        run.fail(&format!(
            "aioice's candidate is not a host candidate on 127.0.0.1: {}",
            sdps[0]
        ));
    }
    if let Err(e) = run.agent.add_remote_candidate(now, remote) {
        run.fail(&format!("rtcwire refuses aioice's candidate `{}`: {e}", sdps[0]));
    }
    run.agent.end_of_remote_candidates(now);

    // Ours, from the agent's events.
    let mut candidates = Vec::new();
    let mut events = Vec::new();
    while let Some(event) = run.agent.poll_event() {
        if let IceEvent::LocalCandidate(c) = &event {
            candidates.push(c.to_sdp_attribute());
        }
        events.push(event);
    }
    run.log.push(format!("rtcwire events: {events:?}"));
    let ours = run.agent.local_credentials().clone();
    run.send_json(json!({
        "type": "remote",
        "ufrag": ours.ufrag,
        "pwd": ours.pwd,
        "candidates": candidates,
    }));

    // The event loop: the socket waits until the agent's next timeout.
    let mut buf = [0u8; 2048];
    let mut selected = None;
    let mut sent = false;
    let mut echo = None;
    let mut hello = None;
    let mut aioice_messages = Vec::new();
    // Once the datagrams are through: when the consent phase ends, and what
    // the agent had answered and received by then.
    let mut consent_phase: Option<(Instant, rtcwire_ice::IceStats)> = None;
    let mut consent_responses = 0u32;
    loop {
        run.drain();
        while let Some(event) = run.agent.poll_event() {
            run.log.push(format!("rtcwire event: {event:?}"));
            match event {
                IceEvent::SelectedPairChanged { local, remote } => selected = Some((local, remote)),
                IceEvent::StateChanged(
                    s @ (IceConnectionState::Disconnected
                    | IceConnectionState::Failed
                    | IceConnectionState::Closed),
                ) => run.fail(&format!("rtcwire went {s:?}")),
                _ => {}
            }
        }
        let connected = matches!(
            run.agent.state(),
            IceConnectionState::Connected | IceConnectionState::Completed
        );
        if let (true, false, Some((from, to))) = (connected, sent, selected) {
            if from != local {
                run.fail("the selected pair is not on our socket");
            }
            run.socket.send_to(OUR_DATAGRAM, to).unwrap();
            run.log.push(format!(
                "rtcwire sent {:?} to {to}",
                String::from_utf8_lossy(OUR_DATAGRAM)
            ));
            sent = true;
        }
        if connected && echo.is_some() && hello.is_some() && consent_phase.is_none() {
            run.log.push("datagrams through; checking consent".into());
            consent_phase = Some((Instant::now() + CONSENT_PHASE, run.agent.stats()));
        }
        if consent_phase.is_some_and(|(end, _)| Instant::now() >= end) {
            break;
        }
        // What aioice reports meanwhile: errors end the run at once.
        loop {
            match run.peer.try_recv() {
                Ok(line) => {
                    let value = run.parse_line(&line);
                    aioice_messages.push(value);
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => run.fail("aioice exited early"),
            }
        }
        let now = Instant::now();
        if now >= run.deadline {
            run.fail(&format!(
                "no connection with datagrams both ways within {TIME_LIMIT:?} (sent ours: {sent}, echo: {echo:?}, hello: {hello:?})"
            ));
        }
        let limit = consent_phase.map_or(run.deadline, |(end, _)| end.min(run.deadline));
        let wake = run.agent.poll_timeout().map_or(limit, |t| t.min(limit));
        let wait = wake.saturating_duration_since(now).max(Duration::from_millis(1));
        run.socket.set_read_timeout(Some(wait)).unwrap();
        match run.socket.recv_from(&mut buf) {
            Ok((n, from)) => {
                let packet = &buf[..n];
                // Every Binding success during the consent phase answers one
                // of rtcwire's consent checks.
                if consent_phase.is_some()
                    && rtcwire_stun::Message::parse(packet)
                        .is_ok_and(|m| m.message_type() == rtcwire_stun::MessageType::BINDING_SUCCESS)
                {
                    consent_responses += 1;
                }
                if !run.agent.handle_receive(Instant::now(), from, local, packet) {
                    let text = String::from_utf8_lossy(packet).into_owned();
                    run.log.push(format!("data from {from}: {text:?}"));
                    if from != their_address {
                        run.fail(&format!("data from {from}, not aioice's {their_address}"));
                    }
                    if packet == THEIR_DATAGRAM {
                        hello = Some(text);
                    } else if packet.strip_prefix(b"echo:") == Some(OUR_DATAGRAM) {
                        echo = Some(text);
                    } else {
                        run.fail(&format!("unexpected data {text:?}"));
                    }
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::ConnectionRefused
                ) => {}
            Err(e) => run.fail(&format!("recv: {e}")),
        }
        let now = Instant::now();
        if run.agent.poll_timeout().is_some_and(|t| t <= now) {
            run.agent.handle_timeout(now);
        }
    }

    // rtcwire's view: connected on 127.0.0.1:ours <-> aioice's candidate.
    if run.agent.selected_pair() != Some((local, their_address)) {
        run.fail(&format!(
            "rtcwire selected {:?}, expected {local} <-> {their_address}",
            run.agent.selected_pair()
        ));
    }
    let stats = run.agent.stats();
    if stats.malformed != 0 || stats.unauthenticated != 0 {
        run.fail("rtcwire dropped some of aioice's STUN messages");
    }
    // Consent both ways: the state stayed fresh for longer than the
    // disconnected timeout (checked by the events above), aioice answered
    // our checks and we answered its.
    let before = consent_phase.map(|(_, stats)| stats).unwrap_or_default();
    let answered = stats.checks_answered - before.checks_answered;
    run.log.push(format!(
        "consent phase: {consent_responses} answers from aioice, {answered} of its checks answered"
    ));
    if consent_responses < 3 || answered < 3 {
        run.fail(&format!(
            "too few consent checks in {CONSENT_PHASE:?}: aioice answered {consent_responses} of ours, we answered {answered} of its"
        ));
    }

    // aioice's view, then a clean exit.
    run.send_json(json!({ "type": "close" }));
    run.peer.close_stdin();
    loop {
        match run.peer.recv(run.deadline) {
            Ok(line) => {
                let value = run.parse_line(&line);
                aioice_messages.push(value);
            }
            Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => run.fail("aioice did not exit when told"),
        }
    }
    let status = run.peer.wait().unwrap();
    if !status.success() {
        run.fail(&format!("aioice exited with {status}"));
    }
    let Some(connected) = aioice_messages.iter().find(|m| m["type"] == "connected") else {
        run.fail("aioice never reported a connection");
    };
    let (their_local, their_remote) = (addr_of(&connected["local"]), addr_of(&connected["remote"]));
    if their_local != Some(their_address) || their_remote != Some(local) {
        run.fail(&format!(
            "aioice nominated {their_local:?} <-> {their_remote:?}, expected {their_address} <-> {local}"
        ));
    }
    let they_control = connected["controlling"].as_bool();
    if run.agent.role() != final_role || they_control != Some(final_role == IceRole::Controlled) {
        run.fail(&format!(
            "rtcwire ended {:?} (expected {final_role:?}), aioice controlling: {they_control:?}",
            run.agent.role()
        ));
    }
    let echoed = aioice_messages
        .iter()
        .any(|m| m["type"] == "echoed" && m["data"].as_str().map(str::as_bytes) == Some(OUR_DATAGRAM));
    if !echoed {
        run.fail("aioice did not report echoing our datagram");
    }
    // Shown with --nocapture.
    println!(
        "{}\n--- aioice stderr\n{}",
        run.log.join("\n"),
        run.peer.stderr_tail(300)
    );
}

#[test]
#[ignore = "needs aioice: scripts/test installs it and runs the interop tests"]
fn rtcwire_controlling_connects_to_aioice_controlled_and_exchanges_data() {
    connect_and_exchange(IceRole::Controlling, "controlled", None, IceRole::Controlling);
}

#[test]
#[ignore = "needs aioice: scripts/test installs it and runs the interop tests"]
fn rtcwire_controlled_connects_to_aioice_controlling_and_exchanges_data() {
    connect_and_exchange(IceRole::Controlled, "controlling", None, IceRole::Controlled);
}

/// Both controlling: aioice's tie-breaker 0 loses to any of ours, so aioice
/// yields, on rtcwire's 487 or on rtcwire's check (RFC 8445 section 7.3.1.1).
#[test]
#[ignore = "needs aioice: scripts/test installs it and runs the interop tests"]
fn role_conflict_both_controlling_aioice_yields_to_rtcwire() {
    connect_and_exchange(IceRole::Controlling, "controlling", Some(0), IceRole::Controlling);
}

/// Both controlled: rtcwire's tie-breaker is at least aioice's 0, so rtcwire
/// takes control, on aioice's check or on aioice's 487.
#[test]
#[ignore = "needs aioice: scripts/test installs it and runs the interop tests"]
fn role_conflict_both_controlled_rtcwire_takes_control() {
    connect_and_exchange(IceRole::Controlled, "controlled", Some(0), IceRole::Controlling);
}

/// Both controlling, aioice's tie-breaker the largest: rtcwire yields.
#[test]
#[ignore = "needs aioice: scripts/test installs it and runs the interop tests"]
fn role_conflict_both_controlling_rtcwire_yields_to_aioice() {
    connect_and_exchange(
        IceRole::Controlling,
        "controlling",
        Some(u64::MAX),
        IceRole::Controlled,
    );
}

/// Both controlled, aioice's tie-breaker the largest: aioice takes control.
#[test]
#[ignore = "needs aioice: scripts/test installs it and runs the interop tests"]
fn role_conflict_both_controlled_aioice_takes_control() {
    connect_and_exchange(
        IceRole::Controlled,
        "controlled",
        Some(u64::MAX),
        IceRole::Controlled,
    );
}
