//! rtcwire against headless Chromium (Debian's `chromium`, driven by
//! playwright-core through `interop/browser/driver.js control`), which
//! nobody here wrote: both offer directions (so both DTLS roles), trickled
//! and complete SDP, audio and video m-lines next to the data channel, the
//! data-channel message matrix (0 B to 256 KiB, text and binary), 1,000
//! ordered messages, unordered, max-retransmits=0 and negotiated channels
//! side by side, closing from either side, 100 MiB from Chromium to
//! rtcwire next to the same transfer Chromium to Chromium, and both
//! relay-only through coturn (`iceTransportPolicy: 'relay'`), which runs in
//! the namespace too, with rtcwire reaching it over UDP and over TLS
//! (`turns:`, on a TCP connection the test opens when rtcwire asks).
//!
//! Chromium must run in a loopback-only network namespace (INTEROP.md):
//! each test creates one, then runs this very test binary again inside it
//! (`ip netns exec`) with [`INSIDE`] set. That run starts the driver (which
//! starts Chromium) and drives the page with JSON lines on the driver's
//! stdin; the page reports candidates, channel events and message digests
//! as JSON lines on its stdout. rtcwire runs in the test process on a UDP
//! socket on 127.0.0.1. Every wait is for an event, with a deadline that
//! fails the test.
//!
//! Messages are generated on both sides from (sequence number, length,
//! binary) by the same function ([`pattern`] here, `pattern` in page.html);
//! the page reports what it receives as length and FNV-1a hash.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::process::Command;
use std::sync::Mutex;
use std::sync::mpsc::{RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};

use rtcwire::{
    ChannelId, ChannelOptions, DtlsTransportState, Event, IceConnectionState, IceGatheringState, IceServer,
    IceTransportPolicy, Input, Output, PeerConnectionState, Receive, Rtc, RtcConfig, SdpType,
    SessionDescription,
};
use rtcwire_interop::{COTURN_PASSWORD, COTURN_USER, Coturn, LinePeer, Netns, repo_root, require_tool};
use serde_json::{Value, json};

/// Set in the environment of the run inside the namespace.
const INSIDE: &str = "RTCWIRE_CHROMIUM_INSIDE";
/// Deadline of one step (a reply, an event).
const STEP: Duration = Duration::from_secs(20);
/// Deadline of a run inside the namespace, seen from outside.
const OUTER_LIMIT: Duration = Duration::from_secs(240);
/// The bulk transfer.
const BULK_BYTES: usize = 100 * 1024 * 1024;
/// SO_RCVBUF of rtcwire's socket.
const RECV_BUFFER: usize = 4 << 20;
/// Its message size.
const BULK_CHUNK: usize = 65536;

/// One Chromium at a time: the throughput test measures, and the machine
/// has two cores.
static SERIAL: Mutex<()> = Mutex::new(());

/// Outside the namespace: creates it, runs `test` again inside it and
/// checks that it passed; returns false. Inside: returns true (the caller
/// runs the test's body).
fn inside_namespace(test: &str) -> bool {
    if std::env::var_os(INSIDE).is_some() {
        return true;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    require_tool("ip");
    require_tool("node");
    assert!(
        std::path::Path::new("/usr/bin/chromium").is_file(),
        "/usr/bin/chromium is missing (Debian package chromium): run scripts/install-deps (scripts/test does)"
    );
    let browser = repo_root().join("interop/browser");
    assert!(
        browser.join("node_modules/playwright-core").is_dir(),
        "{}/node_modules is missing: run scripts/install-deps (scripts/test does), which runs npm ci there",
        browser.display()
    );
    let ns = Netns::create(&format!("rtcwire-chromium-{}", std::process::id()));
    ns.run(&["ip", "link", "set", "lo", "up"]);

    ns.run_test_inside(test, INSIDE, OUTER_LIMIT, |line| {
        if line.starts_with("throughput") || line.starts_with("connect") || line.starts_with("relay:") {
            eprintln!("{line}");
        }
    });
    false
}

/// The bytes of message `seq`: the same function as `pattern` in page.html
/// (text is lowercase ASCII).
fn pattern(seq: usize, len: usize, binary: bool) -> Vec<u8> {
    (0..len)
        .map(|i| {
            if binary {
                ((seq * 31 + i * 7) & 0xff) as u8
            } else {
                b'a' + ((seq * 7 + i) % 26) as u8
            }
        })
        .collect()
}

/// 32-bit FNV-1a, as the page reports received messages.
fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5_u32, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// A message both sides can generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Msg {
    seq: usize,
    len: usize,
    binary: bool,
}

impl Msg {
    fn bytes(self) -> Vec<u8> {
        pattern(self.seq, self.len, self.binary)
    }
    fn json(self) -> Value {
        json!({"seq": self.seq, "len": self.len, "binary": self.binary})
    }
    /// What the page reports when it receives this message.
    fn digest(self) -> (bool, usize, u32) {
        (self.binary, self.len, fnv1a(&self.bytes()))
    }
}

/// The message-size matrix: 0 B, 1 B, 1 KiB, 64 KiB and 256 KiB (Chromium's
/// max-message-size), text and binary.
fn matrix(first_seq: usize) -> Vec<Msg> {
    let mut v = Vec::new();
    for len in [0, 1, 1024, 65536, 262_144] {
        for binary in [false, true] {
            v.push(Msg {
                seq: first_seq + v.len(),
                len,
                binary,
            });
        }
    }
    v
}

/// `n` messages of varied small sizes, text and binary alternating.
fn many(first_seq: usize, n: usize) -> Vec<Msg> {
    (first_seq..first_seq + n)
        .map(|seq| Msg {
            seq,
            len: (seq * 37) % 1500,
            binary: seq % 2 == 1,
        })
        .collect()
}

/// rtcwire on a UDP socket and the page behind the driver, pumped together.
struct Session {
    rtc: Rtc,
    socket: UdpSocket,
    local: SocketAddr,
    /// The TCP connection rtcwire asked for (TURN over TLS), non-blocking.
    tcp: Option<TcpStream>,
    page: LinePeer,
    next_id: u64,
    /// Replies to commands nobody waits for (candidates): checked for errors.
    unawaited: HashSet<u64>,
    replies: HashMap<u64, Result<Value, String>>,
    page_events: VecDeque<Value>,
    rtc_events: VecDeque<Event>,
    /// Forward candidates between the two as they come (trickle).
    trickle: bool,
    page_has_remote: bool,
    held: Vec<Value>,
    /// Messages on this channel are counted, not queued (the bulk transfer).
    bulk: Option<Bulk>,
    timeout: Instant,
    buf: Vec<u8>,
    started: Instant,
    /// When the offer was made.
    offered: Instant,
    /// Every candidate the page reported (`onicecandidate`, `""` at the end).
    page_candidates: Vec<String>,
    /// Every candidate rtcwire reported (`Event::IceCandidate`).
    rtc_candidates: Vec<String>,
    /// The descriptions the page returned (offers, answers).
    page_sdps: Vec<String>,
    /// rtcwire's descriptions (complete, before [`signalled`](Session::signalled)).
    rtc_sdps: Vec<String>,
    /// With trickle: the candidates taken out of rtcwire's description
    /// (those gathered before it, which rtcwire does not trickle again)
    /// still reach the page, through addIceCandidate. Without this the page
    /// learns rtcwire's address from its checks (peer reflexive), which a
    /// relay-only page cannot: its TURN server drops what comes from an
    /// address it has no permission for.
    trickle_sdp_candidates: bool,
}

struct Bulk {
    id: ChannelId,
    reference: Vec<u8>,
    bytes: usize,
    messages: usize,
    last: Option<Instant>,
    bad: usize,
}

impl Session {
    fn start(trickle: bool, media: bool) -> Session {
        Session::start_with(trickle, media, None, RtcConfig::default())
    }

    /// With the page's RTCConfiguration (`None`: no ICE servers) and
    /// rtcwire's configuration.
    fn start_with(trickle: bool, media: bool, page_config: Option<Value>, rtc_config: RtcConfig) -> Session {
        let started = Instant::now();
        let mut command = Command::new("node");
        command
            .arg(repo_root().join("interop/browser/driver.js"))
            .args(["control", "--timeout", "200"]);
        let page = LinePeer::spawn(command);
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let local = socket.local_addr().expect("local address");
        socket
            .set_read_timeout(Some(Duration::from_millis(1)))
            .expect("set_read_timeout");
        // A receive buffer for bursts (as an application that moves bulk
        // data would set; Linux caps it at net.core.rmem_max, 4 MiB on
        // Debian): the default 208 KiB overflows while this single thread,
        // unoptimised in `cargo test`, shares two cores with Chromium.
        let _ = socket2::SockRef::from(&socket).set_recv_buffer_size(RECV_BUFFER);
        let rtc = Rtc::new(rtc_config, Instant::now()).expect("Rtc::new");
        let mut s = Session {
            rtc,
            socket,
            local,
            tcp: None,
            page,
            next_id: 1,
            unawaited: HashSet::new(),
            replies: HashMap::new(),
            page_events: VecDeque::new(),
            rtc_events: VecDeque::new(),
            trickle,
            page_has_remote: false,
            held: Vec::new(),
            bulk: None,
            timeout: Instant::now(),
            buf: vec![0; 65536],
            started,
            offered: started,
            page_candidates: Vec::new(),
            rtc_candidates: Vec::new(),
            page_sdps: Vec::new(),
            rtc_sdps: Vec::new(),
            trickle_sdp_candidates: false,
        };
        let version = s.wait_page("the driver to be ready", Duration::from_secs(30), |e| {
            (e["ev"] == "ready").then(|| e["version"].clone())
        });
        println!("chromium {version}");
        let mut init = json!({"op": "init", "media": media});
        if let Some(config) = page_config {
            init["config"] = config;
        }
        s.call(init);
        s.rtc.add_local_candidate(s.local).expect("add_local_candidate");
        s
    }

    fn fail(&self, what: &str) -> ! {
        panic!(
            "{what}\nrtcwire: {:?}, dtls {:?}, stats {:?}\nunread page events: {:?}\nunread rtcwire events: {:?}\ndriver stderr:\n{}",
            self.rtc.peer_connection_state(),
            self.rtc.dtls_state(),
            self.rtc.stats(),
            self.page_events.iter().take(20).collect::<Vec<_>>(),
            self.rtc_events.iter().take(60).collect::<Vec<_>>(),
            self.page.stderr_tail(60)
        )
    }

    fn send_command(&mut self, mut cmd: Value) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        cmd["id"] = json!(id);
        if self.page.send(&cmd.to_string()).is_err() {
            self.fail("the driver's stdin closed");
        }
        id
    }

    /// Runs a command in the page and returns its result.
    fn call(&mut self, cmd: Value) -> Value {
        let op = cmd["op"].as_str().unwrap_or("?").to_owned();
        let id = self.send_command(cmd);
        let deadline = Instant::now() + STEP;
        loop {
            if let Some(reply) = self.replies.remove(&id) {
                match reply {
                    Ok(v) => return v,
                    Err(e) => self.fail(&format!("page command {op} failed: {e}")),
                }
            }
            if Instant::now() > deadline {
                self.fail(&format!("no reply to page command {op} within {STEP:?}"));
            }
            self.pump();
        }
    }

    /// Sends a command and does not wait for its reply (a failure still
    /// fails the test when it comes).
    fn post(&mut self, cmd: Value) {
        let id = self.send_command(cmd);
        self.unawaited.insert(id);
    }

    fn forward_candidate_to_page(&mut self, c: Value) {
        if self.page_has_remote {
            self.post(c);
        } else {
            self.held.push(c);
        }
    }

    /// The page now has our description: candidates held for it can go.
    fn page_got_remote(&mut self) {
        self.page_has_remote = true;
        for c in std::mem::take(&mut self.held) {
            self.post(c);
        }
    }

    /// One round: rtcwire's output, the page's lines, one datagram or the
    /// passing of time (a millisecond at most).
    fn pump(&mut self) {
        loop {
            match self.rtc.poll_output() {
                Ok(Output::Transmit(t)) => {
                    assert_eq!(t.source, self.local);
                    if let Err(e) = self.socket.send_to(&t.contents, t.destination) {
                        eprintln!("send_to {}: {e}", t.destination);
                    }
                }
                Ok(Output::Event(e)) => self.on_rtc_event(e),
                Ok(Output::Connect(server)) => {
                    let tcp = TcpStream::connect(server)
                        .unwrap_or_else(|e| self.fail(&format!("connect {server}: {e}")));
                    tcp.set_nodelay(true).expect("nodelay");
                    tcp.set_nonblocking(true).expect("nonblocking");
                    self.tcp = Some(tcp);
                    self.rtc
                        .handle_input(Input::Connected(Instant::now(), server))
                        .expect("connected");
                }
                Ok(Output::StreamTransmit(t)) => self.write_tcp(&t.contents),
                Ok(Output::Disconnect(_)) => self.tcp = None,
                Ok(Output::Timeout(at)) => {
                    self.timeout = at;
                    break;
                }
                Err(e) => self.fail(&format!("poll_output: {e}")),
            }
        }
        loop {
            match self.page.try_recv() {
                Ok(line) => self.on_page_line(&line),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => self.fail("the driver exited"),
            }
        }
        if self.read_tcp() {
            return;
        }
        let now = Instant::now();
        if now >= self.timeout {
            self.rtc
                .handle_input(Input::Timeout(now))
                .expect("handle timeout");
            return;
        }
        // The socket's read timeout is a fixed millisecond (set once: a
        // system call per datagram costs), short because the page's lines
        // arrive on another channel.
        match self.socket.recv_from(&mut self.buf) {
            Ok((n, source)) => {
                let input = Input::Receive(
                    Instant::now(),
                    Receive {
                        source,
                        destination: self.local,
                        contents: &self.buf[..n],
                    },
                );
                self.rtc.handle_input(input).expect("handle datagram");
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => self.fail(&format!("recv_from: {e}")),
        }
    }

    /// Writes all of `bytes` to the TCP connection (non-blocking: loopback
    /// rarely pushes back, and then only briefly).
    fn write_tcp(&mut self, mut bytes: &[u8]) {
        let Some(tcp) = &mut self.tcp else {
            self.fail("bytes for a TCP connection rtcwire never asked for");
        };
        while !bytes.is_empty() {
            match tcp.write(bytes) {
                Ok(n) => bytes = &bytes[n..],
                Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::yield_now(),
                Err(e) => panic!("TCP write: {e}"),
            }
        }
    }

    /// Hands what the TCP connection has to rtcwire; whether there was any.
    fn read_tcp(&mut self) -> bool {
        let Some(tcp) = &mut self.tcp else {
            return false;
        };
        let remote = tcp.peer_addr().expect("peer address");
        let input = match tcp.read(&mut self.buf) {
            Ok(0) => {
                self.tcp = None;
                Input::Disconnected(Instant::now(), remote)
            }
            Ok(n) => Input::StreamReceive(Instant::now(), remote, &self.buf[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => return false,
            Err(e) => panic!("TCP read: {e}"),
        };
        self.rtc.handle_input(input).expect("stream input");
        true
    }

    fn on_rtc_event(&mut self, e: Event) {
        if let Event::IceCandidate(c) = &e {
            self.rtc_candidates.push(c.candidate.clone());
        }
        match e {
            Event::IceCandidate(c) if self.trickle => {
                self.forward_candidate_to_page(json!({
                    "op": "candidate",
                    "candidate": c.candidate,
                    "sdpMid": c.sdp_mid,
                    "sdpMLineIndex": c.sdp_m_line_index,
                }));
            }
            Event::ChannelData(d) if self.bulk.as_ref().is_some_and(|b| b.id == d.id) => {
                let b = self.bulk.as_mut().expect("bulk");
                // The page's payload: byte i is i mod 256 (compared with
                // memcmp: the test runs unoptimised).
                if !d.binary || d.data.len() > b.reference.len() || d.data[..] != b.reference[..d.data.len()]
                {
                    b.bad += 1;
                }
                b.bytes += d.data.len();
                b.messages += 1;
                b.last = Some(Instant::now());
            }
            e => self.rtc_events.push_back(e),
        }
    }

    fn on_page_line(&mut self, line: &str) {
        let v: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => self.fail(&format!("driver wrote a line that is not JSON ({e}): {line}")),
        };
        if let (Some(id), None) = (v.get("id").and_then(Value::as_u64), v.get("ev")) {
            let reply = if v["ok"] == true {
                Ok(v["result"].clone())
            } else {
                Err(v["error"].as_str().unwrap_or("?").to_owned())
            };
            if self.unawaited.remove(&id) {
                if let Err(e) = reply {
                    self.fail(&format!("page command #{id} failed: {e}"));
                }
            } else {
                self.replies.insert(id, reply);
            }
            return;
        }
        if v["ev"] == "candidate" {
            self.page_candidates
                .push(v["candidate"].as_str().unwrap_or("").to_owned());
        }
        if v["ev"] == "candidate" && self.trickle {
            let c = v["candidate"].as_str().unwrap_or("");
            if let Err(e) = self.rtc.add_remote_candidate(c) {
                self.fail(&format!("add_remote_candidate({c:?}): {e}"));
            }
        }
        self.page_events.push_back(v);
    }

    /// Waits for the first queued rtcwire event `f` accepts, and takes it.
    fn wait_rtc<T>(&mut self, what: &str, mut f: impl FnMut(&Event) -> Option<T>) -> T {
        let deadline = Instant::now() + STEP;
        loop {
            if let Some((i, t)) = self
                .rtc_events
                .iter()
                .enumerate()
                .find_map(|(i, e)| f(e).map(|t| (i, t)))
            {
                self.rtc_events.remove(i);
                return t;
            }
            if Instant::now() > deadline {
                self.fail(&format!("rtcwire: no {what} within {STEP:?}"));
            }
            self.pump();
        }
    }

    /// Waits for the first queued page event `f` accepts, and takes it.
    fn wait_page<T>(&mut self, what: &str, limit: Duration, mut f: impl FnMut(&Value) -> Option<T>) -> T {
        let deadline = Instant::now() + limit;
        loop {
            if let Some((i, t)) = self
                .page_events
                .iter()
                .enumerate()
                .find_map(|(i, e)| f(e).map(|t| (i, t)))
            {
                self.page_events.remove(i);
                return t;
            }
            if Instant::now() > deadline {
                self.fail(&format!("page: no {what} within {limit:?}"));
            }
            self.pump();
        }
    }

    /// Waits until the rtcwire channel `label` opened; returns its id.
    fn rtc_open(&mut self, label: &str) -> ChannelId {
        self.wait_rtc(&format!("ChannelOpen of {label}"), |e| match e {
            Event::ChannelOpen { id, label: l, .. } if l == label => Some(*id),
            _ => None,
        })
    }

    fn page_open(&mut self, label: &str) {
        self.wait_page(&format!("open of {label}"), STEP, |e| {
            (e["ev"] == "open" && e["label"] == label).then_some(())
        });
    }

    /// The page sends `msgs` on `label`; rtcwire must receive exactly them
    /// (in order if `ordered`).
    fn page_to_rtc(&mut self, label: &str, id: ChannelId, msgs: &[Msg], ordered: bool) {
        let list: Vec<Value> = msgs.iter().map(|m| m.json()).collect();
        self.call(json!({"op": "send", "label": label, "messages": list}));
        let mut got = Vec::new();
        for _ in msgs {
            got.push(self.wait_rtc(
                &format!("message on {label} ({} so far)", got.len()),
                |e| match e {
                    Event::ChannelData(d) if d.id == id => Some((d.binary, d.data.clone())),
                    _ => None,
                },
            ));
        }
        let mut want: Vec<(bool, Vec<u8>)> = msgs.iter().map(|m| (m.binary, m.bytes())).collect();
        if !ordered {
            got.sort();
            want.sort();
        }
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!(
                g == w,
                "{label}: message {i} from Chromium: got {} bytes binary={}, want {} bytes binary={}",
                g.1.len(),
                g.0,
                w.1.len(),
                w.0
            );
        }
    }

    /// rtcwire sends `msgs` on `label`; the page must receive exactly them.
    fn rtc_to_page(&mut self, label: &str, id: ChannelId, msgs: &[Msg], ordered: bool) {
        for m in msgs {
            if let Err(e) = self.rtc.send(id, &m.bytes(), m.binary) {
                self.fail(&format!("rtcwire send on {label} ({m:?}): {e}"));
            }
        }
        self.expect_page_messages(label, msgs, ordered);
    }

    fn expect_page_messages(&mut self, label: &str, msgs: &[Msg], ordered: bool) {
        let mut got = Vec::new();
        for _ in msgs {
            let n = got.len();
            got.push(
                self.wait_page(&format!("message on {label} ({n} so far)"), STEP, |e| {
                    (e["ev"] == "message" && e["label"] == label).then(|| {
                        (
                            e["binary"].as_bool().unwrap_or(false),
                            e["len"].as_u64().unwrap_or(u64::MAX) as usize,
                            e["fnv"].as_u64().unwrap_or(0) as u32,
                        )
                    })
                }),
            );
        }
        let mut want: Vec<(bool, usize, u32)> = msgs.iter().map(|m| m.digest()).collect();
        if !ordered {
            got.sort();
            want.sort();
        }
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(
                g, w,
                "{label}: message {i} from rtcwire: (binary, len, fnv) got {g:?}, want {w:?}"
            );
        }
    }

    /// Chromium offers, rtcwire answers (rtcwire is the DTLS client).
    fn chromium_offers(&mut self, complete: bool) {
        self.offered = Instant::now();
        let offer = self.call(json!({"op": "offer", "complete": complete}));
        let offer = offer.as_str().expect("offer SDP").to_owned();
        self.page_sdps.push(offer.clone());
        if complete {
            assert!(
                offer.contains("a=candidate:"),
                "complete offer without candidates:\n{offer}"
            );
        }
        self.rtc
            .set_remote_description(&SessionDescription::offer(offer.clone()))
            .unwrap_or_else(|e| panic!("set_remote_description(Chromium's offer): {e}\n{offer}"));
        let answer = self.rtc.create_answer().expect("create_answer");
        self.rtc
            .set_local_description(&answer)
            .expect("set_local_description");
        assert_eq!(answer.kind, SdpType::Answer);
        assert!(
            answer.sdp.contains("a=setup:active"),
            "rtcwire's answer:\n{}",
            answer.sdp
        );
        self.rtc_sdps.push(answer.sdp.clone());
        let sdp = self.signalled(&answer.sdp);
        self.call(json!({"op": "remote", "type": "answer", "sdp": sdp}));
        self.page_got_remote();
        self.trickle_candidates_of(&answer.sdp);
    }

    /// rtcwire offers, Chromium answers `active` (rtcwire is the DTLS server).
    fn rtcwire_offers(&mut self, complete: bool) {
        self.offered = Instant::now();
        let offer = self.rtc.create_offer().expect("create_offer");
        self.rtc
            .set_local_description(&offer)
            .expect("set_local_description");
        self.rtc_sdps.push(offer.sdp.clone());
        let sdp = self.signalled(&offer.sdp);
        self.page_got_remote();
        let answer = self.call(json!({"op": "remote", "type": "offer", "sdp": sdp, "complete": complete}));
        self.trickle_candidates_of(&offer.sdp);
        let answer = answer.as_str().expect("answer SDP").to_owned();
        self.page_sdps.push(answer.clone());
        assert!(answer.contains("a=setup:active"), "Chromium's answer:\n{answer}");
        if complete {
            assert!(
                answer.contains("a=candidate:"),
                "complete answer without candidates:\n{answer}"
            );
        }
        self.rtc
            .set_remote_description(&SessionDescription::answer(answer.clone()))
            .unwrap_or_else(|e| panic!("set_remote_description(Chromium's answer): {e}\n{answer}"));
    }

    /// With trickle and `trickle_sdp_candidates`, after the page applied
    /// our description: the candidates [`signalled`](Session::signalled)
    /// took out of it go to the page one by one.
    fn trickle_candidates_of(&mut self, sdp: &str) {
        if !self.trickle || !self.trickle_sdp_candidates {
            return;
        }
        let (mut mid, mut index) = (String::new(), -1_i64);
        for line in sdp.lines() {
            if line.starts_with("m=") {
                index += 1;
            } else if let Some(m) = line.strip_prefix("a=mid:") {
                mid = m.to_owned();
            } else if let Some(c) = line.strip_prefix("a=")
                && c.starts_with("candidate:")
            {
                self.post(json!({"op": "candidate", "candidate": c, "sdpMid": mid, "sdpMLineIndex": index}));
            }
        }
    }

    /// Our SDP as the page gets it: with trickle, without candidates (they
    /// go one by one through addIceCandidate).
    fn signalled(&self, sdp: &str) -> String {
        if !self.trickle {
            assert!(
                sdp.contains("a=candidate:"),
                "complete SDP without candidates:\n{sdp}"
            );
            return sdp.to_owned();
        }
        sdp.split_inclusive('\n')
            .filter(|l| !l.starts_with("a=candidate:") && !l.starts_with("a=end-of-candidates"))
            .collect()
    }

    /// Both ends of `main` open and the connection up; prints the time.
    fn connected(&mut self, name: &str, main: Option<ChannelId>) -> ChannelId {
        let id = self.rtc_open("main");
        if let Some(m) = main {
            assert_eq!(id, m);
        }
        self.page_open("main");
        let ms = self.offered.elapsed().as_secs_f64() * 1000.0;
        let launch = (self.offered - self.started).as_secs_f64() * 1000.0;
        assert_eq!(self.rtc.peer_connection_state(), PeerConnectionState::Connected);
        assert_eq!(self.rtc.dtls_state(), DtlsTransportState::Connected);
        let state = self.call(json!({"op": "state"}));
        println!(
            "connect {name}: {ms:.0} ms from creating the offer to both ends of the channel open (Chromium launch before: {launch:.0} ms); Chromium: {state}"
        );
        id
    }

    fn shutdown(mut self) {
        self.call(json!({"op": "shutdown"}));
        self.page.close_stdin();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            match self.page.recv(deadline) {
                Ok(_) => {}
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => self.fail("the driver did not exit"),
            }
        }
        let status = self.page.wait().expect("wait for the driver");
        assert!(
            status.success(),
            "driver: {status}\n{}",
            self.page.stderr_tail(40)
        );
    }
}

/// Everything after the connection: the matrix, 1,000 ordered messages, more
/// channels of every kind at once, closing from both sides.
fn exercise(s: &mut Session, main: ChannelId) {
    // The matrix, both ways, on the reliable ordered channel.
    s.page_to_rtc("main", main, &matrix(0), true);
    s.rtc_to_page("main", main, &matrix(100), true);
    // 1,000 messages in order, both ways.
    s.page_to_rtc("main", main, &many(1000, 1000), true);
    s.rtc_to_page("main", main, &many(3000, 1000), true);

    // More channels: Chromium opens an unordered one and one with
    // max-retransmits 0, rtcwire two reliable ones, and both a negotiated
    // one with id 300.
    s.call(json!({"op": "channel", "label": "unordered", "ordered": false}));
    s.call(json!({"op": "channel", "label": "rexmit0", "maxRetransmits": 0, "protocol": "p0"}));
    let neg_page = s.call(json!({"op": "channel", "label": "negotiated", "negotiatedId": 300}));
    assert_eq!(neg_page["stream"], 300);
    let rtc_a = s
        .rtc
        .create_data_channel("rtc-a", ChannelOptions::default())
        .expect("create rtc-a");
    let rtc_b = s
        .rtc
        .create_data_channel(
            "rtc-b",
            ChannelOptions {
                ordered: false,
                protocol: "from-rtcwire".into(),
                ..ChannelOptions::default()
            },
        )
        .expect("create rtc-b");
    let neg = s
        .rtc
        .create_data_channel(
            "negotiated",
            ChannelOptions {
                negotiated: Some(300),
                ..ChannelOptions::default()
            },
        )
        .expect("create the negotiated channel");
    let unordered = s.rtc_open("unordered");
    let rexmit0 = s.rtc_open("rexmit0");
    assert!(!s.rtc.channel_options(unordered).expect("options").ordered);
    let o = s.rtc.channel_options(rexmit0).expect("options").clone();
    assert_eq!((o.max_retransmits, o.protocol.as_str()), (Some(0), "p0"));
    assert_eq!(s.rtc_open("rtc-a"), rtc_a);
    assert_eq!(s.rtc_open("rtc-b"), rtc_b);
    assert_eq!(s.rtc_open("negotiated"), neg);
    assert_eq!(s.rtc.channel_stream_id(neg), Some(300));
    for label in ["unordered", "rexmit0", "negotiated"] {
        s.page_open(label);
    }
    for label in ["rtc-a", "rtc-b"] {
        let d = s.wait_page(&format!("datachannel {label}"), STEP, |e| {
            (e["ev"] == "datachannel" && e["label"] == label).then(|| e.clone())
        });
        if label == "rtc-b" {
            assert_eq!(
                (d["ordered"].as_bool(), d["protocol"].as_str()),
                (Some(false), Some("from-rtcwire"))
            );
        }
        s.page_open(label);
    }

    // Several channels at once: everything is sent before anything is awaited.
    let chans = [
        ("unordered", unordered, false),
        ("rexmit0", rexmit0, true),
        ("negotiated", neg, true),
        ("rtc-a", rtc_a, true),
        ("rtc-b", rtc_b, false),
    ];
    let mut sent = Vec::new();
    for (k, &(label, id, ordered)) in chans.iter().enumerate() {
        let to_rtc = many(10_000 + 1000 * k, 100);
        let to_page = many(20_000 + 1000 * k, 100);
        let list: Vec<Value> = to_rtc.iter().map(|m| m.json()).collect();
        s.post(json!({"op": "send", "label": label, "messages": list}));
        for m in &to_page {
            if let Err(e) = s.rtc.send(id, &m.bytes(), m.binary) {
                s.fail(&format!("rtcwire send on {label}: {e}"));
            }
        }
        sent.push((label, id, ordered, to_rtc, to_page));
    }
    for (label, id, ordered, to_rtc, to_page) in &sent {
        let mut got = Vec::new();
        for _ in to_rtc {
            got.push(s.wait_rtc(&format!("message on {label}"), |e| match e {
                Event::ChannelData(d) if d.id == *id => Some((d.binary, d.data.clone())),
                _ => None,
            }));
        }
        let mut want: Vec<(bool, Vec<u8>)> = to_rtc.iter().map(|m| (m.binary, m.bytes())).collect();
        if !ordered {
            got.sort();
            want.sort();
        }
        assert!(got == want, "{label}: the 100 messages from Chromium differ");
        s.expect_page_messages(label, to_page, *ordered);
    }

    // Chromium closes rtc-a (rtcwire's); rtcwire closes unordered (Chromium's).
    s.call(json!({"op": "close", "label": "rtc-a"}));
    s.wait_rtc("ChannelClosed of rtc-a", |e| {
        (*e == Event::ChannelClosed(rtc_a)).then_some(())
    });
    s.wait_page("close of rtc-a", STEP, |e| {
        (e["ev"] == "close" && e["label"] == "rtc-a").then_some(())
    });
    s.rtc.close_data_channel(unordered).expect("close unordered");
    s.wait_page("close of unordered", STEP, |e| {
        (e["ev"] == "close" && e["label"] == "unordered").then_some(())
    });
    s.wait_rtc("ChannelClosed of unordered", |e| {
        (*e == Event::ChannelClosed(unordered)).then_some(())
    });
    // The others still work.
    s.page_to_rtc("main", main, &many(50_000, 10), true);
    s.rtc_to_page("rtc-b", rtc_b, &many(51_000, 10), false);
}

/// Chromium offers audio, video and a data channel with trickled
/// candidates; rtcwire answers (DTLS client).
#[test]
#[ignore = "needs headless Chromium, node and root (network namespaces): scripts/test installs them and runs the interop tests"]
fn chromium_offers_media_and_data_trickle_rtcwire_answers() {
    if !inside_namespace("chromium_offers_media_and_data_trickle_rtcwire_answers") {
        return;
    }
    let mut s = Session::start(true, true);
    s.call(json!({"op": "channel", "label": "main"}));
    s.chromium_offers(false);
    let main = s.connected("chromium-offers trickle", None);
    exercise(&mut s, main);
    let media = s.rtc.stats().media;
    println!("media received from Chromium: {media:?}");
    assert!(
        media.rtp_packets_received > 0,
        "no SRTP packet authenticated: {media:?}"
    );
    s.shutdown();
}

/// rtcwire offers a data channel with complete SDP; Chromium answers
/// `active` (rtcwire is the DTLS server) with a complete answer.
#[test]
#[ignore = "needs headless Chromium, node and root (network namespaces): scripts/test installs them and runs the interop tests"]
fn rtcwire_offers_complete_sdp_chromium_answers() {
    if !inside_namespace("rtcwire_offers_complete_sdp_chromium_answers") {
        return;
    }
    let mut s = Session::start(false, false);
    let main = s
        .rtc
        .create_data_channel("main", ChannelOptions::default())
        .expect("create main");
    s.rtcwire_offers(true);
    let main = s.connected("rtcwire-offers complete", Some(main));
    exercise(&mut s, main);
    s.shutdown();
}

/// Chromium offers with complete SDP, rtcwire answers; then rtcwire offers
/// with trickle on a fresh pair: the other two combinations, with the
/// matrix only.
#[test]
#[ignore = "needs headless Chromium, node and root (network namespaces): scripts/test installs them and runs the interop tests"]
fn other_combinations_complete_offer_and_trickled_rtcwire_offer() {
    if !inside_namespace("other_combinations_complete_offer_and_trickled_rtcwire_offer") {
        return;
    }
    let mut s = Session::start(false, true);
    s.call(json!({"op": "channel", "label": "main"}));
    s.chromium_offers(true);
    let main = s.connected("chromium-offers complete", None);
    s.page_to_rtc("main", main, &matrix(0), true);
    s.rtc_to_page("main", main, &matrix(100), true);
    s.shutdown();

    let mut s = Session::start(true, false);
    let main = s
        .rtc
        .create_data_channel("main", ChannelOptions::default())
        .expect("create main");
    s.rtcwire_offers(false);
    let main = s.connected("rtcwire-offers trickle", Some(main));
    s.page_to_rtc("main", main, &matrix(0), true);
    s.rtc_to_page("main", main, &matrix(100), true);
    s.shutdown();
}

/// Chromium configured with coturn and `iceTransportPolicy: 'relay'`
/// connects to rtcwire, relay-only through the same coturn (so every
/// packet crosses coturn twice: Chromium's allocation to rtcwire's), and
/// exchanges data-channel messages both ways: first Chromium offers with
/// trickled candidates, then rtcwire offers complete SDP on a fresh pair.
/// Only relay candidates may be signalled on either side, and both ends of
/// the selected pair must be relayed on both sides.
#[test]
#[ignore = "needs headless Chromium, node, coturn and root (network namespaces): scripts/test installs them and runs the interop tests"]
fn chromium_relay_only_through_coturn_connects_to_rtcwire_and_exchanges_messages() {
    if !inside_namespace("chromium_relay_only_through_coturn_connects_to_rtcwire_and_exchanges_messages") {
        return;
    }
    // Inside the namespace, on its 127.0.0.1.
    let coturn = Coturn::start();
    let url = format!("turn:127.0.0.1:{}?transport=udp", coturn.port);
    let page_config = json!({
        "iceServers": [{"urls": url, "username": COTURN_USER, "credential": COTURN_PASSWORD}],
        "iceTransportPolicy": "relay",
    });
    let rtc_config = || RtcConfig {
        ice_servers: vec![IceServer::turn(&url, COTURN_USER, COTURN_PASSWORD)],
        ice_transport_policy: IceTransportPolicy::Relay,
        ..RtcConfig::default()
    };

    // Chromium offers, candidates trickled both ways; rtcwire answers.
    let mut s = Session::start_with(true, false, Some(page_config.clone()), rtc_config());
    s.trickle_sdp_candidates = true;
    s.call(json!({"op": "channel", "label": "main"}));
    s.chromium_offers(false);
    let main = s.connected("relay chromium-offers trickle", None);
    relayed_exchange(&mut s, main, &coturn);
    s.shutdown();

    // rtcwire offers complete SDP once its allocation is granted; Chromium
    // answers with complete SDP (after its own allocation).
    let mut s = Session::start_with(false, false, Some(page_config), rtc_config());
    let main = s
        .rtc
        .create_data_channel("main", ChannelOptions::default())
        .expect("create main");
    s.wait_rtc("gathering complete (the TURN allocation)", |e| {
        (*e == Event::IceGatheringStateChange(IceGatheringState::Complete)).then_some(())
    });
    s.rtcwire_offers(true);
    let main = s.connected("relay rtcwire-offers complete", Some(main));
    relayed_exchange(&mut s, main, &coturn);
    s.shutdown();
    drop(coturn);

    // rtcwire reaches coturn over TLS (`turns:`), Chromium over UDP; Chromium
    // offers with trickle.
    let coturn = Coturn::start_tls();
    let (tls_port, tls_config) = coturn.tls.clone().expect("TLS listener");
    let mut turns = IceServer::turn(
        &format!("turns:127.0.0.1:{tls_port}"),
        COTURN_USER,
        COTURN_PASSWORD,
    );
    turns.tls_server_name = Some("localhost".to_owned());
    let url = format!("turn:127.0.0.1:{}?transport=udp", coturn.port);
    let page_config = json!({
        "iceServers": [{"urls": url, "username": COTURN_USER, "credential": COTURN_PASSWORD}],
        "iceTransportPolicy": "relay",
    });
    let rtc_config = RtcConfig {
        ice_servers: vec![turns],
        ice_transport_policy: IceTransportPolicy::Relay,
        tls_config: Some(tls_config),
        ..RtcConfig::default()
    };
    let mut s = Session::start_with(true, false, Some(page_config), rtc_config);
    s.trickle_sdp_candidates = true;
    s.call(json!({"op": "channel", "label": "main"}));
    s.chromium_offers(false);
    let main = s.connected("relay chromium-offers trickle, rtcwire over turns:", None);
    assert!(s.tcp.is_some(), "rtcwire's relay is not on its TLS connection");
    relayed_exchange(&mut s, main, &coturn);
    s.shutdown();
}

/// Messages for the relayed connection: 0 B to 64 KiB, text and binary.
fn relay_matrix(first_seq: usize) -> Vec<Msg> {
    let mut v = Vec::new();
    for len in [0, 1, 1200, 16_384, 65_536] {
        for binary in [false, true] {
            v.push(Msg {
                seq: first_seq + v.len(),
                len,
                binary,
            });
        }
    }
    v
}

/// Checks that the connection is relayed on both sides, sends messages both
/// ways and checks again.
fn relayed_exchange(s: &mut Session, main: ChannelId, coturn: &Coturn) {
    check_relay_only(s, coturn);
    s.page_to_rtc("main", main, &relay_matrix(0), true);
    s.rtc_to_page("main", main, &relay_matrix(100), true);
    s.page_to_rtc("main", main, &many(1000, 200), true);
    s.rtc_to_page("main", main, &many(2000, 200), true);
    check_relay_only(s, coturn);
}

/// A candidate (`candidate:...`, or `a=candidate:...` in SDP): transport,
/// address and type.
fn parse_candidate(line: &str) -> Option<(String, SocketAddr, String)> {
    let f: Vec<&str> = line.split_whitespace().collect();
    let address = format!("{}:{}", f.get(4)?, f.get(5)?).parse().ok()?;
    let typ = f.get(7).filter(|_| f[6] == "typ")?;
    Some((f[2].to_lowercase(), address, (*typ).to_owned()))
}

/// Chromium and rtcwire signalled relay candidates only (UDP, on coturn's
/// 127.0.0.1), and both ends of each side's selected pair are relayed.
/// Trickled candidates and those in descriptions (`candidate:...`).
fn signalled_candidates(trickled: &[String], sdps: &[String]) -> Vec<String> {
    let in_sdps = sdps
        .iter()
        .flat_map(|sdp| sdp.lines())
        .filter_map(|l| l.strip_prefix("a="))
        .filter(|l| l.starts_with("candidate:"));
    trickled
        .iter()
        .map(String::as_str)
        .filter(|c| !c.is_empty())
        .chain(in_sdps)
        .map(str::to_owned)
        .collect()
}

/// The end of coturn's log (its start is a long banner).
fn coturn_tail(coturn: &Coturn) -> String {
    let log = coturn.log();
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

fn check_relay_only(s: &mut Session, coturn: &Coturn) {
    let page = signalled_candidates(&s.page_candidates, &s.page_sdps);
    let rtc = signalled_candidates(&s.rtc_candidates, &s.rtc_sdps);
    let mut relayed_by_page = HashSet::new();
    for c in &page {
        match parse_candidate(c) {
            Some((transport, address, typ)) if typ == "relay" && transport == "udp" => {
                relayed_by_page.insert(address);
            }
            _ => s.fail(&format!(
                "Chromium (iceTransportPolicy 'relay') signalled a candidate that is not a UDP relay one: {c}\nall: {page:#?}\ncoturn:\n{}",
                coturn_tail(coturn)
            )),
        }
    }
    let mut relayed_by_rtc = HashSet::new();
    for c in &rtc {
        match parse_candidate(c) {
            Some((_, address, typ)) if typ == "relay" => {
                relayed_by_rtc.insert(address);
            }
            _ => s.fail(&format!(
                "rtcwire (relay-only) signalled a candidate that is not a relay one: {c}\nall: {rtc:#?}"
            )),
        }
    }
    if relayed_by_page.is_empty() || relayed_by_rtc.is_empty() {
        s.fail(&format!(
            "relay candidates: Chromium {relayed_by_page:?}, rtcwire {relayed_by_rtc:?}\ncoturn:\n{}",
            coturn_tail(coturn)
        ));
    }
    // Not even for a moment (end-of-candidates trickled before the offer
    // once failed rtcwire's ICE at once).
    if let Some(e) = s.rtc_events.iter().find(|e| {
        matches!(
            e,
            Event::IceConnectionStateChange(IceConnectionState::Failed)
                | Event::PeerConnectionStateChange(PeerConnectionState::Failed)
        )
    }) {
        s.fail(&format!("rtcwire reported {e:?}"));
    }
    let Some((local, remote)) = s.rtc.selected_pair() else {
        s.fail("rtcwire has no selected pair")
    };
    if local == s.local || !relayed_by_rtc.contains(&local) || !relayed_by_page.contains(&remote) {
        s.fail(&format!(
            "rtcwire's selected pair {local} -> {remote} is not relay to relay (own relayed {relayed_by_rtc:?}, host {}, Chromium's relayed {relayed_by_page:?})",
            s.local
        ));
    }
    let state = s.call(json!({"op": "state"}));
    let pairs = state["pairs"].as_array().cloned().unwrap_or_default();
    let relay_to_relay = |p: &Value| p["local"]["type"] == "relay" && p["remote"]["type"] == "relay";
    if pairs.is_empty() || !pairs.iter().all(relay_to_relay) {
        s.fail(&format!(
            "Chromium's nominated pairs are not relay to relay: {state}"
        ));
    }
    println!(
        "relay: rtcwire {local} -> {remote}; Chromium's candidates {relayed_by_page:?}, nominated {}",
        Value::from(pairs)
    );
}

/// 100 MiB from Chromium to rtcwire over one reliable ordered channel, then
/// the same from Chromium to Chromium (driver mode loopback-throughput) in
/// the same namespace; prints both.
#[test]
#[ignore = "needs headless Chromium, node and root (network namespaces): scripts/test installs them and runs the interop tests"]
fn throughput_100_mib_chromium_to_rtcwire_and_chromium_to_chromium() {
    if !inside_namespace("throughput_100_mib_chromium_to_rtcwire_and_chromium_to_chromium") {
        return;
    }
    let mut s = Session::start(false, false);
    s.call(json!({"op": "channel", "label": "main"}));
    s.chromium_offers(true);
    let main = s.connected("throughput", None);
    s.bulk = Some(Bulk {
        id: main,
        reference: (0..BULK_CHUNK).map(|i| (i & 0xff) as u8).collect(),
        bytes: 0,
        messages: 0,
        last: None,
        bad: 0,
    });
    let (cpu0, udp0) = (cpu_seconds(), udp_counters());
    let t0 = Instant::now();
    s.post(json!({"op": "bulk", "label": "main", "bytes": BULK_BYTES, "chunk": BULK_CHUNK, "highWater": 4 * 1024 * 1024}));
    let deadline = t0 + Duration::from_secs(120);
    while s.bulk.as_ref().is_some_and(|b| b.bytes < BULK_BYTES) {
        if Instant::now() > deadline {
            let b = s.bulk.as_ref().expect("bulk");
            s.fail(&format!(
                "only {} of {BULK_BYTES} bytes arrived in 120 s",
                b.bytes
            ));
        }
        s.pump();
    }
    let b = s.bulk.take().expect("bulk");
    let secs = (b.last.expect("last") - t0).as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    let udp1 = udp_counters();
    let udp: Vec<String> = udp1
        .iter()
        .zip(&udp0)
        .map(|((k, v1), (_, v0))| format!("{k} {}", v1 - v0))
        .collect();
    println!(
        "throughput: datagrams dropped at rtcwire's socket (receive buffer {} KiB): {}",
        socket2::SockRef::from(&s.socket).recv_buffer_size().unwrap_or(0) / 1024,
        socket_drops(s.local.port())
    );
    println!(
        "throughput: rtcwire's process used {cpu:.1} s of CPU in {secs:.1} s ({:.0} % of one core); UDP in the namespace meanwhile: {}",
        100.0 * cpu / secs,
        udp.join(", ")
    );
    assert_eq!(b.bytes, BULK_BYTES);
    assert_eq!(b.messages, BULK_BYTES / BULK_CHUNK);
    assert_eq!(b.bad, 0, "messages with wrong bytes");
    let rtc_mbps = BULK_BYTES as f64 / 1e6 / secs;
    let stats = s.rtc.stats();
    println!(
        "throughput Chromium -> rtcwire: {BULK_BYTES} bytes in {secs:.3} s = {rtc_mbps:.1} MB/s (transport {:?}, sctp {:?})",
        stats.transport, stats.sctp
    );
    s.shutdown();

    // The same transfer between two peer connections in one Chromium page.
    let out = Command::new("node")
        .arg(repo_root().join("interop/browser/driver.js"))
        .args([
            "loopback-throughput",
            "--mib",
            &(BULK_BYTES >> 20).to_string(),
            "--timeout",
            "150",
        ])
        .output()
        .expect("run driver.js loopback-throughput");
    assert!(
        out.status.success(),
        "loopback-throughput failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("loopback-throughput's JSON line");
    let c2c = v["mb_per_s"].as_f64().expect("mb_per_s");
    println!(
        "throughput Chromium -> Chromium: {} bytes in {} s = {c2c:.1} MB/s (connect {} ms)",
        v["bytes"], v["transfer_s"], v["connect_ms"]
    );
    println!(
        "throughput ratio rtcwire / Chromium-to-Chromium: {:.2}",
        rtc_mbps / c2c
    );
    eprintln!("throughput Chromium -> rtcwire {rtc_mbps:.1} MB/s; Chromium -> Chromium {c2c:.1} MB/s");
    // A coarse check, with room for the machine's load changing between the
    // two transfers (measured ratios: 0.74 to 1.33).
    assert!(
        rtc_mbps >= 0.4 * c2c,
        "Chromium -> rtcwire ({rtc_mbps:.1} MB/s) is far slower than Chromium -> Chromium ({c2c:.1} MB/s)"
    );
}

/// CPU time (user and system) this process used so far, from /proc.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses): utime and
    // stime are the 12th and 13th, in clock ticks (100 per second).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<f64> = rest
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0.0))
        .collect();
    (fields.get(11).unwrap_or(&0.0) + fields.get(12).unwrap_or(&0.0)) / 100.0
}

/// The namespace's UDP counters (/proc/net/snmp): datagrams in and out,
/// receive-buffer overflows.
fn udp_counters() -> Vec<(String, i64)> {
    let snmp = std::fs::read_to_string("/proc/net/snmp").unwrap_or_default();
    let mut lines = snmp.lines().filter(|l| l.starts_with("Udp:"));
    let (Some(names), Some(values)) = (lines.next(), lines.next()) else {
        return Vec::new();
    };
    names
        .split_whitespace()
        .zip(values.split_whitespace())
        .skip(1)
        .filter(|(n, _)| {
            matches!(
                *n,
                "InDatagrams" | "OutDatagrams" | "RcvbufErrors" | "SndbufErrors"
            )
        })
        .map(|(n, v)| (n.to_owned(), v.parse().unwrap_or(0)))
        .collect()
}

/// Datagrams the kernel dropped at the UDP socket bound to this port on
/// 127.0.0.1 (last column of /proc/net/udp).
fn socket_drops(port: u16) -> String {
    let table = std::fs::read_to_string("/proc/net/udp").unwrap_or_default();
    let local = format!("0100007F:{port:04X}");
    table
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some(local.as_str()))
        .and_then(|l| l.split_whitespace().last())
        .unwrap_or("?")
        .to_owned()
}
