"""An aioice ICE agent for rtcwire's interop tests (interop/tests/aioice.rs).

Usage: peer.py controlling|controlled [TIE_BREAKER]

TIE_BREAKER (0 to 2**64-1) replaces aioice's random one, so that a test of
role conflicts (RFC 8445 section 7.3.1.1) knows who wins.

It talks to the test over stdin/stdout, one JSON object per line:

  -> {"type": "local", "ufrag": U, "pwd": P, "candidates": [SDP, ...]}
  <- {"type": "remote", "ufrag": U, "pwd": P, "candidates": [SDP, ...]}
  -> {"type": "connected", "local": [HOST, PORT], "remote": [HOST, PORT],
      "controlling": BOOL}
     then it sends "hello from aioice" on the nominated pair, and echoes
     every datagram it receives, prefixed with "echo:", reporting each one:
  -> {"type": "echoed", "data": TEXT}
  <- {"type": "close"}   (or end of input): it closes and exits 0.

Errors are reported as {"type": "error", "message": M} before exiting 1.
It checks consent every 100 ms instead of 5 s. aioice's debug log goes to
stderr. It only ever uses 127.0.0.1, and no STUN server.
"""

import asyncio
import json
import logging
import sys

import aioice
import aioice.ice

# aioice skips 127.0.0.1 when it lists the host's addresses: use only it.
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]
# Consent checks (RFC 7675) every 100 ms instead of 5 s, so that the test
# sees some of them; six unanswered ones in a row close the connection.
aioice.ice.CONSENT_INTERVAL = 0.1


def say(**message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


async def stdin_reader():
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), sys.stdin
    )
    return reader


async def read_message(reader):
    """The next JSON line, or None at end of input."""
    line = await reader.readline()
    if not line:
        return None
    return json.loads(line)


async def echo(conn):
    while True:
        data = await conn.recv()
        await conn.send(b"echo:" + data)
        say(type="echoed", data=data.decode("utf-8", "replace"))


async def main(role, tie_breaker):
    reader = await stdin_reader()
    conn = aioice.Connection(
        ice_controlling=(role == "controlling"),
        stun_server=None,
        use_ipv6=False,
    )
    if tie_breaker is not None:
        conn._tie_breaker = tie_breaker
    try:
        await conn.gather_candidates()
        for c in conn.local_candidates:
            if c.host != "127.0.0.1":
                raise RuntimeError(f"gathered a candidate off loopback: {c.to_sdp()}")
        say(
            type="local",
            ufrag=conn.local_username,
            pwd=conn.local_password,
            candidates=[c.to_sdp() for c in conn.local_candidates],
        )

        remote = await read_message(reader)
        if remote is None:
            return
        if remote.get("type") != "remote":
            raise RuntimeError(f"expected the remote description, got {remote}")
        conn.remote_username = remote["ufrag"]
        conn.remote_password = remote["pwd"]
        for sdp in remote["candidates"]:
            sdp = sdp.removeprefix("candidate:")
            candidate = aioice.Candidate.from_sdp(sdp)
            if candidate.host != "127.0.0.1":
                raise RuntimeError(f"refusing a candidate off loopback: {sdp}")
            await conn.add_remote_candidate(candidate)
        await conn.add_remote_candidate(None)

        await conn.connect()
        pair = conn._nominated[1]
        say(
            type="connected",
            local=list(pair.local_addr),
            remote=list(pair.remote_addr),
            controlling=conn.ice_controlling,
        )
        await conn.send(b"hello from aioice")

        echoing = asyncio.create_task(echo(conn))
        closing = asyncio.create_task(read_message(reader))
        done, _ = await asyncio.wait(
            [echoing, closing], return_when=asyncio.FIRST_COMPLETED
        )
        echoing.cancel()
        closing.cancel()
        if echoing in done and echoing.exception() is not None:
            raise echoing.exception()
    finally:
        await conn.close()


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3) or sys.argv[1] not in ("controlling", "controlled"):
        sys.exit("usage: peer.py controlling|controlled [TIE_BREAKER]")
    tie_breaker = int(sys.argv[2]) if len(sys.argv) == 3 else None
    if tie_breaker is not None and not 0 <= tie_breaker < 2**64:
        sys.exit("TIE_BREAKER is 0 to 2**64-1")
    logging.basicConfig(
        level=logging.DEBUG,
        stream=sys.stderr,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    try:
        asyncio.run(main(sys.argv[1], tie_breaker))
    except Exception as e:  # noqa: BLE001 - reported to the test, then exit 1
        logging.exception("peer failed")
        say(type="error", message=f"{type(e).__name__}: {e}")
        sys.exit(1)
