//! Type-length-value structures inside chunks: INIT / INIT ACK parameters
//! (RFC 9260 section 3.3.2, RFC 3758 section 3.1, RFC 9653 section 4),
//! error causes of ABORT and ERROR (RFC 9260 section 3.3.10) and the
//! parameters of a RE-CONFIG chunk (RFC 6525 sections 4.1 to 4.6).
//!
//! All three share one layout: a 16-bit type (or cause code), a 16-bit
//! length that counts the 4-byte header and the value but not the padding,
//! then the value padded with zeros to a multiple of 4 bytes. [`Tlvs`]
//! walks that layout; the last item may lack its padding (RFC 9260 section
//! 3.2 asks receivers to accept both). Iterators yield an error item for a
//! TLV that overruns its container or does not decode, and then stop.
//!
//! Writers append to a `Vec<u8>` and never fail: callers keep values under
//! [`MAX_TLV_VALUE_LEN`] bytes (they build them from bounded state: a cookie,
//! a list of at most 65 535 stream IDs is already too long, so the
//! association caps reset requests well below that).
#![allow(dead_code)] // used by the association in progress

use crate::Error;
use crate::packet::Reader;

/// The largest value a TLV can carry: its 16-bit length counts the 4-byte
/// header too.
pub(crate) const MAX_TLV_VALUE_LEN: usize = u16::MAX as usize - 4;

/// `n` rounded up to a multiple of 4.
pub(crate) const fn padded(n: usize) -> usize {
    n.saturating_add(3) & !3
}

/// Appends zeros up to the next multiple of 4 of `out.len()` counted from
/// `start`.
pub(crate) fn pad_from(out: &mut Vec<u8>, start: usize) {
    let len = out.len().saturating_sub(start);
    out.resize(start + padded(len), 0);
}

/// Appends one TLV (header, value, padding). `value` longer than
/// [`MAX_TLV_VALUE_LEN`] is a caller bug: it is caught in debug builds and
/// its length field saturates in release builds.
pub(crate) fn write_tlv(tlv_type: u16, value: &[u8], out: &mut Vec<u8>) {
    write_tlv_parts(tlv_type, &[value], out);
}

/// [`write_tlv`] with the value given in pieces (fixed fields, then a list).
fn write_tlv_parts(tlv_type: u16, parts: &[&[u8]], out: &mut Vec<u8>) {
    let value_len: usize = parts.iter().map(|p| p.len()).sum();
    debug_assert!(value_len <= MAX_TLV_VALUE_LEN, "TLV value too long");
    let len = u16::try_from(value_len.saturating_add(4)).unwrap_or(u16::MAX);
    let start = out.len();
    out.extend_from_slice(&tlv_type.to_be_bytes());
    out.extend_from_slice(&len.to_be_bytes());
    for p in parts {
        out.extend_from_slice(p);
    }
    pad_from(out, start);
}

/// An iterator over the TLVs of a chunk's value: `(type, value)` pairs. An
/// item that overruns the input, a length below 4 or 1 to 3 stray bytes at
/// the end give one error item, after which the iterator is empty.
#[derive(Debug, Clone)]
pub(crate) struct Tlvs<'a> {
    rest: &'a [u8],
    what: &'static str,
}

impl<'a> Tlvs<'a> {
    /// Walks `bytes`; `what` names the TLV kind in error reasons.
    pub(crate) fn new(bytes: &'a [u8], what: &'static str) -> Self {
        Tlvs { rest: bytes, what }
    }

    fn next_tlv(&mut self) -> Result<(u16, &'a [u8]), Error> {
        let mut r = Reader::new(self.rest);
        let tlv_type = r.u16(self.what)?;
        let len = usize::from(r.u16(self.what)?);
        let value_len = len.checked_sub(4).ok_or(Error::Decode(self.what))?;
        let value = r.take(value_len, self.what)?;
        // Padding: present, or (last TLV only) absent or partial.
        let pad = padded(value_len) - value_len;
        let rest = r.rest();
        self.rest = rest.get(pad..).unwrap_or_default();
        Ok((tlv_type, value))
    }
}

impl<'a> Iterator for Tlvs<'a> {
    type Item = Result<(u16, &'a [u8]), Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let item = self.next_tlv();
        if item.is_err() {
            self.rest = &[];
        }
        Some(item)
    }
}

impl std::iter::FusedIterator for Tlvs<'_> {}

/// What to do with a TLV or chunk type this endpoint does not know, from the
/// two top bits of its type (RFC 9260 sections 3.2 and 3.2.1): `(skip,
/// report)`. `skip` false: stop processing the enclosing packet (for
/// chunks) or chunk (for parameters); true: skip it and carry on. `report`:
/// tell the peer (an Unrecognized Chunk Type or Unrecognized Parameters
/// cause).
pub(crate) const fn unknown_param_action(param_type: u16) -> (bool, bool) {
    (param_type & 0x8000 != 0, param_type & 0x4000 != 0)
}

// ---------------------------------------------------------------------------
// INIT and INIT ACK parameters

/// Parameter type: IPv4 Address (RFC 9260 section 3.3.2.1.1).
pub(crate) const PARAM_IPV4: u16 = 5;
/// Parameter type: IPv6 Address.
pub(crate) const PARAM_IPV6: u16 = 6;
/// Parameter type: State Cookie (INIT ACK only).
pub(crate) const PARAM_STATE_COOKIE: u16 = 7;
/// Parameter type: Unrecognized Parameter (INIT ACK only).
pub(crate) const PARAM_UNRECOGNIZED: u16 = 8;
/// Parameter type: Cookie Preservative.
pub(crate) const PARAM_COOKIE_PRESERVATIVE: u16 = 9;
/// Parameter type: Zero Checksum Acceptable (RFC 9653 section 4).
pub(crate) const PARAM_ZERO_CHECKSUM_ACCEPTABLE: u16 = 0x8001;
/// Parameter type: Supported Extensions (RFC 5061 section 4.2.7).
pub(crate) const PARAM_SUPPORTED_EXTENSIONS: u16 = 0x8008;
/// Parameter type: Forward-TSN-Supported (RFC 3758 section 3.1).
pub(crate) const PARAM_FORWARD_TSN_SUPPORTED: u16 = 0xC000;

/// Error Detection Method Identifier for "SCTP over DTLS" (RFC 9653
/// section 7: DTLS authenticates every packet, so the CRC32c can be 0).
pub(crate) const EDMID_DTLS: u32 = 1;

/// One parameter of an INIT or INIT ACK chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Param<'a> {
    /// State Cookie (7): opaque, echoed back in COOKIE ECHO.
    StateCookie(&'a [u8]),
    /// Supported Extensions (0x8008): the chunk types the sender supports,
    /// one byte each.
    SupportedExtensions(&'a [u8]),
    /// Forward-TSN-Supported (0xC000): partial reliability (RFC 3758).
    ForwardTsnSupported,
    /// Zero Checksum Acceptable (0x8001): the sender accepts packets with a
    /// zero checksum when this error detection method protects them.
    ZeroChecksumAcceptable {
        /// Error Detection Method Identifier; [`EDMID_DTLS`] for WebRTC.
        edmid: u32,
    },
    /// IPv4 Address (5): 4 bytes. Meaningless over DTLS; kept for
    /// completeness.
    Ipv4(&'a [u8]),
    /// IPv6 Address (6): 16 bytes.
    Ipv6(&'a [u8]),
    /// Cookie Preservative (9): suggested cookie life-span increment in
    /// milliseconds.
    CookiePreservative(u32),
    /// Any other type, kept verbatim; see [`unknown_param_action`].
    Unknown {
        /// The parameter type.
        param_type: u16,
        /// The value, without padding.
        value: &'a [u8],
    },
}

impl<'a> Param<'a> {
    /// Decodes a parameter from its type and value.
    pub(crate) fn decode(param_type: u16, value: &'a [u8]) -> Result<Self, Error> {
        Ok(match param_type {
            PARAM_STATE_COOKIE => Param::StateCookie(value),
            PARAM_SUPPORTED_EXTENSIONS => Param::SupportedExtensions(value),
            PARAM_FORWARD_TSN_SUPPORTED => {
                if !value.is_empty() {
                    return Err(Error::Decode("Forward-TSN-Supported parameter: has a value"));
                }
                Param::ForwardTsnSupported
            }
            PARAM_ZERO_CHECKSUM_ACCEPTABLE => Param::ZeroChecksumAcceptable {
                edmid: exact_u32(value, "Zero Checksum Acceptable parameter: length is not 8")?,
            },
            PARAM_IPV4 if value.len() == 4 => Param::Ipv4(value),
            PARAM_IPV4 => return Err(Error::Decode("IPv4 Address parameter: length is not 8")),
            PARAM_IPV6 if value.len() == 16 => Param::Ipv6(value),
            PARAM_IPV6 => return Err(Error::Decode("IPv6 Address parameter: length is not 20")),
            PARAM_COOKIE_PRESERVATIVE => Param::CookiePreservative(exact_u32(
                value,
                "Cookie Preservative parameter: length is not 8",
            )?),
            param_type => Param::Unknown { param_type, value },
        })
    }

    /// The parameter type.
    pub(crate) fn param_type(&self) -> u16 {
        match self {
            Param::StateCookie(_) => PARAM_STATE_COOKIE,
            Param::SupportedExtensions(_) => PARAM_SUPPORTED_EXTENSIONS,
            Param::ForwardTsnSupported => PARAM_FORWARD_TSN_SUPPORTED,
            Param::ZeroChecksumAcceptable { .. } => PARAM_ZERO_CHECKSUM_ACCEPTABLE,
            Param::Ipv4(_) => PARAM_IPV4,
            Param::Ipv6(_) => PARAM_IPV6,
            Param::CookiePreservative(_) => PARAM_COOKIE_PRESERVATIVE,
            Param::Unknown { param_type, .. } => *param_type,
        }
    }

    /// The encoded size with its padding.
    pub(crate) fn encoded_len(&self) -> usize {
        let value = match self {
            Param::StateCookie(v) | Param::SupportedExtensions(v) | Param::Ipv4(v) | Param::Ipv6(v) => {
                v.len()
            }
            Param::ForwardTsnSupported => 0,
            Param::ZeroChecksumAcceptable { .. } | Param::CookiePreservative(_) => 4,
            Param::Unknown { value, .. } => value.len(),
        };
        padded(4 + value)
    }
}

fn exact_u32(value: &[u8], what: &'static str) -> Result<u32, Error> {
    let bytes: [u8; 4] = value.try_into().map_err(|_| Error::Decode(what))?;
    Ok(u32::from_be_bytes(bytes))
}

/// Appends a parameter with its padding. An `Unknown` parameter whose type
/// is one of the known ones is written as given (and decodes as the known
/// one); IPv4/IPv6 values of the wrong size are written as given too.
pub(crate) fn write_param(p: &Param<'_>, out: &mut Vec<u8>) {
    let t = p.param_type();
    match p {
        Param::StateCookie(v) | Param::SupportedExtensions(v) | Param::Ipv4(v) | Param::Ipv6(v) => {
            write_tlv(t, v, out);
        }
        Param::ForwardTsnSupported => write_tlv(t, &[], out),
        Param::ZeroChecksumAcceptable { edmid: n } | Param::CookiePreservative(n) => {
            write_tlv(t, &n.to_be_bytes(), out);
        }
        Param::Unknown { value, .. } => write_tlv(t, value, out),
    }
}

/// An iterator over INIT / INIT ACK parameters (see [`Tlvs`] for errors).
#[derive(Debug, Clone)]
pub(crate) struct Params<'a>(Tlvs<'a>);

impl<'a> Params<'a> {
    /// The parameters in `bytes` (an INIT chunk's variable part).
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Params(Tlvs::new(bytes, "INIT parameter: truncated or bad length"))
    }
}

impl<'a> Iterator for Params<'a> {
    type Item = Result<Param<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = self.0.next()?.and_then(|(t, v)| Param::decode(t, v));
        if item.is_err() {
            self.0.rest = &[];
        }
        Some(item)
    }
}

impl std::iter::FusedIterator for Params<'_> {}

// ---------------------------------------------------------------------------
// Error causes (ABORT, ERROR, and the Unrecognized Parameter of INIT ACK)

/// Cause code: Invalid Stream Identifier (RFC 9260 section 3.3.10.1).
pub(crate) const INVALID_STREAM_IDENTIFIER: u16 = 1;
/// Cause code: Missing Mandatory Parameter.
pub(crate) const MISSING_MANDATORY_PARAMETER: u16 = 2;
/// Cause code: Stale Cookie Error.
pub(crate) const STALE_COOKIE: u16 = 3;
/// Cause code: Out of Resource.
pub(crate) const OUT_OF_RESOURCE: u16 = 4;
/// Cause code: Unresolvable Address.
pub(crate) const UNRESOLVABLE_ADDRESS: u16 = 5;
/// Cause code: Unrecognized Chunk Type; the value is the whole chunk.
pub(crate) const UNRECOGNIZED_CHUNK: u16 = 6;
/// Cause code: Invalid Mandatory Parameter.
pub(crate) const INVALID_MANDATORY_PARAMETER: u16 = 7;
/// Cause code: Unrecognized Parameters; the value is the parameters' TLVs.
pub(crate) const UNRECOGNIZED_PARAMS: u16 = 8;
/// Cause code: No User Data; the value is the TSN of the empty DATA chunk.
pub(crate) const NO_USER_DATA: u16 = 9;
/// Cause code: Cookie Received While Shutting Down.
pub(crate) const COOKIE_RECEIVED_WHILE_SHUTTING_DOWN: u16 = 10;
/// Cause code: Restart of an Association with New Addresses.
pub(crate) const RESTART_WITH_NEW_ADDRESSES: u16 = 11;
/// Cause code: User-Initiated Abort; the value is the upper layer's reason.
pub(crate) const USER_INITIATED_ABORT: u16 = 12;
/// Cause code: Protocol Violation; the value is diagnostic text.
pub(crate) const PROTOCOL_VIOLATION: u16 = 13;

/// The error causes in `bytes` (an ABORT or ERROR chunk's value) as
/// `(cause code, value)` pairs; see [`Tlvs`] for errors.
pub(crate) fn causes(bytes: &[u8]) -> Tlvs<'_> {
    Tlvs::new(bytes, "error cause: truncated or bad length")
}

/// Appends an error cause with its padding.
pub(crate) fn write_cause(code: u16, value: &[u8], out: &mut Vec<u8>) {
    write_tlv(code, value, out);
}

// ---------------------------------------------------------------------------
// RE-CONFIG parameters (RFC 6525)

/// Reconfiguration parameter type: Outgoing SSN Reset Request (4.1).
pub(crate) const RECONFIG_OUTGOING_RESET: u16 = 13;
/// Reconfiguration parameter type: Incoming SSN Reset Request (4.2).
pub(crate) const RECONFIG_INCOMING_RESET: u16 = 14;
/// Reconfiguration parameter type: SSN/TSN Reset Request (4.3), decoded as
/// [`ReconfigParam::Unknown`].
pub(crate) const RECONFIG_SSN_TSN_RESET: u16 = 15;
/// Reconfiguration parameter type: Re-configuration Response (4.4).
pub(crate) const RECONFIG_RESPONSE: u16 = 16;
/// Reconfiguration parameter type: Add Outgoing Streams Request (4.5).
pub(crate) const RECONFIG_ADD_OUTGOING_STREAMS: u16 = 17;
/// Reconfiguration parameter type: Add Incoming Streams Request (4.6).
pub(crate) const RECONFIG_ADD_INCOMING_STREAMS: u16 = 18;

/// Result codes of a Re-configuration Response (RFC 6525 section 4.4).
pub(crate) mod reconfig_result {
    /// Success - Nothing to do.
    pub(crate) const SUCCESS_NOTHING_TO_DO: u32 = 0;
    /// Success - Performed.
    pub(crate) const SUCCESS_PERFORMED: u32 = 1;
    /// Denied.
    pub(crate) const DENIED: u32 = 2;
    /// Error - Wrong SSN.
    pub(crate) const ERROR_WRONG_SSN: u32 = 3;
    /// Error - Request already in progress.
    pub(crate) const ERROR_REQUEST_IN_PROGRESS: u32 = 4;
    /// Error - Bad Sequence Number.
    pub(crate) const ERROR_BAD_SEQUENCE_NUMBER: u32 = 5;
    /// In progress.
    pub(crate) const IN_PROGRESS: u32 = 6;
}

/// One parameter of a RE-CONFIG chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReconfigParam<'a> {
    /// Outgoing SSN Reset Request (13): the sender resets these outgoing
    /// streams (all of them when the list is empty) after `last_tsn`.
    OutgoingResetRequest {
        /// Re-configuration Request Sequence Number.
        request_seq: u32,
        /// The Re-configuration Response Sequence Number this answers, when
        /// sent in reply to an Incoming SSN Reset Request.
        response_seq: u32,
        /// Sender's Last Assigned TSN.
        last_tsn: u32,
        /// Stream numbers, big-endian u16 each (see [`stream_ids`]).
        streams: &'a [u8],
    },
    /// Incoming SSN Reset Request (14): asks the peer to reset these of
    /// its outgoing streams.
    IncomingResetRequest {
        /// Re-configuration Request Sequence Number.
        request_seq: u32,
        /// Stream numbers, big-endian u16 each.
        streams: &'a [u8],
    },
    /// Re-configuration Response (16).
    Response {
        /// The Request Sequence Number answered.
        response_seq: u32,
        /// A [`reconfig_result`] code.
        result: u32,
        /// `(sender's next TSN, receiver's next TSN)`: only in answers to
        /// an SSN/TSN Reset Request.
        next_tsns: Option<(u32, u32)>,
    },
    /// Add Outgoing Streams Request (17).
    AddOutgoingStreams {
        /// Re-configuration Request Sequence Number.
        request_seq: u32,
        /// Number of new streams.
        count: u16,
    },
    /// Add Incoming Streams Request (18).
    AddIncomingStreams {
        /// Re-configuration Request Sequence Number.
        request_seq: u32,
        /// Number of new streams.
        count: u16,
    },
    /// Any other type (including 15, SSN/TSN Reset), kept verbatim.
    Unknown {
        /// The parameter type.
        param_type: u16,
        /// The value, without padding.
        value: &'a [u8],
    },
}

impl<'a> ReconfigParam<'a> {
    /// Decodes a reconfiguration parameter from its type and value.
    pub(crate) fn decode(param_type: u16, value: &'a [u8]) -> Result<Self, Error> {
        let mut r = Reader::new(value);
        let p = match param_type {
            RECONFIG_OUTGOING_RESET => {
                const WHAT: &str = "Outgoing SSN Reset Request: truncated";
                let request_seq = r.u32(WHAT)?;
                let response_seq = r.u32(WHAT)?;
                let last_tsn = r.u32(WHAT)?;
                let streams = stream_list(r.rest(), "Outgoing SSN Reset Request: odd stream list")?;
                ReconfigParam::OutgoingResetRequest {
                    request_seq,
                    response_seq,
                    last_tsn,
                    streams,
                }
            }
            RECONFIG_INCOMING_RESET => {
                let request_seq = r.u32("Incoming SSN Reset Request: truncated")?;
                let streams = stream_list(r.rest(), "Incoming SSN Reset Request: odd stream list")?;
                ReconfigParam::IncomingResetRequest { request_seq, streams }
            }
            RECONFIG_RESPONSE => {
                const WHAT: &str = "Re-configuration Response: length is not 12 or 20";
                let response_seq = r.u32(WHAT)?;
                let result = r.u32(WHAT)?;
                let next_tsns = if r.is_empty() {
                    None
                } else {
                    Some((r.u32(WHAT)?, r.u32(WHAT)?))
                };
                r.finish(WHAT)?;
                ReconfigParam::Response {
                    response_seq,
                    result,
                    next_tsns,
                }
            }
            RECONFIG_ADD_OUTGOING_STREAMS | RECONFIG_ADD_INCOMING_STREAMS => {
                const WHAT: &str = "Add Streams Request: length is not 12";
                let request_seq = r.u32(WHAT)?;
                let count = r.u16(WHAT)?;
                let _reserved = r.u16(WHAT)?;
                r.finish(WHAT)?;
                if param_type == RECONFIG_ADD_OUTGOING_STREAMS {
                    ReconfigParam::AddOutgoingStreams { request_seq, count }
                } else {
                    ReconfigParam::AddIncomingStreams { request_seq, count }
                }
            }
            param_type => ReconfigParam::Unknown { param_type, value },
        };
        Ok(p)
    }

    /// The parameter type.
    pub(crate) fn param_type(&self) -> u16 {
        match self {
            ReconfigParam::OutgoingResetRequest { .. } => RECONFIG_OUTGOING_RESET,
            ReconfigParam::IncomingResetRequest { .. } => RECONFIG_INCOMING_RESET,
            ReconfigParam::Response { .. } => RECONFIG_RESPONSE,
            ReconfigParam::AddOutgoingStreams { .. } => RECONFIG_ADD_OUTGOING_STREAMS,
            ReconfigParam::AddIncomingStreams { .. } => RECONFIG_ADD_INCOMING_STREAMS,
            ReconfigParam::Unknown { param_type, .. } => *param_type,
        }
    }
}

fn stream_list<'a>(bytes: &'a [u8], what: &'static str) -> Result<&'a [u8], Error> {
    if bytes.len() % 2 == 0 {
        Ok(bytes)
    } else {
        Err(Error::Decode(what))
    }
}

/// The stream IDs of a reset request's list (a trailing odd byte, which the
/// parser rejects, is ignored).
pub(crate) fn stream_ids(streams: &[u8]) -> impl Iterator<Item = u16> + '_ {
    streams
        .chunks_exact(2)
        .filter_map(|c| <[u8; 2]>::try_from(c).ok())
        .map(u16::from_be_bytes)
}

/// Appends stream IDs in the wire form of a reset request's list.
pub(crate) fn encode_stream_ids(ids: &[u16], out: &mut Vec<u8>) {
    for id in ids {
        out.extend_from_slice(&id.to_be_bytes());
    }
}

/// Appends a reconfiguration parameter with its padding. A stream list of
/// odd length is written as given (and will not decode).
pub(crate) fn write_reconfig_param(p: &ReconfigParam<'_>, out: &mut Vec<u8>) {
    let t = p.param_type();
    match *p {
        ReconfigParam::OutgoingResetRequest {
            request_seq,
            response_seq,
            last_tsn,
            streams,
        } => write_tlv_parts(
            t,
            &[
                &request_seq.to_be_bytes(),
                &response_seq.to_be_bytes(),
                &last_tsn.to_be_bytes(),
                streams,
            ],
            out,
        ),
        ReconfigParam::IncomingResetRequest { request_seq, streams } => {
            write_tlv_parts(t, &[&request_seq.to_be_bytes(), streams], out);
        }
        ReconfigParam::Response {
            response_seq,
            result,
            next_tsns,
        } => {
            let (sender, receiver) = next_tsns.unwrap_or_default();
            let tsns = [sender.to_be_bytes(), receiver.to_be_bytes()].concat();
            let tail: &[u8] = if next_tsns.is_some() { &tsns } else { &[] };
            write_tlv_parts(
                t,
                &[&response_seq.to_be_bytes(), &result.to_be_bytes(), tail],
                out,
            );
        }
        ReconfigParam::AddOutgoingStreams { request_seq, count }
        | ReconfigParam::AddIncomingStreams { request_seq, count } => {
            write_tlv_parts(
                t,
                &[&request_seq.to_be_bytes(), &count.to_be_bytes(), &[0, 0]],
                out,
            );
        }
        ReconfigParam::Unknown { value, .. } => write_tlv(t, value, out),
    }
}

/// An iterator over the parameters of a RE-CONFIG chunk (see [`Tlvs`] for
/// errors).
#[derive(Debug, Clone)]
pub(crate) struct ReconfigParams<'a>(Tlvs<'a>);

/// The parameters in `bytes` (a RE-CONFIG chunk's value).
pub(crate) fn reconfig_params(bytes: &[u8]) -> ReconfigParams<'_> {
    ReconfigParams(Tlvs::new(bytes, "RE-CONFIG parameter: truncated or bad length"))
}

impl<'a> Iterator for ReconfigParams<'a> {
    type Item = Result<ReconfigParam<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = self.0.next()?.and_then(|(t, v)| ReconfigParam::decode(t, v));
        if item.is_err() {
            self.0.rest = &[];
        }
        Some(item)
    }
}

impl std::iter::FusedIterator for ReconfigParams<'_> {}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    // Hand-built from RFC 9260 section 3.3.2.1, RFC 3758 section 3.1, RFC
    // 5061 section 4.2.7 and RFC 9653 section 4, padding included.
    fn param_cases() -> Vec<(&'static [u8], Param<'static>)> {
        vec![
            (
                &[0x00, 0x07, 0x00, 0x06, 0xaa, 0xbb, 0, 0],
                Param::StateCookie(&[0xaa, 0xbb]),
            ),
            (
                &[0x80, 0x08, 0x00, 0x07, 0xc0, 0x82, 0x40, 0],
                Param::SupportedExtensions(&[0xc0, 0x82, 0x40]),
            ),
            (&[0xc0, 0x00, 0x00, 0x04], Param::ForwardTsnSupported),
            (
                &[0x80, 0x01, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01],
                Param::ZeroChecksumAcceptable { edmid: EDMID_DTLS },
            ),
            (
                &[0x00, 0x05, 0x00, 0x08, 192, 0, 2, 1],
                Param::Ipv4(&[192, 0, 2, 1]),
            ),
            (
                &[
                    0x00, 0x06, 0x00, 0x14, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
                ],
                Param::Ipv6(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
            ),
            (
                &[0x00, 0x09, 0x00, 0x08, 0x00, 0x00, 0x03, 0xe8],
                Param::CookiePreservative(1000),
            ),
            (
                &[0x80, 0x02, 0x00, 0x05, 0x42, 0, 0, 0],
                Param::Unknown {
                    param_type: 0x8002,
                    value: &[0x42],
                },
            ),
        ]
    }

    // RFC 6525 sections 4.1 to 4.6.
    fn reconfig_cases() -> Vec<(&'static [u8], ReconfigParam<'static>)> {
        vec![
            (
                &[
                    0x00, 0x0d, 0x00, 0x14, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0x00, 0x04, 0x00, 0x05,
                ],
                ReconfigParam::OutgoingResetRequest {
                    request_seq: 1,
                    response_seq: 2,
                    last_tsn: 3,
                    streams: &[0, 4, 0, 5],
                },
            ),
            (
                &[0x00, 0x0e, 0x00, 0x0a, 0, 0, 0, 9, 0x00, 0x07, 0, 0],
                ReconfigParam::IncomingResetRequest {
                    request_seq: 9,
                    streams: &[0, 7],
                },
            ),
            (
                &[0x00, 0x10, 0x00, 0x0c, 0, 0, 0, 1, 0, 0, 0, 1],
                ReconfigParam::Response {
                    response_seq: 1,
                    result: reconfig_result::SUCCESS_PERFORMED,
                    next_tsns: None,
                },
            ),
            (
                &[
                    0x00, 0x10, 0x00, 0x14, 0, 0, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0x10, 0, 0, 0, 0x20,
                ],
                ReconfigParam::Response {
                    response_seq: 1,
                    result: reconfig_result::IN_PROGRESS,
                    next_tsns: Some((0x10, 0x20)),
                },
            ),
            (
                &[0x00, 0x11, 0x00, 0x0c, 0, 0, 0, 4, 0x00, 0x10, 0, 0],
                ReconfigParam::AddOutgoingStreams {
                    request_seq: 4,
                    count: 16,
                },
            ),
            (
                &[0x00, 0x12, 0x00, 0x0c, 0, 0, 0, 5, 0x00, 0x02, 0, 0],
                ReconfigParam::AddIncomingStreams {
                    request_seq: 5,
                    count: 2,
                },
            ),
            (
                &[0x00, 0x0f, 0x00, 0x08, 0, 0, 0, 3],
                ReconfigParam::Unknown {
                    param_type: RECONFIG_SSN_TSN_RESET,
                    value: &[0, 0, 0, 3],
                },
            ),
        ]
    }

    #[test]
    fn params_parse_and_emit() {
        for (bytes, p) in param_cases() {
            assert_eq!(Params::new(bytes).collect::<Vec<_>>(), [Ok(p)]);
            let mut out = Vec::new();
            write_param(&p, &mut out);
            assert_eq!(out, bytes);
            assert_eq!(p.encoded_len(), bytes.len());
        }
        let all: Vec<u8> = param_cases()
            .iter()
            .flat_map(|(b, _)| b.iter().copied())
            .collect();
        let expected: Vec<_> = param_cases().into_iter().map(|(_, p)| Ok(p)).collect();
        assert_eq!(Params::new(&all).collect::<Vec<_>>(), expected);
    }

    #[test]
    fn reconfig_params_parse_and_emit() {
        for (bytes, p) in reconfig_cases() {
            assert_eq!(
                reconfig_params(bytes).collect::<Vec<_>>(),
                [Ok(p)],
                "{bytes:02x?}"
            );
            let mut out = Vec::new();
            write_reconfig_param(&p, &mut out);
            assert_eq!(out, bytes);
        }
        let mut ids = Vec::new();
        encode_stream_ids(&[4, 5], &mut ids);
        assert_eq!(ids, [0, 4, 0, 5]);
        assert_eq!(stream_ids(&ids).collect::<Vec<_>>(), [4, 5]);
    }

    #[test]
    fn causes_parse_and_emit() {
        let bytes = [
            0x00, 0x0d, 0x00, 0x06, b'n', b'o', 0, 0, // Protocol Violation "no"
            0x00, 0x09, 0x00, 0x08, 0, 0, 0, 7, // No User Data, TSN 7
            0x00, 0x0a, 0x00, 0x04, // Cookie Received While Shutting Down
        ];
        assert_eq!(
            causes(&bytes).collect::<Result<Vec<_>, _>>().unwrap(),
            [
                (PROTOCOL_VIOLATION, &b"no"[..]),
                (NO_USER_DATA, &[0, 0, 0, 7][..]),
                (COOKIE_RECEIVED_WHILE_SHUTTING_DOWN, &[][..]),
            ]
        );
        let mut out = Vec::new();
        write_cause(PROTOCOL_VIOLATION, b"no", &mut out);
        write_cause(NO_USER_DATA, &7u32.to_be_bytes(), &mut out);
        write_cause(COOKIE_RECEIVED_WHILE_SHUTTING_DOWN, &[], &mut out);
        assert_eq!(out, bytes);
    }

    /// Every cut of a TLV inside its length is an error (then the iterator
    /// stops); cutting only the last TLV's padding is fine.
    #[test]
    fn truncations() {
        for (bytes, p) in param_cases() {
            let len = usize::from(u16::from_be_bytes([bytes[2], bytes[3]]));
            for n in 1..len {
                let mut it = Params::new(&bytes[..n]);
                assert!(it.next().unwrap().is_err(), "{p:?} cut at {n}");
                assert!(it.next().is_none());
            }
            for n in len..=bytes.len() {
                assert_eq!(Params::new(&bytes[..n]).collect::<Vec<_>>(), [Ok(p)]);
            }
        }
        for (bytes, p) in reconfig_cases() {
            let len = usize::from(u16::from_be_bytes([bytes[2], bytes[3]]));
            for n in 1..len {
                assert!(
                    reconfig_params(&bytes[..n]).any(|r| r.is_err()),
                    "{p:?} cut at {n}"
                );
            }
        }
    }

    #[test]
    fn malformed_values() {
        for bytes in [
            &[0xc0, 0x00, 0x00, 0x05, 1, 0, 0, 0][..], // Forward-TSN-Supported with a value
            &[0x80, 0x01, 0x00, 0x06, 0, 1, 0, 0],     // Zero Checksum Acceptable, 2 bytes
            &[0x00, 0x05, 0x00, 0x06, 1, 2, 0, 0],     // IPv4, 2 bytes
            &[0x00, 0x06, 0x00, 0x08, 1, 2, 3, 4],     // IPv6, 4 bytes
            &[0x00, 0x09, 0x00, 0x05, 1, 0, 0, 0],     // Cookie Preservative, 1 byte
            &[0x00, 0x07, 0x00, 0x03, 0, 0, 0, 0],     // length below 4
        ] {
            let mut it = Params::new(bytes);
            assert!(it.next().unwrap().is_err(), "{bytes:02x?}");
            assert!(it.next().is_none());
        }
        for bytes in [
            &[
                0x00, 0x0d, 0x00, 0x11, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 9, 0, 0, 0,
            ][..], // odd stream list
            &[0x00, 0x0e, 0x00, 0x09, 0, 0, 0, 9, 1, 0, 0, 0], // odd stream list
            &[0x00, 0x10, 0x00, 0x10, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1], // response of 16
            &[0x00, 0x11, 0x00, 0x10, 0, 0, 0, 4, 0, 1, 0, 0, 0, 0, 0, 0], // add streams of 16
        ] {
            assert!(reconfig_params(bytes).next().unwrap().is_err(), "{bytes:02x?}");
        }
        // Stray bytes after a padded TLV.
        let mut it = causes(&[0x00, 0x0a, 0x00, 0x04, 0]);
        assert!(it.next().unwrap().is_ok());
        assert!(it.next().unwrap().is_err());
        assert!(it.next().is_none());
    }

    /// RFC 9260 section 3.2.1: the two top bits of an unknown parameter.
    #[test]
    fn unknown_param_actions() {
        assert_eq!(unknown_param_action(0x000f), (false, false));
        assert_eq!(unknown_param_action(0x4001), (false, true));
        assert_eq!(unknown_param_action(0x8002), (true, false));
        assert_eq!(unknown_param_action(0xc006), (true, true));
    }
}
