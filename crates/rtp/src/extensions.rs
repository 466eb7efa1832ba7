//! RTP header extension elements in one-byte and two-byte form (RFC 8285),
//! and typed values for the extensions WebRTC negotiates.

use core::ops::Range;

use crate::Error;

/// The "defined by profile" value of a one-byte-header extension block
/// (RFC 8285 section 4.2).
pub const ONE_BYTE_PROFILE: u16 = 0xBEDE;

/// The "defined by profile" value of a two-byte-header extension block,
/// with its four "appbits" zero (RFC 8285 section 4.3: 0x100 then 4 bits).
pub const TWO_BYTE_PROFILE: u16 = 0x1000;

/// Which RFC 8285 element form an extension block uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExtensionForm {
    /// One-byte headers: ids 1..=14, 1..=16 data bytes (RFC 8285 section 4.2).
    OneByte,
    /// Two-byte headers: ids 1..=255, 0..=255 data bytes (RFC 8285 section 4.3).
    TwoByte,
}

impl ExtensionForm {
    /// The form an extension block's profile value announces, if any.
    pub fn from_profile(profile: u16) -> Option<ExtensionForm> {
        if profile == ONE_BYTE_PROFILE {
            Some(ExtensionForm::OneByte)
        } else if profile & 0xfff0 == TWO_BYTE_PROFILE {
            Some(ExtensionForm::TwoByte)
        } else {
            None
        }
    }

    /// Whether an element with this id and data length can be written in
    /// this form.
    pub fn fits(self, id: u8, len: usize) -> bool {
        match self {
            ExtensionForm::OneByte => (1..=14).contains(&id) && (1..=16).contains(&len),
            ExtensionForm::TwoByte => id >= 1 && len <= 255,
        }
    }
}

/// One header extension element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extension<'a> {
    /// The element's local identifier, as negotiated by `a=extmap`.
    pub id: u8,
    /// The element's data.
    pub data: &'a [u8],
}

/// Iterator over the elements of an RFC 8285 extension block, validated
/// when created, so iteration cannot fail.
#[derive(Debug, Clone)]
pub struct Extensions<'a> {
    form: Option<ExtensionForm>,
    data: &'a [u8],
    pos: usize,
}

impl<'a> Extensions<'a> {
    /// An iterator that yields nothing.
    pub fn empty() -> Extensions<'a> {
        Extensions {
            form: None,
            data: &[],
            pos: 0,
        }
    }

    /// Elements of the extension block with `profile` and `data` (the bytes
    /// after the block's 4-byte header). A profile that is neither form
    /// yields nothing; an element overrunning the block is an error.
    pub fn new(profile: u16, data: &'a [u8]) -> Result<Extensions<'a>, Error> {
        let form = ExtensionForm::from_profile(profile);
        let it = Extensions { form, data, pos: 0 };
        let mut check = it.clone();
        while check.step()?.is_some() {}
        Ok(it)
    }

    /// The form of the block.
    pub fn form(&self) -> Option<ExtensionForm> {
        self.form
    }

    /// Next element and the range of its data in the block.
    fn step(&mut self) -> Result<Option<(u8, Range<usize>)>, Error> {
        let Some(form) = self.form else { return Ok(None) };
        loop {
            let Some(&first) = self.data.get(self.pos) else {
                return Ok(None);
            };
            match form {
                ExtensionForm::OneByte => {
                    let id = first >> 4;
                    if id == 0 {
                        // Padding byte (RFC 8285 section 4.2).
                        self.pos += 1;
                        continue;
                    }
                    if id == 15 {
                        // Reserved id: stop processing the block (section 4.2).
                        self.pos = self.data.len();
                        return Ok(None);
                    }
                    let start = self.pos + 1;
                    let end = start + usize::from(first & 0x0f) + 1;
                    if end > self.data.len() {
                        return Err(Error::BadExtension("one-byte element overruns the block"));
                    }
                    self.pos = end;
                    return Ok(Some((id, start..end)));
                }
                ExtensionForm::TwoByte => {
                    if first == 0 {
                        self.pos += 1;
                        continue;
                    }
                    let Some(&len) = self.data.get(self.pos + 1) else {
                        return Err(Error::BadExtension("two-byte element header truncated"));
                    };
                    let start = self.pos + 2;
                    let end = start + usize::from(len);
                    if end > self.data.len() {
                        return Err(Error::BadExtension("two-byte element overruns the block"));
                    }
                    self.pos = end;
                    return Ok(Some((first, start..end)));
                }
            }
        }
    }

    pub(crate) fn find_range(mut self, id: u8) -> Option<Range<usize>> {
        while let Ok(Some((i, r))) = self.step() {
            if i == id {
                return Some(r);
            }
        }
        None
    }
}

impl<'a> Iterator for Extensions<'a> {
    type Item = Extension<'a>;

    fn next(&mut self) -> Option<Extension<'a>> {
        let (id, range) = self.step().ok()??;
        Some(Extension {
            id,
            data: self.data.get(range)?,
        })
    }
}

/// Well-known extension URIs (`a=extmap`), for mapping SDP to
/// [`ExtensionIds`].
pub mod uri {
    /// RFC 9143 / RFC 8843 media identification.
    pub const MID: &str = "urn:ietf:params:rtp-hdrext:sdes:mid";
    /// RFC 8852 RtpStreamId.
    pub const RID: &str = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
    /// RFC 8852 RepairedRtpStreamId.
    pub const REPAIRED_RID: &str = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
    /// Absolute send time (WebRTC).
    pub const ABS_SEND_TIME: &str = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
    /// Transport-wide sequence number (draft-holmer-rmcat-transport-wide-cc-extensions-01).
    pub const TRANSPORT_CC: &str =
        "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
    /// Client-to-mixer audio level (RFC 6464).
    pub const AUDIO_LEVEL: &str = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
    /// Coordination of video orientation (3GPP TS 26.114).
    pub const VIDEO_ORIENTATION: &str = "urn:3gpp:video-orientation";
    /// Playout delay (WebRTC).
    pub const PLAYOUT_DELAY: &str = "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay";
}

/// Absolute send time: 24-bit 6.18 fixed-point seconds, the middle bits of
/// an NTP timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AbsSendTime(pub u32);

impl AbsSendTime {
    /// From an extension element's data (3 bytes).
    pub fn parse(data: &[u8]) -> Result<AbsSendTime, Error> {
        match data {
            &[a, b, c] => Ok(AbsSendTime(u32::from_be_bytes([0, a, b, c]))),
            _ => Err(Error::BadExtension("abs-send-time is not 3 bytes")),
        }
    }

    /// From a 64-bit NTP timestamp (32.32 fixed point).
    pub fn from_ntp(ntp: u64) -> AbsSendTime {
        AbsSendTime(((ntp >> 14) & 0x00ff_ffff) as u32)
    }

    /// The 3 data bytes.
    pub fn to_bytes(self) -> [u8; 3] {
        let b = self.0.to_be_bytes();
        [b[1], b[2], b[3]]
    }
}

/// Audio level of the packet's audio (RFC 6464 section 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AudioLevel {
    /// The V flag: the encoder believes the packet holds voice.
    pub voice_activity: bool,
    /// Level in -dBov, 0 (loudest) ..= 127 (silence).
    pub level: u8,
}

impl AudioLevel {
    /// From an extension element's data (1 byte; RFC 6464 allows padding
    /// after it in the two-byte form, which is ignored).
    pub fn parse(data: &[u8]) -> Result<AudioLevel, Error> {
        let b = *data.first().ok_or(Error::BadExtension("audio level is empty"))?;
        Ok(AudioLevel {
            voice_activity: b & 0x80 != 0,
            level: b & 0x7f,
        })
    }

    /// The data byte.
    pub fn to_bytes(self) -> [u8; 1] {
        [(u8::from(self.voice_activity) << 7) | (self.level & 0x7f)]
    }
}

/// Coordination of video orientation (3GPP TS 26.114 section 7.4.5): one
/// byte `0 0 0 0 C F R1 R0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VideoOrientation {
    /// C: the back-facing camera took the picture.
    pub back_camera: bool,
    /// F: the picture is flipped horizontally.
    pub flip: bool,
    /// R1 R0: clockwise rotation in quarter turns, 0..=3 (0, 90, 180, 270 degrees).
    pub rotation: u8,
}

impl VideoOrientation {
    /// From an extension element's data (1 byte).
    pub fn parse(data: &[u8]) -> Result<VideoOrientation, Error> {
        let b = *data
            .first()
            .ok_or(Error::BadExtension("video orientation is empty"))?;
        Ok(VideoOrientation {
            back_camera: b & 0x08 != 0,
            flip: b & 0x04 != 0,
            rotation: b & 0x03,
        })
    }

    /// The rotation in degrees.
    pub fn degrees(self) -> u16 {
        u16::from(self.rotation & 3) * 90
    }

    /// The data byte.
    pub fn to_bytes(self) -> [u8; 1] {
        [(u8::from(self.back_camera) << 3) | (u8::from(self.flip) << 2) | (self.rotation & 3)]
    }
}

/// Playout delay limits: two 12-bit values in 10 ms units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PlayoutDelay {
    /// Minimum delay, in 10 ms units (0..=4095).
    pub min: u16,
    /// Maximum delay, in 10 ms units (0..=4095).
    pub max: u16,
}

impl PlayoutDelay {
    /// From an extension element's data (3 bytes).
    pub fn parse(data: &[u8]) -> Result<PlayoutDelay, Error> {
        match data {
            &[a, b, c] => Ok(PlayoutDelay {
                min: (u16::from(a) << 4) | u16::from(b >> 4),
                max: (u16::from(b & 0x0f) << 8) | u16::from(c),
            }),
            _ => Err(Error::BadExtension("playout delay is not 3 bytes")),
        }
    }

    /// The 3 data bytes (values above 4095 are truncated to 12 bits).
    pub fn to_bytes(self) -> [u8; 3] {
        let (min, max) = (self.min & 0x0fff, self.max & 0x0fff);
        [
            (min >> 4) as u8,
            (((min & 0x0f) << 4) | (max >> 8)) as u8,
            max as u8,
        ]
    }
}

/// Transport-wide sequence number (2 bytes).
pub fn parse_transport_cc(data: &[u8]) -> Result<u16, Error> {
    match data {
        &[a, b] => Ok(u16::from_be_bytes([a, b])),
        _ => Err(Error::BadExtension(
            "transport-wide sequence number is not 2 bytes",
        )),
    }
}

/// A mid, rid or repaired-rid value: UTF-8 text (RFC 8852 restricts rids to
/// alphanumerics; this accepts any UTF-8 and leaves policy to the caller).
pub fn parse_text(data: &[u8]) -> Result<&str, Error> {
    core::str::from_utf8(data).map_err(|_| Error::BadExtension("identifier is not UTF-8"))
}

/// The local ids negotiated for each extension this crate decodes (from
/// `a=extmap`); `None` for extensions not negotiated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ExtensionIds {
    /// [`uri::MID`].
    pub mid: Option<u8>,
    /// [`uri::RID`].
    pub rid: Option<u8>,
    /// [`uri::REPAIRED_RID`].
    pub repaired_rid: Option<u8>,
    /// [`uri::ABS_SEND_TIME`].
    pub abs_send_time: Option<u8>,
    /// [`uri::TRANSPORT_CC`].
    pub transport_cc: Option<u8>,
    /// [`uri::AUDIO_LEVEL`].
    pub audio_level: Option<u8>,
    /// [`uri::VIDEO_ORIENTATION`].
    pub video_orientation: Option<u8>,
    /// [`uri::PLAYOUT_DELAY`].
    pub playout_delay: Option<u8>,
}

impl ExtensionIds {
    /// Records `id` for a known extension `uri`; returns false (and records
    /// nothing) for URIs this crate does not decode.
    pub fn set_by_uri(&mut self, uri: &str, id: u8) -> bool {
        let slot = match uri {
            uri::MID => &mut self.mid,
            uri::RID => &mut self.rid,
            uri::REPAIRED_RID => &mut self.repaired_rid,
            uri::ABS_SEND_TIME => &mut self.abs_send_time,
            uri::TRANSPORT_CC => &mut self.transport_cc,
            uri::AUDIO_LEVEL => &mut self.audio_level,
            uri::VIDEO_ORIENTATION => &mut self.video_orientation,
            uri::PLAYOUT_DELAY => &mut self.playout_delay,
            _ => return false,
        };
        *slot = Some(id);
        true
    }

    /// Decodes every negotiated extension present in `extensions`, in one
    /// pass. Elements that do not decode are left `None`.
    pub fn read<'a>(&self, extensions: Extensions<'a>) -> ExtensionValues<'a> {
        let mut v = ExtensionValues::default();
        for e in extensions {
            let id = Some(e.id);
            if id == self.mid {
                v.mid = parse_text(e.data).ok();
            } else if id == self.rid {
                v.rid = parse_text(e.data).ok();
            } else if id == self.repaired_rid {
                v.repaired_rid = parse_text(e.data).ok();
            } else if id == self.abs_send_time {
                v.abs_send_time = AbsSendTime::parse(e.data).ok();
            } else if id == self.transport_cc {
                v.transport_cc = parse_transport_cc(e.data).ok();
            } else if id == self.audio_level {
                v.audio_level = AudioLevel::parse(e.data).ok();
            } else if id == self.video_orientation {
                v.video_orientation = VideoOrientation::parse(e.data).ok();
            } else if id == self.playout_delay {
                v.playout_delay = PlayoutDelay::parse(e.data).ok();
            }
        }
        v
    }
}

/// Decoded values of the negotiated extensions of one packet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ExtensionValues<'a> {
    /// Media identification.
    pub mid: Option<&'a str>,
    /// RtpStreamId.
    pub rid: Option<&'a str>,
    /// RepairedRtpStreamId.
    pub repaired_rid: Option<&'a str>,
    /// Absolute send time.
    pub abs_send_time: Option<AbsSendTime>,
    /// Transport-wide sequence number.
    pub transport_cc: Option<u16>,
    /// Audio level.
    pub audio_level: Option<AudioLevel>,
    /// Video orientation.
    pub video_orientation: Option<VideoOrientation>,
    /// Playout delay.
    pub playout_delay: Option<PlayoutDelay>,
}
