//! The crate's error type.

use std::net::SocketAddr;

/// Why an allocation, a permission or a channel failed, or why a command was
/// refused.
///
/// Every variant is `Copy` and carries numbers, addresses or `&'static str`
/// reasons only: the server's reason phrase is not kept (it is free text
/// from the network), the code is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TurnError {
    /// The server answered 401 to a request that carried our credentials:
    /// the username or password is wrong (or the realm's user is unknown).
    #[error("the TURN server rejected the credentials (401 Unauthenticated): wrong username or password")]
    Unauthorized,
    /// 441 Wrong Credentials: the credentials differ from the ones the
    /// allocation was made with (RFC 8656 section 5).
    #[error("the TURN server answered 441 Wrong Credentials")]
    WrongCredentials,
    /// The server kept answering 438 Stale Nonce.
    #[error("the TURN server kept answering 438 Stale Nonce")]
    StaleNonce,
    /// 300 Try Alternate: the server redirects to another one (RFC 8656
    /// section 7.2). Make a new client for `alternate`.
    #[error("the TURN server redirects to {alternate} (300 Try Alternate)")]
    TryAlternate {
        /// The ALTERNATE-SERVER address.
        alternate: SocketAddr,
    },
    /// 437 Allocation Mismatch: the server has another allocation on this
    /// 5-tuple, or none any more.
    #[error("the TURN server answered 437 Allocation Mismatch")]
    AllocationMismatch,
    /// 486 Allocation Quota Reached for this user.
    #[error("the TURN server answered 486 Allocation Quota Reached")]
    QuotaReached,
    /// 508 Insufficient Capacity: no relay port (or channel) left.
    #[error("the TURN server answered 508 Insufficient Capacity")]
    InsufficientCapacity,
    /// 403 Forbidden (e.g. a peer address the server's policy refuses).
    #[error("the TURN server answered 403 Forbidden")]
    Forbidden,
    /// 440 Address Family not Supported (the requested relay family).
    #[error("the TURN server answered 440 Address Family not Supported")]
    AddressFamilyNotSupported,
    /// 443 Peer Address Family Mismatch.
    #[error("the TURN server answered 443 Peer Address Family Mismatch")]
    PeerAddressFamilyMismatch,
    /// 420 Unknown Attribute: the server does not understand a
    /// comprehension-required attribute we sent (DONT-FRAGMENT, most likely).
    #[error("the TURN server answered 420 Unknown Attribute")]
    UnknownAttribute,
    /// Any other error response, by code.
    #[error("the TURN server answered error {code}")]
    ErrorResponse {
        /// The ERROR-CODE number (300..=699), 0 if the attribute was missing
        /// or malformed.
        code: u16,
    },
    /// A request got no response in time.
    #[error("no response from the TURN server to {request}")]
    Timeout {
        /// Which request: "Allocate", "Refresh", "CreatePermission", "ChannelBind".
        request: &'static str,
    },
    /// The allocation's lifetime ran out before a refresh succeeded.
    #[error("the allocation expired")]
    Expired,
    /// A success response lacked something it must carry.
    #[error("malformed response from the TURN server: {0}")]
    MalformedResponse(&'static str),
    /// A byte stream (TCP, TLS) carried something that is neither STUN nor
    /// ChannelData: the framing is lost and the connection must be closed.
    #[error("TURN byte stream out of sync: {0}")]
    StreamCorrupt(&'static str),
    /// The TLS session to the server failed (`turns:`); the client is done.
    #[error("TLS to the TURN server failed: {0}")]
    Tls(&'static str),
    /// A command needs an allocation and there is none (yet, or any more).
    #[error("no allocation")]
    NotAllocated,
    /// Data for a peer without a permission or channel: call
    /// [`TurnClient::create_permission`](crate::TurnClient::create_permission) first.
    #[error("no permission for this peer")]
    NoPermission,
    /// A documented bound was hit (permissions, channels, queued datagrams).
    #[error("limit reached: {0}")]
    Limit(&'static str),
    /// The peer's address family differs from the relayed address's.
    #[error("peer address family differs from the relayed address")]
    PeerFamily,
    /// A message could not be written (e.g. data longer than a STUN message
    /// can carry).
    #[error("cannot encode: {0}")]
    Encode(#[from] rtcwire_stun::Error),
}

impl TurnError {
    /// The error for a rustls failure, by category.
    pub(crate) fn from_tls(e: &rustls::Error) -> TurnError {
        TurnError::Tls(match e {
            rustls::Error::InvalidCertificate(_) => "the server's certificate was rejected",
            rustls::Error::NoCertificatesPresented => "the server presented no certificate",
            rustls::Error::AlertReceived(_) => "the server sent a fatal alert",
            rustls::Error::PeerIncompatible(_) => "no TLS version or cipher suite in common",
            rustls::Error::PeerMisbehaved(_) => "the server broke the TLS protocol",
            _ => "TLS failure",
        })
    }

    /// The error for an ERROR-CODE number.
    pub(crate) fn from_code(code: u16) -> TurnError {
        match code {
            401 => TurnError::Unauthorized,
            403 => TurnError::Forbidden,
            420 => TurnError::UnknownAttribute,
            437 => TurnError::AllocationMismatch,
            438 => TurnError::StaleNonce,
            440 => TurnError::AddressFamilyNotSupported,
            441 => TurnError::WrongCredentials,
            443 => TurnError::PeerAddressFamilyMismatch,
            486 => TurnError::QuotaReached,
            508 => TurnError::InsufficientCapacity,
            code => TurnError::ErrorResponse { code },
        }
    }
}
