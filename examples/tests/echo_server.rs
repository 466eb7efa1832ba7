//! The echo server in-process: its page over HTTP, an offer over a
//! hand-made WebSocket client, and a data channel echoed by the ICE-lite
//! `rtcwire::Server`, with an rtcwire peer in place of the browser.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use rtcwire::{ChannelOptions, Event, RtcConfig, SessionDescription};
use rtcwire_examples::driver::Endpoint;
use rtcwire_examples::{echo, websocket};

/// Starts the server on free ports in a thread of its own; returns the
/// HTTP address.
fn start_server() -> SocketAddr {
    start_server_with(None)
}

fn start_server_with(tls: Option<std::sync::Arc<rustls::ServerConfig>>) -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let udp = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            echo::serve(listener, udp, tls).await.unwrap();
        });
    });
    rx.recv().unwrap()
}

fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    String::from_utf8(head).unwrap()
}

/// One unmasked server frame: (opcode, payload).
fn read_frame(stream: &mut TcpStream) -> (u8, Vec<u8>) {
    let mut h = [0u8; 2];
    stream.read_exact(&mut h).unwrap();
    assert_eq!(h[1] & 0x80, 0, "server frames are not masked");
    let len = match h[1] & 0x7f {
        126 => {
            let mut b = [0u8; 2];
            stream.read_exact(&mut b).unwrap();
            u64::from(u16::from_be_bytes(b))
        }
        127 => {
            let mut b = [0u8; 8];
            stream.read_exact(&mut b).unwrap();
            u64::from_be_bytes(b)
        }
        n => u64::from(n),
    };
    let mut payload = vec![0; len as usize];
    stream.read_exact(&mut payload).unwrap();
    (h[0] & 0x0f, payload)
}

#[test]
fn page_websocket_offer_and_echo() {
    let http = start_server();

    let mut s = TcpStream::connect(http).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut page = String::new();
    s.read_to_string(&mut page).unwrap();
    assert!(page.starts_with("HTTP/1.1 200 OK\r\n"), "{page}");
    assert!(page.contains("new RTCPeerConnection({ iceServers: [] })"));

    let mut ws = TcpStream::connect(http).unwrap();
    ws.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    ws.write_all(
        b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .unwrap();
    let head = read_head(&mut ws);
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    assert!(
        head.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"),
        "{head}"
    );

    let mut browser = Endpoint::bind(RtcConfig::default(), &["127.0.0.1:0".parse().unwrap()]).unwrap();
    let chat = browser
        .rtc
        .create_data_channel("chat", ChannelOptions::default())
        .unwrap();
    let offer = browser.rtc.create_offer().unwrap();
    browser.rtc.set_local_description(&offer).unwrap();
    // Masked, and split in two writes: the server must reassemble.
    let frame = websocket::frame(0x1, offer.sdp.as_bytes(), Some([7, 1, 9, 3]));
    let (a, b) = frame.split_at(frame.len() / 3);
    ws.write_all(a).unwrap();
    ws.flush().unwrap();
    ws.write_all(b).unwrap();
    let (opcode, answer) = read_frame(&mut ws);
    assert_eq!(opcode, 1);
    let answer = String::from_utf8(answer).unwrap();
    assert!(answer.contains("a=ice-lite"), "{answer}");
    browser
        .rtc
        .set_remote_description(&SessionDescription::answer(answer))
        .unwrap();
    ws.write_all(&websocket::frame(0x8, &[], Some([1, 2, 3, 4])))
        .unwrap();
    assert_eq!(read_frame(&mut ws).0, 8);

    let deadline = Instant::now() + Duration::from_secs(5);
    let mut replies = Vec::new();
    while replies.len() < 2 {
        assert!(Instant::now() < deadline, "no echo; got {replies:?}");
        match browser.poll(deadline).unwrap() {
            Some(Event::ChannelOpen { id, .. }) if id == chat => {
                browser.rtc.send_text(chat, "hi").unwrap();
                browser.rtc.send(chat, &[1, 2, 3], true).unwrap();
            }
            Some(Event::ChannelData(d)) => replies.push((d.data, d.binary)),
            _ => {}
        }
    }
    assert_eq!(
        replies,
        vec![(b"echo: hi".to_vec(), false), (vec![1, 2, 3], true)]
    );
    browser.close();
}

#[test]
fn a_bad_offer_gets_an_error_and_chromiums_offer_an_answer() {
    let http = start_server();
    let mut ws = TcpStream::connect(http).unwrap();
    ws.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    ws.write_all(b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nSec-WebSocket-Key: abc\r\n\r\n")
        .unwrap();
    read_head(&mut ws);
    ws.write_all(&websocket::frame(0x1, b"not sdp", Some([0, 0, 0, 0])))
        .unwrap();
    let (_, reply) = read_frame(&mut ws);
    assert!(
        reply.starts_with(b"error: "),
        "{}",
        String::from_utf8_lossy(&reply)
    );
    // The same WebSocket takes the next offer: Chromium's, as it writes it.
    let chromium = include_str!("../../crates/sdp/tests/corpus/chromium-156-offer-data.sdp");
    ws.write_all(&websocket::frame(0x1, chromium.as_bytes(), Some([3, 3, 3, 3])))
        .unwrap();
    let (_, reply) = read_frame(&mut ws);
    let answer = String::from_utf8(reply).unwrap();
    assert!(
        answer.contains("a=ice-lite") && answer.contains("m=application"),
        "{answer}"
    );
    // Unmasked client frames end the connection.
    ws.write_all(&websocket::text_frame("x")).unwrap();
    let mut rest = Vec::new();
    let _ = ws.read_to_end(&mut rest);
    let mut s = TcpStream::connect(http).unwrap();
    s.write_all(b"GET /nothing HTTP/1.1\r\n\r\n").unwrap();
    let mut r = String::new();
    s.read_to_string(&mut r).unwrap();
    assert!(r.starts_with("HTTP/1.1 404"), "{r}");
}

#[test]
fn tls_serves_the_page_and_signalling() {
    let cert = rtcwire_examples::tls::self_signed(vec!["localhost".into()]).unwrap();
    let http = start_server_with(Some(cert.config.clone()));
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.certificate.clone()).unwrap();
    let config = std::sync::Arc::new(
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth(),
    );
    let connect = || {
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let conn = rustls::ClientConnection::new(config.clone(), name).unwrap();
        let tcp = TcpStream::connect(http).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        rustls::StreamOwned::new(conn, tcp)
    };

    let mut s = connect();
    s.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let mut page = Vec::new();
    let _ = s.read_to_end(&mut page);
    let page = String::from_utf8(page).unwrap();
    assert!(
        page.starts_with("HTTP/1.1 200 OK\r\n") && page.contains("RTCPeerConnection"),
        "{page}"
    );

    let mut ws = connect();
    ws.write_all(
        b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    )
    .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        ws.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101 "));
    let chromium = include_str!("../../crates/sdp/tests/corpus/chromium-156-offer-data.sdp");
    ws.write_all(&websocket::frame(0x1, chromium.as_bytes(), Some([5, 5, 5, 5])))
        .unwrap();
    let mut h = [0u8; 4];
    ws.read_exact(&mut h).unwrap();
    assert_eq!((h[0], h[1]), (0x81, 126));
    let mut answer = vec![0; usize::from(u16::from_be_bytes([h[2], h[3]]))];
    ws.read_exact(&mut answer).unwrap();
    let answer = String::from_utf8(answer).unwrap();
    assert!(answer.contains("a=ice-lite"), "{answer}");
}
