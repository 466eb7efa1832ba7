//! The server side of WebSocket (RFC 6455), as little as a signalling
//! channel needs: the opening handshake, text frames (masked from the
//! client, unmasked from the server), ping/pong and close. No extensions,
//! no fragmentation of messages beyond reassembling continuation frames.
//! Pure functions over bytes: the caller owns the TCP stream.

use sha1::{Digest, Sha1};

/// The GUID of RFC 6455 section 1.3.
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/// Largest message accepted: an offer with many candidates fits easily.
pub const MAX_MESSAGE: usize = 256 * 1024;

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key` (section 4.2.2).
pub fn accept_key(key: &str) -> String {
    let mut sha = Sha1::new();
    sha.update(key.trim().as_bytes());
    sha.update(GUID.as_bytes());
    base64(&sha.finalize())
}

/// Standard base64 with padding (RFC 4648 section 4).
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// An HTTP request head: method, path and headers (names lowercase).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `GET`, ...
    pub method: String,
    /// `/`, `/ws`, ...
    pub path: String,
    /// Headers, names in lowercase, in order.
    pub headers: Vec<(String, String)>,
}

impl Request {
    /// The first header of this (lowercase) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether it asks for a WebSocket (section 4.2.1).
    pub fn is_websocket(&self) -> bool {
        self.header("upgrade")
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
            && self.header("sec-websocket-key").is_some()
    }
}

/// Parses a request head if `buf` holds a whole one: the request and the
/// bytes it took. `Err` for something that is not HTTP.
pub fn parse_request(buf: &[u8]) -> Result<Option<(Request, usize)>, &'static str> {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return if buf.len() > 16 * 1024 {
            Err("request head too large")
        } else {
            Ok(None)
        };
    };
    let head = std::str::from_utf8(&buf[..end]).map_err(|_| "request head is not UTF-8")?;
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let (Some(method), Some(path)) = (first.next(), first.next()) else {
        return Err("bad request line");
    };
    let mut headers = Vec::new();
    for line in lines {
        let (name, value) = line.split_once(':').ok_or("bad header line")?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    Ok(Some((
        Request {
            method: method.to_owned(),
            path: path.to_owned(),
            headers,
        },
        end + 4,
    )))
}

/// The 101 response that accepts a WebSocket request.
pub fn handshake_response(key: &str) -> String {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
        accept_key(key)
    )
}

/// A text frame from the server (unmasked, FIN set).
pub fn text_frame(text: &str) -> Vec<u8> {
    frame(0x1, text.as_bytes(), None)
}

/// A close frame from the server.
pub fn close_frame() -> Vec<u8> {
    frame(0x8, &[], None)
}

/// A frame with `opcode`, masked with `mask` if given (clients mask).
pub fn frame(opcode: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 14);
    out.push(0x80 | opcode);
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n @ 0..=125 => out.push(mask_bit | n as u8),
        n @ 126..=0xffff => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    match mask {
        Some(m) => {
            out.extend_from_slice(&m);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ m[i % 4]));
        }
        None => out.extend_from_slice(payload),
    }
    out
}

/// A message (or control frame) from the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A whole text message.
    Text(String),
    /// A whole binary message.
    Binary(Vec<u8>),
    /// A ping: answer with a pong of the same payload.
    Ping(Vec<u8>),
    /// The client closes.
    Close,
}

/// Reassembles the client's frames into messages.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
    partial: Option<(u8, Vec<u8>)>,
}

impl Decoder {
    /// Bytes from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole message, `None` if more bytes are needed, or `Err`
    /// for a protocol violation (close the connection then).
    pub fn next_message(&mut self) -> Result<Option<Message>, &'static str> {
        loop {
            let Some((fin, opcode, payload, used)) = parse_frame(&self.buf)? else {
                return Ok(None);
            };
            self.buf.drain(..used);
            match opcode {
                0x8 => return Ok(Some(Message::Close)),
                0x9 => return Ok(Some(Message::Ping(payload))),
                0xA => continue,
                0x0 => {
                    let (op, mut data) = self.partial.take().ok_or("continuation without a start")?;
                    data.extend_from_slice(&payload);
                    if data.len() > MAX_MESSAGE {
                        return Err("message too large");
                    }
                    if fin {
                        return whole(op, data).map(Some);
                    }
                    self.partial = Some((op, data));
                }
                0x1 | 0x2 => {
                    if self.partial.is_some() {
                        return Err("new message inside a fragmented one");
                    }
                    if fin {
                        return whole(opcode, payload).map(Some);
                    }
                    self.partial = Some((opcode, payload));
                }
                _ => return Err("unknown opcode"),
            }
        }
    }
}

fn whole(opcode: u8, data: Vec<u8>) -> Result<Message, &'static str> {
    if opcode == 0x1 {
        String::from_utf8(data)
            .map(Message::Text)
            .map_err(|_| "text message is not UTF-8")
    } else {
        Ok(Message::Binary(data))
    }
}

/// One client frame: (fin, opcode, unmasked payload, bytes used).
type Frame = (bool, u8, Vec<u8>, usize);

fn parse_frame(buf: &[u8]) -> Result<Option<Frame>, &'static str> {
    let (Some(&b0), Some(&b1)) = (buf.first(), buf.get(1)) else {
        return Ok(None);
    };
    if b0 & 0x70 != 0 {
        return Err("reserved bits set (no extension was negotiated)");
    }
    if b1 & 0x80 == 0 {
        return Err("client frames must be masked");
    }
    let (len, mut at) = match b1 & 0x7f {
        126 => match buf.get(2..4) {
            Some(b) => (u64::from(u16::from_be_bytes([b[0], b[1]])), 4),
            None => return Ok(None),
        },
        127 => match buf.get(2..10).and_then(|b| <[u8; 8]>::try_from(b).ok()) {
            Some(b) => (u64::from_be_bytes(b), 10),
            None => return Ok(None),
        },
        n => (u64::from(n), 2),
    };
    if len > MAX_MESSAGE as u64 {
        return Err("frame too large");
    }
    let Some(mask) = buf.get(at..at + 4).and_then(|m| <[u8; 4]>::try_from(m).ok()) else {
        return Ok(None);
    };
    at += 4;
    let end = at + len as usize;
    let Some(masked) = buf.get(at..end) else {
        return Ok(None);
    };
    let payload = masked.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]).collect();
    Ok(Some((b0 & 0x80 != 0, b0 & 0x0f, payload, end)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn accept_key_of_rfc_6455_section_1_3() {
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn base64_of_rfc_4648_section_10() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn masked_frames_split_anywhere_and_fragmented_decode() {
        let long = "x".repeat(70_000);
        let mut bytes = frame(0x1, b"hel", Some([1, 2, 3, 4]));
        bytes[0] &= 0x7f; // not FIN
        bytes.extend(frame(0x0, b"lo", Some([9, 8, 7, 6])));
        bytes.extend(frame(0x9, b"p", Some([0, 0, 0, 1])));
        bytes.extend(frame(0x1, long.as_bytes(), Some([5, 6, 7, 8])));
        bytes.extend(frame(0x8, &[], Some([1, 1, 1, 1])));
        let mut d = Decoder::default();
        let mut got = Vec::new();
        for b in bytes.chunks(7) {
            d.push(b);
            while let Some(m) = d.next_message().unwrap() {
                got.push(m);
            }
        }
        assert_eq!(
            got,
            vec![
                Message::Text("hello".into()),
                Message::Ping(b"p".to_vec()),
                Message::Text(long),
                Message::Close
            ]
        );
    }

    #[test]
    fn unmasked_client_frames_are_refused() {
        let mut d = Decoder::default();
        d.push(&text_frame("hi"));
        assert!(d.next_message().is_err());
    }
}
