//! The `echo_server` example's logic: an HTTP page and WebSocket
//! signalling on TCP, and every browser's peer connection on one UDP
//! socket through [`rtcwire::Server`] (ICE-lite).
//!
//! With a TLS configuration the same is served as HTTPS and WSS.
//!
//! Signalling is one exchange per WebSocket: the page sends its complete
//! offer (raw SDP in a text message), the server answers with its
//! complete answer (raw SDP) or `error: <reason>`. On every data channel,
//! text comes back as `echo: <text>` and binary unchanged.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use rtcwire::{Event, PeerConnectionState, Server, ServerConfig, ServerOutput, SessionDescription};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{mpsc, oneshot};

use crate::Error;
use crate::tls::TlsStream;
use crate::websocket::{self, Decoder, Message};

/// The page, served at `/`.
pub const PAGE: &str = include_str!("../echo_page.html");

/// An offer from a WebSocket and where its answer (or error) goes.
type Offer = (String, oneshot::Sender<Result<String, String>>);

/// A byte stream: TCP, or TLS over TCP.
trait Conn {
    async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize>;
    async fn write_all(&mut self, data: &[u8]) -> io::Result<()>;
    async fn shutdown(&mut self) -> io::Result<()>;
}

impl Conn for TcpStream {
    async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        AsyncReadExt::read(self, buf).await
    }
    async fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        AsyncWriteExt::write_all(self, data).await
    }
    async fn shutdown(&mut self) -> io::Result<()> {
        AsyncWriteExt::shutdown(self).await
    }
}

impl Conn for TlsStream {
    async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        TlsStream::read(self, buf).await
    }
    async fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        TlsStream::write_all(self, data).await
    }
    async fn shutdown(&mut self) -> io::Result<()> {
        TlsStream::shutdown(self).await
    }
}

/// Serves the page and signalling on `listener` (as HTTPS and WSS with
/// `tls`) and the peer connections on `udp` until an error stops it.
pub async fn serve(
    listener: TcpListener,
    udp: UdpSocket,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> Result<(), Error> {
    let (offers, rx) = mpsc::channel::<Offer>(64);
    let rtc = tokio::spawn(run_rtc(udp, rx));
    let http = async {
        loop {
            let (stream, peer) = listener.accept().await?;
            let offers = offers.clone();
            let tls = tls.clone();
            tokio::spawn(async move {
                let result = match tls {
                    Some(config) => match TlsStream::new(stream, config) {
                        Ok(stream) => handle_http(stream, offers).await,
                        Err(e) => Err(e),
                    },
                    None => handle_http(stream, offers).await,
                };
                if let Err(e) = result {
                    eprintln!("echo_server: {peer}: {e}");
                }
            });
        }
    };
    tokio::select! {
        r = rtc => r.map_err(|e| format!("the rtc task ended: {e}"))?,
        r = http => r,
    }
}

/// Owns the UDP socket and the [`Server`]: accepts offers, routes
/// datagrams, runs timers, echoes.
async fn run_rtc(udp: UdpSocket, mut offers: mpsc::Receiver<Offer>) -> Result<(), Error> {
    let local = udp.local_addr()?;
    let mut server = Server::new(ServerConfig::new(local), Instant::now())?;
    let mut buf = vec![0; 65_536];
    loop {
        let wake = loop {
            match server.poll_output() {
                ServerOutput::Transmit(t) => {
                    // A peer we cannot reach is ICE's business, not fatal.
                    let _ = udp.send_to(&t.contents, t.destination).await;
                }
                ServerOutput::Event(id, event) => match event {
                    Event::ChannelOpen { label, .. } => {
                        eprintln!("echo_server: {id}: channel {label:?} open")
                    }
                    Event::ChannelData(d) => {
                        if let Some(rtc) = server.rtc_mut(id) {
                            let sent = if d.binary {
                                rtc.send(d.id, &d.data, true)
                            } else {
                                rtc.send_text(d.id, &format!("echo: {}", String::from_utf8_lossy(&d.data)))
                            };
                            if let Err(e) = sent {
                                eprintln!("echo_server: {id}: echo not sent: {e}");
                            }
                        }
                    }
                    Event::PeerConnectionStateChange(state) => {
                        eprintln!("echo_server: {id}: {state:?}");
                        if matches!(state, PeerConnectionState::Closed | PeerConnectionState::Failed) {
                            server.remove(id);
                            eprintln!("echo_server: {id} removed; {} connection(s)", server.len());
                        }
                    }
                    _ => {}
                },
                ServerOutput::Timeout(at) => break at,
            }
        };
        tokio::select! {
            r = udp.recv_from(&mut buf) => {
                if let Ok((n, source)) = r {
                    // Data-channel records are decrypted in the buffer.
                    server.handle_receive_in_place(Instant::now(), source, local, &mut buf[..n]);
                }
            }
            offer = offers.recv() => {
                let Some((sdp, reply)) = offer else { return Ok(()) };
                let answer = server
                    .accept(&SessionDescription::offer(sdp))
                    .map(|(id, answer)| {
                        eprintln!("echo_server: {id}: offer accepted; {} connection(s)", server.len());
                        answer.sdp
                    })
                    .map_err(|e| e.to_string());
                let _ = reply.send(answer);
            }
            () = tokio::time::sleep_until(tokio::time::Instant::from_std(wake)) => {
                server.handle_timeout(Instant::now());
            }
        }
    }
}

async fn handle_http<S: Conn>(mut stream: S, offers: mpsc::Sender<Offer>) -> Result<(), Error> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let (request, used) = loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(r) = websocket::parse_request(&buf)? {
            break r;
        }
    };
    let path = request.path.split('?').next().unwrap_or("");
    match (request.method.as_str(), path) {
        ("GET", "/ws") if request.is_websocket() => {
            let key = request.header("sec-websocket-key").unwrap_or_default();
            stream
                .write_all(websocket::handshake_response(key).as_bytes())
                .await?;
            let mut decoder = Decoder::default();
            decoder.push(&buf[used..]);
            signalling(stream, decoder, offers).await
        }
        ("GET", "/" | "/index.html") => {
            respond(&mut stream, "200 OK", "text/html; charset=utf-8", PAGE).await
        }
        ("GET", "/favicon.ico") => respond(&mut stream, "204 No Content", "text/plain", "").await,
        _ => respond(&mut stream, "404 Not Found", "text/plain", "not found\n").await,
    }
}

async fn respond<S: Conn>(stream: &mut S, status: &str, kind: &str, body: &str) -> Result<(), Error> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await?;
    Ok(())
}

/// One WebSocket: each text message is an offer, answered in kind.
async fn signalling<S: Conn>(
    mut stream: S,
    mut decoder: Decoder,
    offers: mpsc::Sender<Offer>,
) -> Result<(), Error> {
    let mut chunk = [0u8; 4096];
    loop {
        while let Some(message) = decoder.next_message()? {
            match message {
                Message::Text(sdp) => {
                    let (tx, rx) = oneshot::channel();
                    offers.send((sdp, tx)).await.map_err(|_| "the server stopped")?;
                    let reply = match rx.await {
                        Ok(Ok(answer)) => answer,
                        Ok(Err(e)) => format!("error: {e}"),
                        Err(_) => "error: the server stopped".to_owned(),
                    };
                    stream.write_all(&websocket::text_frame(&reply)).await?;
                }
                Message::Ping(payload) => stream.write_all(&websocket::frame(0xA, &payload, None)).await?,
                Message::Binary(_) => {
                    stream
                        .write_all(&websocket::text_frame("error: send the offer as text"))
                        .await?;
                }
                Message::Close => {
                    stream.write_all(&websocket::close_frame()).await?;
                    return Ok(());
                }
            }
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        decoder.push(&chunk[..n]);
    }
}

/// Where the UDP socket goes by default: the listener's address with any
/// port (a host candidate needs a specific address).
pub fn default_udp(listen: SocketAddr) -> Result<SocketAddr, Error> {
    if listen.ip().is_unspecified() {
        return Err(
            "with an unspecified --listen address, give --udp IP:PORT (the address browsers reach)".into(),
        );
    }
    Ok(SocketAddr::new(listen.ip(), 0))
}
