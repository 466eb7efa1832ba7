//! Telling RTP from RTCP on one transport (RFC 5761 section 4) and media
//! from the other protocols sharing it (RFC 7983).

/// What a datagram on an RTP/RTCP-multiplexed transport is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    /// An RTP (or SRTP) packet.
    Rtp,
    /// An RTCP (or SRTCP) packet.
    Rtcp,
}

/// Whether the first byte is in RFC 7983's RTP/RTCP range 128..=191 and the
/// datagram is long enough for an RTCP header.
pub fn is_rtp_or_rtcp(datagram: &[u8]) -> bool {
    datagram.len() >= 4 && matches!(datagram.first(), Some(128..=191))
}

/// Classifies a datagram: RTCP when the low 7 bits of the second byte are in
/// 64..=95, which covers the RTCP packet types 192..=223 (RFC 5761 section
/// 4: RTP payload types 64..=95 must not be used when multiplexing, so a
/// packet whose payload-type bits fall there is RTCP, marker bit or not).
/// `None` when the datagram is not RTP or RTCP at all.
pub fn classify(datagram: &[u8]) -> Option<MediaKind> {
    if !is_rtp_or_rtcp(datagram) {
        return None;
    }
    match datagram.get(1).map(|b| b & 0x7f) {
        Some(64..=95) => Some(MediaKind::Rtcp),
        Some(_) => Some(MediaKind::Rtp),
        None => None,
    }
}

/// Whether `datagram` is RTCP on a multiplexed transport.
pub fn is_rtcp(datagram: &[u8]) -> bool {
    classify(datagram) == Some(MediaKind::Rtcp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demux() {
        // RTP, PT 111 with and without marker.
        assert_eq!(classify(&[0x80, 111, 0, 1]), Some(MediaKind::Rtp));
        assert_eq!(classify(&[0x80, 0x80 | 111, 0, 1]), Some(MediaKind::Rtp));
        // RTCP SR (200), RR (201), PSFB (206), and the range edges.
        for pt in [192u8, 200, 201, 206, 223] {
            assert_eq!(classify(&[0x81, pt, 0, 1]), Some(MediaKind::Rtcp), "{pt}");
        }
        assert_eq!(classify(&[0x80, 224, 0, 1]), Some(MediaKind::Rtp));
        assert_eq!(classify(&[0x80, 191, 0, 1]), Some(MediaKind::Rtp));
        assert_eq!(classify(&[0x80, 64, 0, 1]), Some(MediaKind::Rtcp));
        assert_eq!(classify(&[0x80, 63, 0, 1]), Some(MediaKind::Rtp));
        // STUN, DTLS, too short.
        assert_eq!(classify(&[0x00, 0x01, 0, 0]), None);
        assert_eq!(classify(&[22, 0xfe, 0xfd, 0]), None);
        assert_eq!(classify(&[0x80, 200]), None);
    }
}
