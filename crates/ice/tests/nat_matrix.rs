//! ICE across every pair of NAT behaviours, with and without a STUN server,
//! on the simulated network. Each cell asserts the outcome; the table is
//! printed (run with `--nocapture`) and copied into README.
// Helpers outside #[test] functions unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{Placement, World, WorldConfig};
use rtcwire_ice::IceConnectionState;
use rtcwire_netsim::{SeedReporter, seed_from_env_or};

/// Whether two peers can connect without a relay, by RFC 4787 reasoning.
fn expected(a: Placement, b: Placement, stun: bool) -> bool {
    Placement::connects_directly(a, b, stun)
}

#[test]
fn nat_matrix() {
    let seed = seed_from_env_or(42);
    let _report = SeedReporter::new(seed);
    let mut table = String::new();
    for stun in [false, true] {
        table.push_str(&format!(
            "\n{} STUN server:\n\n| A \\ B | {} |\n|{}\n",
            if stun { "With a" } else { "Without a" },
            Placement::ALL.map(Placement::name).join(" | "),
            "---|".repeat(Placement::ALL.len() + 1)
        ));
        for a in Placement::ALL {
            table.push_str(&format!("| {} |", a.name()));
            for b in Placement::ALL {
                let mut w = World::new(&WorldConfig::new(seed, a, b, stun));
                let connected = w.run(Duration::from_secs(40), |w| w.connected() || w.failed());
                let cell = if w.connected() {
                    let t = w.peer(w.a).connected_at().unwrap();
                    let t = t.max(w.peer(w.b).connected_at().unwrap());
                    let (l, r) = w.selected_kinds(w.a).unwrap();
                    format!(" {}/{} {} ms |", l.as_str(), r.as_str(), t.as_millis())
                } else {
                    assert!(
                        w.failed(),
                        "{a:?} x {b:?} stun={stun}: neither connected nor failed\n{:?}",
                        w.sim
                    );
                    let t = w.peer(w.a).reached(IceConnectionState::Failed).unwrap();
                    format!(" failed {} s |", t.as_secs())
                };
                assert!(connected);
                assert_eq!(
                    w.connected(),
                    expected(a, b, stun),
                    "{a:?} x {b:?} stun={stun}: {cell}\n{:?}",
                    w.sim
                );
                if w.connected() {
                    // Both ends agree on the path.
                    let (la, ra) = w.peer(w.a).agent.selected_pair().unwrap();
                    let (lb, rb) = w.peer(w.b).agent.selected_pair().unwrap();
                    assert_eq!(la.ip(), w.a_addr.ip());
                    assert_eq!(lb.ip(), w.b_addr.ip());
                    assert!(
                        ra.ip() != lb.ip() || a == Placement::Public || b == Placement::Public || ra == lb
                    );
                    let _ = rb;
                }
                table.push_str(&cell);
            }
            table.push('\n');
        }
    }
    println!("{table}");
}
