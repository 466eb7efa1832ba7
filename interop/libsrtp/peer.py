"""libsrtp (through pylibsrtp) as the peer of interop/tests/libsrtp.rs.

Reads one JSON request from standard input:
  {"profile": "AES128_CM_SHA1_80" | "AES128_CM_SHA1_32" | "AEAD_AES_128_GCM"
              | "AEAD_AES_256_GCM",
   "key": hex of master key then master salt,
   "ops": [{"op": "protect" | "unprotect" | "protect_rtcp" | "unprotect_rtcp",
            "data": hex}, ...]}
runs the operations in order on one outbound and one inbound libsrtp
session (both keyed with "key", any SSRC), and writes one JSON line:
  {"results": [{"ok": hex} | {"error": libsrtp's message}, ...]}
"""

import json
import sys

import pylibsrtp

PROFILES = {
    "AES128_CM_SHA1_80": pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80,
    "AES128_CM_SHA1_32": pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_32,
    "AEAD_AES_128_GCM": pylibsrtp.Policy.SRTP_PROFILE_AEAD_AES_128_GCM,
    "AEAD_AES_256_GCM": pylibsrtp.Policy.SRTP_PROFILE_AEAD_AES_256_GCM,
}


def session(key, profile, direction):
    policy = pylibsrtp.Policy(key=key, ssrc_type=direction, srtp_profile=profile)
    return pylibsrtp.Session(policy=policy)


def main():
    request = json.loads(sys.stdin.read())
    key = bytes.fromhex(request["key"])
    profile = PROFILES[request["profile"]]
    outbound = session(key, profile, pylibsrtp.Policy.SSRC_ANY_OUTBOUND)
    inbound = session(key, profile, pylibsrtp.Policy.SSRC_ANY_INBOUND)
    calls = {
        "protect": outbound.protect,
        "protect_rtcp": outbound.protect_rtcp,
        "unprotect": inbound.unprotect,
        "unprotect_rtcp": inbound.unprotect_rtcp,
    }
    results = []
    for op in request["ops"]:
        try:
            out = calls[op["op"]](bytes.fromhex(op["data"]))
            results.append({"ok": out.hex()})
        except pylibsrtp.Error as e:
            results.append({"error": str(e)})
    print(json.dumps({"results": results}))


if __name__ == "__main__":
    main()
