//! ICE on the server's hot paths: answering one connectivity check, and
//! routing a datagram to its agent among 10,000 on one socket.
//!
//! `cargo bench -p rtcwire-benches --bench ice [-- criterion options]`
//!
//! "answer one check" runs the same request through an ICE-lite agent
//! (authenticate, learn, answer) and through the bare STUN work it cannot
//! avoid (parse, verify integrity and fingerprint, build a signed response),
//! done by rtcwire-stun and by webrtc-rs' sans-IO `rtc-stun`.

use std::hint::black_box;
use std::net::SocketAddr;
use std::time::{Instant, SystemTime};

use criterion::Criterion;
use rtcwire_ice::{Credentials, Demux, IceAgent, IceConfig, IceRole};
use rtcwire_stun::{Attribute, IntegrityKey, Message, MessageBuilder, MessageType, TransactionId};

const GROUPS: [(&str, &str); 2] = [
    ("ice_answer_check", "answer one check"),
    ("ice_demux_10k", "route, 10,000 agents"),
];
const RTCWIRE: &str = "rtcwire";
const RTCWIRE_STUN: &str = "rtcwire-stun only";
const RTC_STUN: &str = "rtc-stun only";
const BY_TUPLE: &str = "rtcwire by 5-tuple";
const IMPLEMENTATIONS: [&str; 4] = [RTCWIRE, RTCWIRE_STUN, RTC_STUN, BY_TUPLE];

const SERVER: &str = "192.0.2.10:443";
const CLIENT: &str = "203.0.113.7:54321";
const CLIENT_UFRAG: &str = "cl1E";
const CLIENT_PWD: &str = "clientpassword0123456789";

/// A Binding request as a browser's controlling agent sends it.
fn check(local_ufrag: &str, local_pwd: &str) -> Vec<u8> {
    let mut buf = [0u8; 256];
    let mut b = MessageBuilder::new(
        &mut buf,
        MessageType::BINDING_REQUEST,
        TransactionId::new([7; 12]),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let username = format!("{local_ufrag}:{CLIENT_UFRAG}");
    for attr in [
        Attribute::Username(&username),
        Attribute::Priority(1_853_817_087),
        Attribute::IceControlling(0x0123_4567_89ab_cdef),
        Attribute::UseCandidate,
    ] {
        b.add(&attr).unwrap_or_else(|e| panic!("{e}"));
    }
    b.add_message_integrity(&IntegrityKey::short_term(local_pwd))
        .unwrap_or_else(|e| panic!("{e}"));
    b.add_fingerprint().unwrap_or_else(|e| panic!("{e}"));
    b.finish().to_vec()
}

fn lite_agent(now: Instant) -> IceAgent {
    let mut agent = IceAgent::new(
        IceConfig {
            lite: true,
            max_responses_per_second: u32::MAX,
            seed: Some(1),
            ..IceConfig::default()
        },
        IceRole::Controlled,
    );
    agent
        .add_host_candidate(now, SERVER.parse().unwrap_or_else(|e| panic!("{e}")))
        .unwrap_or_else(|e| panic!("{e}"));
    agent
        .set_remote_credentials(
            now,
            Credentials {
                ufrag: CLIENT_UFRAG.into(),
                pwd: CLIENT_PWD.into(),
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
    while agent.poll_event().is_some() {}
    agent
}

/// The STUN work alone, with rtcwire-stun.
fn answer_stun(key: &IntegrityKey, request: &[u8], source: SocketAddr, out: &mut [u8]) -> usize {
    let msg = Message::parse(request).unwrap_or_else(|e| panic!("{e}"));
    msg.verify_fingerprint().unwrap_or_else(|e| panic!("{e}"));
    msg.verify_integrity(key).unwrap_or_else(|e| panic!("{e}"));
    let mut b = MessageBuilder::new(out, MessageType::BINDING_SUCCESS, msg.transaction_id())
        .unwrap_or_else(|e| panic!("{e}"));
    b.add(&Attribute::XorMappedAddress(source))
        .unwrap_or_else(|e| panic!("{e}"));
    b.add_message_integrity(key).unwrap_or_else(|e| panic!("{e}"));
    b.add_fingerprint().unwrap_or_else(|e| panic!("{e}"));
    b.len()
}

mod rtc {
    //! The same STUN work with webrtc-rs' sans-IO `rtc-stun` 0.21.
    use std::net::SocketAddr;
    use std::sync::{Arc, LazyLock};

    use rtc_stun::crypto::{RTCCrypto, RTCCryptoProvider};
    use rtc_stun::fingerprint::FINGERPRINT;
    use rtc_stun::integrity::MessageIntegrity;
    use rtc_stun::message::{BINDING_SUCCESS, Message, Setter};
    use rtc_stun::xoraddr::XorMappedAddress;

    static PROVIDER: LazyLock<Arc<dyn RTCCryptoProvider>> = LazyLock::new(|| {
        rtc_stun::crypto::default_provider().unwrap_or_else(|e| panic!("rtc-stun crypto provider: {e}"))
    });

    pub(crate) struct Answerer {
        rx: Message,
        tx: Message,
        integrity: MessageIntegrity<'static>,
        password: String,
    }

    impl Answerer {
        pub(crate) fn new(password: &str) -> Answerer {
            Answerer {
                rx: Message::new(),
                tx: Message::new(),
                integrity: MessageIntegrity::new_short_term_integrity_with_provider(
                    password.to_owned(),
                    PROVIDER.crypto(),
                ),
                password: password.to_owned(),
            }
        }

        pub(crate) fn answer(&mut self, request: &[u8], source: SocketAddr) -> usize {
            let crypto: &dyn RTCCrypto = PROVIDER.crypto();
            self.rx
                .unmarshal_binary(request)
                .unwrap_or_else(|e| panic!("{e}"));
            FINGERPRINT.check(&self.rx).unwrap_or_else(|e| panic!("{e}"));
            MessageIntegrity::check(&mut self.rx, self.password.as_bytes(), crypto)
                .unwrap_or_else(|e| panic!("{e}"));
            let mapped = XorMappedAddress {
                ip: source.ip(),
                port: source.port(),
            };
            let setters: [&dyn Setter; 5] = [
                &BINDING_SUCCESS,
                &self.rx.transaction_id,
                &mapped,
                &self.integrity,
                &FINGERPRINT,
            ];
            // What `Message::build` does, without boxing the setters.
            self.tx.reset();
            self.tx.write_header();
            for s in setters {
                s.add_to(&mut self.tx).unwrap_or_else(|e| panic!("{e}"));
            }
            self.tx.raw.len()
        }
    }
}

fn bench_answer(c: &mut Criterion) {
    let now = Instant::now();
    let source: SocketAddr = CLIENT.parse().unwrap_or_else(|e| panic!("{e}"));
    let server: SocketAddr = SERVER.parse().unwrap_or_else(|e| panic!("{e}"));
    let mut agent = lite_agent(now);
    let credentials = agent.local_credentials().clone();
    let request = check(&credentials.ufrag, &credentials.pwd);

    let mut g = c.benchmark_group(GROUPS[0].0);
    g.bench_function(RTCWIRE, |b| {
        b.iter(|| {
            agent.handle_receive(now, source, server, black_box(&request));
            let answer = agent.poll_transmit().unwrap_or_else(|| panic!("no answer"));
            black_box(answer.contents.len())
        })
    });
    let key = IntegrityKey::short_term(&credentials.pwd);
    g.bench_function(RTCWIRE_STUN, |b| {
        let mut out = [0u8; 128];
        b.iter(|| black_box(answer_stun(&key, black_box(&request), source, &mut out)))
    });
    let mut rtc = rtc::Answerer::new(&credentials.pwd);
    g.bench_function(RTC_STUN, |b| {
        b.iter(|| black_box(rtc.answer(black_box(&request), source)))
    });
    g.finish();
}

fn bench_demux(c: &mut Criterion) {
    const AGENTS: u32 = 10_000;
    let server: SocketAddr = SERVER.parse().unwrap_or_else(|e| panic!("{e}"));
    let mut demux = Demux::new(AGENTS as usize, AGENTS as usize);
    let peer = |i: u32| SocketAddr::from(([10, (i >> 16) as u8, (i >> 8) as u8, i as u8], 40_000));
    for i in 0..AGENTS {
        demux
            .insert(&format!("u{i:07}"), i)
            .unwrap_or_else(|e| panic!("{e}"));
        demux.bind(server, peer(i), i).unwrap_or_else(|e| panic!("{e}"));
    }
    let request = check("u0007777", CLIENT_PWD);
    let dtls = [23u8, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 9, 0, 32];
    assert_eq!(demux.route(server, peer(4242), &request), Some(7777));
    assert_eq!(demux.route(server, peer(4242), &dtls), Some(4242));

    let mut g = c.benchmark_group(GROUPS[1].0);
    g.bench_function(RTCWIRE, |b| {
        b.iter(|| black_box(demux.route(server, peer(4242), black_box(&request))))
    });
    g.bench_function(BY_TUPLE, |b| {
        b.iter(|| black_box(demux.route(server, peer(4242), black_box(&dtls))))
    });
    g.finish();
}

fn main() {
    let started = SystemTime::now();
    let dir = rtcwire_benches::criterion_dir();
    let mut c = Criterion::default().output_directory(&dir).configure_from_args();
    bench_answer(&mut c);
    bench_demux(&mut c);
    c.final_summary();
    rtcwire_benches::print_ratios(&dir, started, "ICE", &GROUPS, &IMPLEMENTATIONS);
}
