//! What a user sees when a description is malformed, and the parser's
//! bounds.
// Helpers outside #[test] functions unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rtcwire_sdp::{Limits, SessionDescription};

const HEAD: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";

fn error(text: &str) -> String {
    SessionDescription::parse(text).unwrap_err().to_string()
}

#[test]
fn a_malformed_line_names_its_number_text_and_expectation() {
    let text = format!("{HEAD}m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=rtpmap:111 opus\r\n");
    assert_eq!(
        error(&text),
        "SDP line 7: rtpmap: `PT encoding/clock-rate[/channels]`, found `a=rtpmap:111 opus`"
    );
}

#[test]
fn errors_for_each_kind_of_mistake() {
    let cases: &[(&str, &str)] = &[
        ("", "SDP line 0: `v=0` as the first line, found ``"),
        ("v=1\r\n", "SDP line 1: `v=0` as the first line, found `v=1`"),
        (
            "v=0\r\no=- x 2 IN IP4 1.2.3.4\r\n",
            "SDP line 2: `o=username sess-id sess-version nettype addrtype address`, found `o=- x 2 IN IP4 1.2.3.4`",
        ),
        (
            "v=0\r\no=- 1 2 IN IP4 1.2.3.4\r\nt=0 0\r\n",
            "SDP line 3: an `s=` line after `o=`, found `t=0 0`",
        ),
        (
            &format!("{HEAD}garbage\r\n"),
            "SDP line 5: a line of the form `x=value`, found `garbage`",
        ),
        (
            &format!("{HEAD}c=IN IP4\r\n"),
            "SDP line 5: c=: `nettype addrtype address`, found `c=IN IP4`",
        ),
        (
            &format!("{HEAD}c=IN IP4 1.2.3.4\r\n"),
            "SDP line 5: lines in RFC 8866 order: `v o s i u e p c b t r z k a` then `m i c b k a`, found `c=IN IP4 1.2.3.4`",
        ),
        (
            &format!("{HEAD}m=audio nine RTP/AVP 0\r\n"),
            "SDP line 5: m=: `media port[/count] proto fmt ...`, found `m=audio nine RTP/AVP 0`",
        ),
        (
            &format!("{HEAD}m=audio 9 RTP/AVP 0\r\nt=0 0\r\n"),
            "SDP line 6: only `i= c= b= k= a=` lines inside a media section, found `t=0 0`",
        ),
        (
            &format!("{HEAD}a=setup:maybe\r\n"),
            "SDP line 5: setup: `actpass`, `active`, `passive` or `holdconn`, found `a=setup:maybe`",
        ),
        (
            &format!("{HEAD}a=candidate:1 1 udp 99 1.2.3.4 5 typ bogus\r\n"),
            "SDP line 5: candidate type `host`, `srflx`, `prflx` or `relay`, found `a=candidate:1 1 udp 99 1.2.3.4 5 typ bogus`",
        ),
        (
            &format!("{HEAD}a=candidate:1 1 udp 99 1.2.3.4 5 typ host raddr\r\n"),
            "SDP line 5: candidate extension: `name value` pairs, found `a=candidate:1 1 udp 99 1.2.3.4 5 typ host raddr`",
        ),
        (
            &format!("{HEAD}a=candidate:candidate:candidate:1 1 udp 1 1.2.3.4 5 typ host\r\n"),
            "SDP line 5: candidate foundation: 1 to 32 characters of ALPHA, DIGIT, `+` or `/`, found `a=candidate:candidate:candidate:1 1 udp 1 1.2.3.4 5 typ host`",
        ),
        (
            &format!("{HEAD}a=sctp-port:70000\r\n"),
            "SDP line 5: sctp-port: a port number, found `a=sctp-port:70000`",
        ),
        (
            &format!("{HEAD}a=extmap:0 urn:x\r\n"),
            "SDP line 5: extmap: `id[/direction] uri [attributes]`, found `a=extmap:0 urn:x`",
        ),
        (
            &format!("{HEAD}a=rtpmap:128 x/1\r\n"),
            "SDP line 5: rtpmap: `PT encoding/clock-rate[/channels]`, found `a=rtpmap:128 x/1`",
        ),
        (
            &format!("{HEAD}a=ssrc-group:FID 1 x\r\n"),
            "SDP line 5: ssrc-group: `SEMANTICS ssrc ...`, found `a=ssrc-group:FID 1 x`",
        ),
        (
            &format!("{HEAD}a=simulcast:send a send b\r\n"),
            "SDP line 5: simulcast: `send LIST [recv LIST]` or `recv LIST [send LIST]`, found `a=simulcast:send a send b`",
        ),
        (
            &format!("{HEAD}a=ptime:fast\r\n"),
            "SDP line 5: a decimal number, found `a=ptime:fast`",
        ),
        (
            &format!("{HEAD}a=\r\n"),
            "SDP line 5: an attribute name after `a=`, found `a=`",
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(&error(text), expected, "input:\n{text}");
    }
}

#[test]
fn leniency_where_browsers_are_lenient() {
    // Any s= value, blank lines, bare LF, repeated spaces, unknown line
    // types and unknown attributes.
    let text = "v=0\no=-  1 2 IN IP4 127.0.0.1\n\ns=a  session: with anything\nx=unknown line\nt=0 0\na=x-custom:1 2 3\nm=audio 9  RTP/AVP 0\ny=also kept\na=mid:a\n";
    let sdp = SessionDescription::parse(text).unwrap();
    assert_eq!(sdp.session_name, "a  session: with anything");
    assert_eq!(sdp.media[0].mid(), Some("a"));
    let written = sdp.to_sdp();
    assert!(written.contains("x=unknown line\r\n"));
    assert!(written.contains("a=x-custom:1 2 3\r\n"));
    assert!(written.contains("y=also kept\r\n"));
    assert_eq!(SessionDescription::parse(&written).unwrap(), sdp);
}

#[test]
fn limits_bound_the_work() {
    let limits = Limits {
        max_len: 4096,
        max_lines: 20,
        max_media: 2,
        max_lines_per_section: 10,
    };
    let parse = |t: &str| {
        SessionDescription::parse_with_limits(t, &limits)
            .map(|_| ())
            .map_err(|e| e.expected)
    };

    let many_media = format!("{HEAD}{}", "m=audio 9 RTP/AVP 0\r\n".repeat(3));
    assert_eq!(parse(&many_media), Err("no more media sections than the limit"));
    let many_attrs = format!("{HEAD}m=audio 9 RTP/AVP 0\r\n{}", "a=rtcp-mux\r\n".repeat(11));
    assert_eq!(
        parse(&many_attrs),
        Err("no more lines in one section than the limit")
    );
    let section = format!("m=audio 9 RTP/AVP 0\r\n{}", "a=rtcp-mux\r\n".repeat(8));
    let many_lines = format!("{HEAD}{section}{section}");
    assert_eq!(parse(&many_lines), Err("no more lines than the line limit"));
    let long = format!("{HEAD}a=x:{}\r\n", "y".repeat(5000));
    assert_eq!(parse(&long), Err("a description no longer than the length limit"));
    assert_eq!(parse(&format!("{HEAD}m=audio 9 RTP/AVP 0\r\n")), Ok(()));

    // Huge inputs with the default limits are refused quickly too.
    let huge = format!("{HEAD}{}", "a=rtcp-mux\r\n".repeat(100_000));
    assert!(SessionDescription::parse(&huge).is_err());
}
