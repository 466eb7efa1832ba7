//! rtcwire-stun against coturn, a STUN/TURN server nobody here wrote, both
//! ways: our messages to its server, its client to our server.

use std::net::{SocketAddr, UdpSocket};
use std::process::Command;
use std::time::{Duration, Instant};

use rtcwire_interop::{COTURN_PASSWORD, COTURN_REALM, COTURN_USER, Coturn, require_tool};
use rtcwire_stun::{
    Attribute, AttributeType, BindingClient, BindingEvent, BindingRequestOptions, Class, ClientTransaction,
    IntegrityKey, Message, MessageBuilder, MessageType, Method, TransactionConfig, TransactionId,
    TransactionState,
};

#[path = "../../examples/stun_server.rs"]
#[allow(dead_code)]
mod stun_server;

/// Retransmission settings for loopback: coturn may still be starting when
/// the first request goes out, and the schedule rides that out (about 13 s).
fn loopback_config() -> TransactionConfig {
    TransactionConfig {
        initial_rto: Duration::from_millis(100),
        max_rto: Some(Duration::from_millis(1600)),
        max_transmissions: 12,
        last_wait_multiplier: 16,
        ..TransactionConfig::default()
    }
}

/// Drives a client transaction on a real socket until it completes or times
/// out; returns the response bytes.
fn run_transaction(socket: &UdpSocket, request: Vec<u8>, server: SocketAddr) -> Option<Vec<u8>> {
    let mut tx = ClientTransaction::new(Instant::now(), request, server, loopback_config()).unwrap();
    let mut buf = [0u8; 1500];
    loop {
        while let Some(t) = tx.poll_transmit() {
            socket.send_to(t.contents, t.destination).unwrap();
        }
        let deadline = tx.poll_timeout()?;
        let wait = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1));
        socket.set_read_timeout(Some(wait)).unwrap();
        match socket.recv_from(&mut buf) {
            Ok((n, from)) if from == server => {
                let Ok(msg) = Message::parse(&buf[..n]) else {
                    continue;
                };
                if tx.handle_response(Instant::now(), &msg) {
                    return Some(buf[..n].to_vec());
                }
            }
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                tx.handle_timeout(Instant::now());
                if tx.state() == TransactionState::TimedOut {
                    return None;
                }
            }
            Err(e) => panic!("recv: {e}"),
        }
    }
}

#[test]
#[ignore = "needs coturn: scripts/test installs it and runs the interop tests"]
fn binding_request_built_by_rtcwire_gets_the_right_xor_mapped_address_from_coturn() {
    let coturn = Coturn::start();
    let server: SocketAddr = ([127, 0, 0, 1], coturn.port).into();
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let local = socket.local_addr().unwrap();

    let options = BindingRequestOptions {
        software: Some("rtcwire interop"),
        transaction: loopback_config(),
        ..BindingRequestOptions::default()
    };
    let mut client = BindingClient::new(Instant::now(), &mut rand::rng(), server, options).unwrap();
    let mut buf = [0u8; 1500];
    let event = loop {
        while let Some(t) = client.poll_transmit() {
            socket.send_to(t.contents, t.destination).unwrap();
        }
        if let Some(event) = client.poll_event() {
            break event;
        }
        let deadline = client.poll_timeout().expect("client still running");
        let wait = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1));
        socket.set_read_timeout(Some(wait)).unwrap();
        match socket.recv_from(&mut buf) {
            Ok((n, from)) => {
                assert!(client.handle_receive(Instant::now(), from, &buf[..n]));
            }
            Err(_) => client.handle_timeout(Instant::now()),
        }
    };
    assert_eq!(client.rejected(), 0, "a coturn response failed our checks");
    match event {
        BindingEvent::Mapped { address, .. } => assert_eq!(address, local, "coturn log:\n{}", coturn.log()),
        BindingEvent::Failed(f) => panic!("Binding to coturn failed: {f}\ncoturn log:\n{}", coturn.log()),
    }
}

#[test]
#[ignore = "needs coturn: scripts/test installs it and runs the interop tests"]
fn long_term_credentials_with_coturn_allocate() {
    let coturn = Coturn::start();
    let server: SocketAddr = ([127, 0, 0, 1], coturn.port).into();
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let allocate = MessageType::new(Method::ALLOCATE, Class::Request);

    // First Allocate without credentials: coturn challenges with 401, REALM
    // and NONCE (RFC 8656 section 7.2, RFC 8489 section 9.2).
    let mut buf = [0u8; 512];
    let mut b = MessageBuilder::new(&mut buf, allocate, TransactionId::random(&mut rand::rng())).unwrap();
    b.add(&Attribute::RequestedTransport(17)).unwrap();
    b.add_fingerprint().unwrap();
    let request = b.finish().to_vec();
    let response = run_transaction(&socket, request, server)
        .unwrap_or_else(|| panic!("no answer from coturn\n{}", coturn.log()));
    let msg = Message::parse(&response).unwrap();
    msg.verify_fingerprint().unwrap();
    assert_eq!(msg.class(), Class::Error);
    assert!(matches!(msg.get(AttributeType::ERROR_CODE), Some(Ok(Attribute::ErrorCode(e))) if e.code == 401));
    let Some(Ok(Attribute::Realm(realm))) = msg.get(AttributeType::REALM) else {
        panic!("no REALM: {msg:?}")
    };
    let Some(Ok(Attribute::Nonce(nonce))) = msg.get(AttributeType::NONCE) else {
        panic!("no NONCE: {msg:?}")
    };
    assert_eq!(realm, COTURN_REALM);

    // With the wrong password coturn refuses with 401 again.
    let attempt = |password: &str| {
        let key = IntegrityKey::long_term(COTURN_USER, realm, password);
        let mut buf = [0u8; 512];
        let mut b = MessageBuilder::new(&mut buf, allocate, TransactionId::random(&mut rand::rng())).unwrap();
        b.add(&Attribute::RequestedTransport(17)).unwrap();
        b.add(&Attribute::Lifetime(60)).unwrap();
        b.add(&Attribute::Username(COTURN_USER)).unwrap();
        b.add(&Attribute::Realm(realm)).unwrap();
        b.add(&Attribute::Nonce(nonce)).unwrap();
        b.add_message_integrity(&key).unwrap();
        b.add_fingerprint().unwrap();
        let request = b.finish().to_vec();
        (
            run_transaction(&socket, request, server).expect("coturn answers"),
            key,
        )
    };
    let (wrong, _) = attempt("not-the-password");
    let msg = Message::parse(&wrong).unwrap();
    assert!(matches!(msg.get(AttributeType::ERROR_CODE), Some(Ok(Attribute::ErrorCode(e))) if e.code == 401));

    // With the right one: an allocation, whose response coturn signed with
    // the same long-term key.
    let (ok, key) = attempt(COTURN_PASSWORD);
    let msg = Message::parse(&ok).unwrap();
    assert_eq!(msg.class(), Class::Success, "{msg:?}\n{}", coturn.log());
    msg.verify_integrity(&key).unwrap();
    msg.verify_fingerprint().unwrap();
    let Some(Ok(Attribute::XorRelayedAddress(relayed))) = msg.get(AttributeType::XOR_RELAYED_ADDRESS) else {
        panic!("no XOR-RELAYED-ADDRESS: {msg:?}")
    };
    assert_eq!(relayed.ip(), std::net::Ipv4Addr::LOCALHOST);
    let Some(Ok(Attribute::XorMappedAddress(mapped))) = msg.get(AttributeType::XOR_MAPPED_ADDRESS) else {
        panic!("no XOR-MAPPED-ADDRESS: {msg:?}")
    };
    assert_eq!(mapped, socket.local_addr().unwrap());
    // coturn grants at least its own minimum lifetime, whatever we ask.
    assert!(matches!(msg.get(AttributeType::LIFETIME), Some(Ok(Attribute::Lifetime(l))) if l > 0));
    // And a tampered copy does not verify.
    let mut tampered = ok.clone();
    tampered[30] ^= 0x01;
    assert!(Message::parse(&tampered).unwrap().verify_integrity(&key).is_err());
}

#[test]
#[ignore = "needs coturn: scripts/test installs it and runs the interop tests"]
fn coturn_stunclient_gets_the_right_reflexive_address_from_rtcwire_example_server() {
    require_tool("turnutils_stunclient");
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = socket.local_addr().unwrap().port();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop_server = stop.clone();
    let server = std::thread::spawn(move || {
        stun_server::serve(&socket, |_| stop_server.load(std::sync::atomic::Ordering::SeqCst)).unwrap()
    });

    let output = Command::new("turnutils_stunclient")
        .args(["-p", &port.to_string(), "127.0.0.1"])
        .output()
        .expect("run turnutils_stunclient");
    // Wake the server with one last datagram so it sees the stop flag.
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .send_to(b"stop", ("127.0.0.1", port))
        .unwrap();
    let stats = server.join().unwrap();

    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "turnutils_stunclient failed:\n{stdout}\n{stderr}"
    );
    let reported: SocketAddr = stdout
        .lines()
        .chain(stderr.lines())
        .find_map(|l| l.split("UDP reflexive addr: ").nth(1))
        .unwrap_or_else(|| panic!("no reflexive address in output:\n{stdout}\n{stderr}"))
        .trim()
        .parse()
        .unwrap();
    assert!(stats.answered >= 1, "{stats:?}");
    assert!(
        stats.recent_sources.contains(&reported),
        "coturn's client reports {reported}, our server answered {:?}",
        stats.recent_sources
    );
    assert_eq!(
        stats.dropped, 1,
        "only the wake-up datagram is dropped: {stats:?}"
    );
}
