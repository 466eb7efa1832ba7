//! rtcwire-srtp against libsrtp, the reference SRTP implementation, through
//! PyPI's `pylibsrtp` (`interop/libsrtp/peer.py`): for each of the four
//! WebRTC profiles, libsrtp unprotects what rtcwire protected and rtcwire
//! unprotects what libsrtp protected, SRTP and SRTCP, with sequence numbers
//! running across 65535 -> 0 (the rollover counter moves to 1 on both sides)
//! and a reordering across the wrap; replayed and tampered packets are
//! rejected by both.

use std::io::Write;
use std::process::{Command, Stdio};

use rtcwire_interop::{repo_root, venv_python};
use rtcwire_srtp::{Config, Context, Error, MasterKey, ProtectionProfile};
use serde_json::{Value, json};

const SSRC: u32 = 0x1122_3344;

fn libsrtp_name(profile: ProtectionProfile) -> &'static str {
    match profile {
        ProtectionProfile::Aes128CmHmacSha1_80 => "AES128_CM_SHA1_80",
        ProtectionProfile::Aes128CmHmacSha1_32 => "AES128_CM_SHA1_32",
        ProtectionProfile::AeadAes128Gcm => "AEAD_AES_128_GCM",
        ProtectionProfile::AeadAes256Gcm => "AEAD_AES_256_GCM",
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Runs `ops` (operation name, packet) through libsrtp in one process;
/// each result is the output packet or libsrtp's error message.
fn libsrtp(
    profile: ProtectionProfile,
    master: &MasterKey,
    ops: &[(&str, Vec<u8>)],
) -> Vec<Result<Vec<u8>, String>> {
    let python = venv_python();
    let check = Command::new(&python)
        .args(["-c", "import pylibsrtp"])
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "pylibsrtp is not installed in .venv: run scripts/install-deps (scripts/test does)"
    );
    let mut key = master.key().to_vec();
    key.extend_from_slice(master.salt());
    let request = json!({
        "profile": libsrtp_name(profile),
        "key": hex(&key),
        "ops": ops.iter().map(|(op, data)| json!({"op": op, "data": hex(data)})).collect::<Vec<_>>(),
    });
    let mut child = Command::new(&python)
        .arg(repo_root().join("interop/libsrtp/peer.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "peer.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let reply: Value = serde_json::from_slice(&output.stdout).unwrap();
    let results: Vec<_> = reply["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| match r["ok"].as_str() {
            Some(h) => Ok(unhex(h)),
            None => Err(r["error"].as_str().unwrap_or("?").to_owned()),
        })
        .collect();
    assert_eq!(results.len(), ops.len());
    results
}

/// RTP packets with sequence numbers 65530..=65535, 0..=6: varied payload
/// sizes, CSRCs on some, a one-byte header extension on others. The last
/// one is only ever delivered tampered.
fn rtp_packets() -> Vec<Vec<u8>> {
    (65530..=65535u16)
        .chain(0..=6)
        .enumerate()
        .map(|(i, seq)| {
            let csrcs = (i % 3) as u8;
            let extension = i % 2 == 1;
            let mut p = vec![
                0x80 | csrcs | if extension { 0x10 } else { 0 },
                96 | if i == 0 { 0x80 } else { 0 },
            ];
            p.extend_from_slice(&seq.to_be_bytes());
            p.extend_from_slice(&(3000 * i as u32).to_be_bytes());
            p.extend_from_slice(&SSRC.to_be_bytes());
            for c in 0..csrcs {
                p.extend_from_slice(&[0xc0, 0, 0, c]);
            }
            if extension {
                p.extend_from_slice(&[0xbe, 0xde, 0, 1, 0x10, 0xaa, 0, 0]);
            }
            p.extend((0..(20 + i * 97)).map(|b| (b * 7 + i) as u8));
            p
        })
        .collect()
}

/// RTCP compound packets from SSRC (a receiver report and a sender report).
fn rtcp_packets() -> Vec<Vec<u8>> {
    (0..4u8)
        .map(|i| {
            let mut p = vec![0x80, 201, 0, 1];
            p.extend_from_slice(&SSRC.to_be_bytes());
            if i % 2 == 1 {
                p = vec![0x80, 200, 0, 6];
                p.extend_from_slice(&SSRC.to_be_bytes());
                p.extend_from_slice(&[i; 20]);
            }
            p
        })
        .collect()
}

fn protect_rtp(ctx: &mut Context, packet: &[u8]) -> Vec<u8> {
    let mut buf = packet.to_vec();
    buf.resize(packet.len() + 16, 0);
    let n = ctx.protect_rtp(&mut buf, packet.len()).unwrap();
    buf.truncate(n);
    buf
}

fn protect_rtcp(ctx: &mut Context, packet: &[u8]) -> Vec<u8> {
    let mut buf = packet.to_vec();
    buf.resize(packet.len() + 20, 0);
    let n = ctx.protect_rtcp(&mut buf, packet.len()).unwrap();
    buf.truncate(n);
    buf
}

fn cross_check(profile: ProtectionProfile) {
    let key: Vec<u8> = (0..profile.master_key_len())
        .map(|i| (i * 29 + 3) as u8)
        .collect();
    let salt: Vec<u8> = (0..profile.master_salt_len())
        .map(|i| (i * 13 + 101) as u8)
        .collect();
    let master = MasterKey::new(profile, &key, &salt).unwrap();
    let rtp = rtp_packets();
    let rtcp = rtcp_packets();

    // rtcwire protects; libsrtp unprotects (packets 6 and 5 swapped: the
    // first after the wrap arrives before the last before it), then a
    // replay and a tampered packet of each kind.
    let mut ours = Context::new(&master, Config::default()).unwrap();
    let srtp: Vec<Vec<u8>> = rtp.iter().map(|p| protect_rtp(&mut ours, p)).collect();
    assert_eq!(ours.rollover_counter(SSRC), Some(1));
    let srtcp: Vec<Vec<u8>> = rtcp.iter().map(|p| protect_rtcp(&mut ours, p)).collect();
    let last = rtp.len() - 1;
    let mut order: Vec<usize> = (0..last).collect();
    order.swap(5, 6);
    let mut ops: Vec<(&str, Vec<u8>)> = order.iter().map(|&i| ("unprotect", srtp[i].clone())).collect();
    ops.push(("unprotect", srtp[7].clone()));
    let mut tampered = srtp[last].clone();
    tampered[20] ^= 0x40;
    ops.push(("unprotect", tampered));
    ops.extend(srtcp.iter().map(|p| ("unprotect_rtcp", p.clone())));
    ops.push(("unprotect_rtcp", srtcp[1].clone()));
    // Then libsrtp protects the same packets for rtcwire.
    ops.extend(rtp.iter().map(|p| ("protect", p.clone())));
    ops.extend(rtcp.iter().map(|p| ("protect_rtcp", p.clone())));
    let results = libsrtp(profile, &master, &ops);
    let mut results = results.into_iter();

    for &i in &order {
        let got = results.next().unwrap();
        assert_eq!(
            got.as_deref(),
            Ok(&rtp[i][..]),
            "libsrtp unprotecting rtcwire's packet {i}"
        );
    }
    let replay = results.next().unwrap().unwrap_err();
    assert!(
        replay.contains("replay"),
        "libsrtp on a replayed SRTP packet: {replay}"
    );
    let tamper = results.next().unwrap().unwrap_err();
    assert!(
        tamper.contains("authentication"),
        "libsrtp on a tampered SRTP packet: {tamper}"
    );
    for (i, p) in rtcp.iter().enumerate() {
        let got = results.next().unwrap();
        assert_eq!(
            got.as_deref(),
            Ok(&p[..]),
            "libsrtp unprotecting rtcwire's SRTCP packet {i}"
        );
    }
    let replay = results.next().unwrap().unwrap_err();
    assert!(
        replay.contains("replay"),
        "libsrtp on a replayed SRTCP packet: {replay}"
    );

    // libsrtp's packets into rtcwire, in the same order, with the same
    // replay and tampering.
    let theirs_srtp: Vec<Vec<u8>> = (0..rtp.len()).map(|_| results.next().unwrap().unwrap()).collect();
    let theirs_srtcp: Vec<Vec<u8>> = (0..rtcp.len())
        .map(|_| results.next().unwrap().unwrap())
        .collect();
    let mut rx = Context::new(&master, Config::default()).unwrap();
    rx.add_stream(SSRC).unwrap();
    for &i in &order {
        let mut buf = theirs_srtp[i].clone();
        assert_eq!(buf.len(), rtp[i].len() + profile.rtp_overhead());
        let n = rx
            .unprotect_rtp(&mut buf)
            .unwrap_or_else(|e| panic!("rtcwire unprotecting libsrtp's packet {i}: {e}"));
        assert_eq!(buf[..n], rtp[i][..], "rtcwire unprotecting libsrtp's packet {i}");
    }
    assert_eq!(rx.rollover_counter(SSRC), Some(1));
    assert_eq!(
        rx.unprotect_rtp(&mut theirs_srtp[7].clone()),
        Err(Error::Replay("duplicate packet index"))
    );
    let mut tampered = theirs_srtp[last].clone();
    tampered[20] ^= 0x40;
    assert_eq!(rx.unprotect_rtp(&mut tampered), Err(Error::Authentication));
    for (i, p) in rtcp.iter().enumerate() {
        let mut buf = theirs_srtcp[i].clone();
        assert_eq!(buf.len(), p.len() + profile.rtcp_overhead());
        let n = rx
            .unprotect_rtcp(&mut buf)
            .unwrap_or_else(|e| panic!("rtcwire unprotecting libsrtp's SRTCP packet {i}: {e}"));
        assert_eq!(buf[..n], p[..], "rtcwire unprotecting libsrtp's SRTCP packet {i}");
    }
    assert!(matches!(
        rx.unprotect_rtcp(&mut theirs_srtcp[1].clone()),
        Err(Error::Replay(_))
    ));
}

#[test]
#[ignore = "needs libsrtp (pylibsrtp in .venv): scripts/test runs it"]
fn libsrtp_aes128_cm_hmac_sha1_80() {
    cross_check(ProtectionProfile::Aes128CmHmacSha1_80);
}

#[test]
#[ignore = "needs libsrtp (pylibsrtp in .venv): scripts/test runs it"]
fn libsrtp_aes128_cm_hmac_sha1_32() {
    cross_check(ProtectionProfile::Aes128CmHmacSha1_32);
}

#[test]
#[ignore = "needs libsrtp (pylibsrtp in .venv): scripts/test runs it"]
fn libsrtp_aead_aes_128_gcm() {
    cross_check(ProtectionProfile::AeadAes128Gcm);
}

#[test]
#[ignore = "needs libsrtp (pylibsrtp in .venv): scripts/test runs it"]
fn libsrtp_aead_aes_256_gcm() {
    cross_check(ProtectionProfile::AeadAes256Gcm);
}
