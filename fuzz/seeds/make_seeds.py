#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/seeds/ (committed; run again to
regenerate): RFC 5769 test vectors, an ICE connectivity check, a message with
every attribute rtcwire-stun knows, ChannelData, a few BindingClient
scripts (see fuzz_targets/stun_transaction.rs for their format), and the SDP
test corpus of rtcwire-sdp (crates/sdp/tests/corpus/)."""

import hashlib
import hmac
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
COOKIE = 0x2112A442
PASSWORD = b"VOkJxbRl1RmTxUk/WvJxBt"  # RFC 5769
TID = bytes.fromhex("b7e7a701bc34d686fa87dfae")  # RFC 5769


def attr(t, value):
    pad = (4 - len(value) % 4) % 4
    return struct.pack(">HH", t, len(value)) + value + b"\0" * pad


def header(mtype, length, tid=TID):
    return struct.pack(">HHI", mtype, length, COOKIE) + tid


def message(mtype, attrs, tid=TID, integrity=None, sha256=False, fingerprint=True):
    body = b"".join(attrs)
    if integrity is not None:
        size = 32 if sha256 else 20
        signed = header(mtype, len(body) + 4 + size, tid) + body
        algo = hashlib.sha256 if sha256 else hashlib.sha1
        mac = hmac.new(integrity, signed, algo).digest()
        body += attr(0x001C if sha256 else 0x0008, mac)
    if fingerprint:
        crc = zlib.crc32(header(mtype, len(body) + 8, tid) + body) ^ 0x5354554E
        body += attr(0x8028, struct.pack(">I", crc))
    return header(mtype, len(body), tid) + body


def xor_addr(family, port, ip, tid=TID):
    port ^= COOKIE >> 16
    key = struct.pack(">I", COOKIE) + tid
    ip = bytes(a ^ b for a, b in zip(ip, key))
    return struct.pack(">BBH", 0, family, port) + ip


def write(corpus, name, data):
    os.makedirs(os.path.join(HERE, corpus), exist_ok=True)
    with open(os.path.join(HERE, corpus, name), "wb") as f:
        f.write(data)


# RFC 5769 section 2.1 to 2.4, byte for byte.
RFC5769 = {
    "rfc5769_request.bin": "000100582112a442b7e7a701bc34d686fa87dfae802200105354554e207465737420636c69656e74"
    "002400046e0001ff80290008932ff9b151263b36000600096576746a3a68367659202020000800149aeaa70cbfd8cb56781ef2b5"
    "b2d3f249c1b571a280280004e57a3bcf",
    "rfc5769_response_v4.bin": "0101003c2112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563746f7220002000"
    "080001a147e112a643000800142b91f599fd9e90c38c7489f92af9ba53f06be7d780280004c07d4c96",
    "rfc5769_response_v6.bin": "010100482112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563746f7220002000"
    "140002a1470113a9faa5d3f179bc25f4b5bed2b9d900080014a382954e4be67bf11784c97c8292c275bfe3ed4180280004c8fb0b4c",
    "rfc5769_long_term.bin": "000100602112a44278ad3433c6ad72c029da412e00060012e3839ee38388e383aae38383e382afe3"
    "82b900000015001c662f2f3439396b39353464364f4c33346f4c394653547679363473410014000b6578616d706c652e6f72670000"
    "080014f67024656dd64a3e02b8e0712e85c9a28ca89666",
}
for name, hexdata in RFC5769.items():
    write("stun_message", name, bytes.fromhex(hexdata))

# An ICE connectivity check, as MessageBuilder writes it, signed with the
# RFC 5769 credentials the fuzz target's responder expects.
ICE_CHECK = message(
    0x0001,
    [
        attr(0x0006, b"evtj:h6vY"),
        attr(0x0024, struct.pack(">I", 0x6E001EFF)),
        attr(0x802A, struct.pack(">Q", 0x123456789ABCDEF0)),
        attr(0x0025, b""),
    ],
    integrity=PASSWORD,
)
write("stun_message", "ice_check.bin", ICE_CHECK)

# The smallest Binding request a STUN server sees: header and FINGERPRINT.
write("stun_message", "binding_request_fingerprint.bin", message(0x0001, []))

# Every attribute type rtcwire-stun decodes, plus two it does not (one
# comprehension-optional, one comprehension-required), signed with
# MESSAGE-INTEGRITY-SHA256: an Allocate error response.
V6 = bytes.fromhex("20010db8000000000000000000000009")
EVERYTHING = [
    attr(0x0001, struct.pack(">BBH", 0, 1, 40000) + bytes([203, 0, 113, 9])),
    attr(0x0020, xor_addr(1, 40000, bytes([203, 0, 113, 9]))),
    attr(0x0006, "\u30de\u30c8\u30ea\u30c3\u30af\u30b9".encode()),
    attr(0x001E, hashlib.sha256(b"user:example.org").digest()),
    attr(0x0009, struct.pack(">HBB", 0, 4, 38) + b"Stale Nonce"),
    attr(0x0014, b"example.org"),
    attr(0x0015, b"f//499k954d6OL34oL9FSTvy64sA"),
    attr(0x8002, struct.pack(">HH", 2, 0) + struct.pack(">HH", 1, 0)),
    attr(0x001D, struct.pack(">HH", 2, 0)),
    attr(0x000A, struct.pack(">HHH", 0x7FFF, 0x001F, 0x0030)),
    attr(0x8022, b"rtcwire seeds"),
    attr(0x8023, struct.pack(">BBH", 0, 2, 3478) + V6),
    attr(0x8003, b"turn.example.org"),
    attr(0x0024, struct.pack(">I", 0x6E001EFF)),
    attr(0x0025, b""),
    attr(0x8029, struct.pack(">Q", 0x0FEDCBA987654321)),
    attr(0x802A, struct.pack(">Q", 0x123456789ABCDEF0)),
    attr(0x000C, struct.pack(">HH", 0x4001, 0)),
    attr(0x000D, struct.pack(">I", 600)),
    attr(0x0012, xor_addr(2, 5000, V6)),
    attr(0x0013, b"payload"),
    attr(0x0016, xor_addr(1, 50000, bytes([198, 51, 100, 7]))),
    attr(0x0017, bytes([1, 0, 0, 0])),
    attr(0x0018, bytes([0x80])),
    attr(0x0019, bytes([17, 0, 0, 0])),
    attr(0x001A, b""),
    attr(0x0022, struct.pack(">Q", 0xA5A5A5A5A5A5A5A5)),
    attr(0x8000, bytes([2, 0, 0, 0])),
    attr(0x8001, struct.pack(">BBBB", 2, 0, 4, 40) + b"Address Family not Supported"),
    attr(0x8004, struct.pack(">BBBBI", 0, 0, 3, 1, 1280)),
    attr(0xC057, struct.pack(">HH", 1, 999)),
    attr(0x7FFF, b"must understand"),
]
write("stun_message", "every_attribute.bin", message(0x0113, EVERYTHING, integrity=PASSWORD, sha256=True))
# The same as a Binding request: a 420 answer.
write("stun_message", "unknown_required.bin", message(0x0001, EVERYTHING[-2:]))

# TURN ChannelData, UDP (unpadded) and TCP (padded).
write("stun_message", "channel_data.bin", struct.pack(">HH", 0x4001, 5) + b"hello")
write("stun_message", "channel_data_padded.bin", struct.pack(">HH", 0x4FFF, 5) + b"hello\0\0\0")

# BindingClient scripts: options byte, then operations.
ZERO_TID = bytes(12)


def datagram(control, data):
    assert len(data) < 256
    return bytes([control, len(data)]) + data


SUCCESS = message(0x0101, [attr(0x0020, xor_addr(1, 40000, bytes([203, 0, 113, 9]), ZERO_TID))],
                  tid=ZERO_TID, fingerprint=False)
ERROR_401 = message(0x0111, [attr(0x0009, struct.pack(">HBB", 0, 4, 1) + b"Unauthenticated")],
                    tid=ZERO_TID, fingerprint=False)
write("stun_transaction", "answered.bin", bytes([0]) + datagram(2 | 4, SUCCESS))
write("stun_transaction", "answered_late.bin", bytes([2, 0, 0]) + datagram(2 | 4, SUCCESS))
write("stun_transaction", "stranger_then_server.bin",
      bytes([0]) + datagram(2 | 4 | 8, SUCCESS) + datagram(2 | 4, SUCCESS))
write("stun_transaction", "unsigned_answer_to_signed_request.bin", bytes([1]) + datagram(2 | 4, SUCCESS))
write("stun_transaction", "error_401.bin", bytes([1]) + datagram(2 | 4, ERROR_401))
write("stun_transaction", "timed_out.bin", bytes([0]) + bytes(8))
write("stun_transaction", "early_and_late_timers.bin", bytes([0, 1 | 4, 1 | 200, 0, 1 | 252, 0]))

# SDP: the session descriptions of rtcwire-sdp's test corpus (browser offers
# and answers, SFU and RFC 8866 examples), byte for byte.
SDP_CORPUS = os.path.join(HERE, "..", "..", "crates", "sdp", "tests", "corpus")
for name in sorted(os.listdir(SDP_CORPUS)):
    if name.endswith(".sdp"):
        with open(os.path.join(SDP_CORPUS, name), "rb") as f:
            write("sdp", name, f.read())

# rtc_relay: options byte (bit 0 TCP, bit 1 genuine allocation, bit 2 remote
# description), then operations; op 11 carries the genuine peer's traffic
# through the harness's relay, so ICE, DTLS and SCTP run over TURN.
write("rtc_relay", "udp_relayed_peer.bin", bytes([0x06] + [11, 0] * 24))
write("rtc_relay", "tcp_relayed_peer.bin", bytes([0x07] + [11, 0] * 24))
write("rtc_relay", "udp_allocation.bin", bytes([0x02, 0, 0, 0]))
write("rtc_relay", "tcp_allocation_then_disconnect.bin", bytes([0x03, 0, 0, 11, 0, 11, 0]))
