//! Data channels as WebRTC runs them: SCTP packets as DTLS application data
//! (RFC 8261), with the zero checksum both sides offer over DTLS (RFC 9653),
//! on the simulated network with loss, reordering and duplication. The DTLS
//! client is the SCTP client and opens even stream ids.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rtcwire_dtls::{DtlsCertificate, DtlsConfig, DtlsEndpoint, DtlsEvent, Role};
use rtcwire_netsim::{Datagram, Endpoint, LinkConfig, Network, SeedReporter, Sim, seed_from_env_or};
use rtcwire_sctp::{Association, ChannelEvent, ChannelOptions, DataChannels, SctpConfig};

struct Peer {
    dtls: DtlsEndpoint,
    channels: DataChannels,
    local: SocketAddr,
    remote: SocketAddr,
    client: bool,
    dtls_connected: bool,
    events: Vec<ChannelEvent>,
}

impl Peer {
    /// Moves DTLS events into SCTP and SCTP packets into DTLS.
    fn run(&mut self, now: Instant) {
        loop {
            let mut moved = false;
            while let Some(e) = self.dtls.poll_event() {
                moved = true;
                match e {
                    DtlsEvent::Connected { .. } => {
                        self.dtls_connected = true;
                        if self.client {
                            self.channels.association_mut().connect(now);
                        }
                    }
                    DtlsEvent::ApplicationData(packet) => self.channels.handle_receive(now, &packet),
                    _ => {}
                }
            }
            while let Some(packet) = self.channels.poll_transmit() {
                moved = true;
                self.dtls.send(&packet).unwrap();
            }
            self.events
                .extend(std::iter::from_fn(|| self.channels.poll_event()));
            if !moved {
                return;
            }
        }
    }
}

impl Endpoint for Peer {
    fn handle_datagram(&mut self, now: Instant, d: Datagram) {
        self.dtls.handle_receive(now, &d.payload);
        self.run(now);
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.dtls.handle_timeout(now);
        self.channels.handle_timeout(now);
        self.run(now);
    }
    fn poll_transmit(&mut self, _now: Instant) -> Option<Datagram> {
        self.dtls.poll_transmit().map(|payload| Datagram {
            source: self.local,
            destination: self.remote,
            payload,
        })
    }
    fn poll_timeout(&self) -> Option<Instant> {
        [self.dtls.poll_timeout(), self.channels.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
    }
}

#[test]
fn data_channels_over_dtls_on_a_lossy_network() {
    let base = seed_from_env_or(8261);
    for i in 0..3 {
        let seed = base + i;
        let _report = SeedReporter::new(seed);
        let mut sim = Sim::new(seed);
        let ha = sim.add_host(Network::Internet, [192, 0, 2, 1]).unwrap();
        let hb = sim.add_host(Network::Internet, [192, 0, 2, 2]).unwrap();
        sim.set_link(
            ha,
            LinkConfig::perfect()
                .latency(Duration::from_millis(25))
                .loss(0.05)
                .duplicate(0.01)
                .reorder(0.05, Duration::from_millis(10)),
        )
        .unwrap();
        let (la, lb): (SocketAddr, SocketAddr) =
            ("192.0.2.1:1".parse().unwrap(), "192.0.2.2:1".parse().unwrap());
        let (ca, cb) = (
            Arc::new(DtlsCertificate::generate().unwrap()),
            Arc::new(DtlsCertificate::generate().unwrap()),
        );
        let sctp = |seed| SctpConfig {
            seed: Some(seed),
            zero_checksum: true,
            // DTLS' datagrams are 1200 bytes; a record adds 13 bytes of
            // header, 8 of explicit nonce and 16 of tag (AES-GCM).
            mtu: 1200 - 37,
            ..SctpConfig::default()
        };
        let peer = |cert: &Arc<DtlsCertificate>, other: &Arc<DtlsCertificate>, role, seed, local, remote| {
            let mut dtls = DtlsEndpoint::new(DtlsConfig::new(cert.clone()), role);
            dtls.set_remote_fingerprints(vec![other.fingerprint()]);
            let client = role == Role::Client;
            Peer {
                dtls,
                channels: DataChannels::new(Association::new(sctp(seed)), client),
                local,
                remote,
                client,
                dtls_connected: false,
                events: vec![],
            }
        };
        let mut a = peer(&ca, &cb, Role::Client, seed, la, lb);
        a.dtls.start(sim.now());
        let b = peer(&cb, &ca, Role::Server, seed + 1, lb, la);
        let pa = sim.add_endpoint(ha, a).unwrap();
        let pb = sim.add_endpoint(hb, b).unwrap();
        let connected = |s: &Sim| {
            let a = s.endpoint::<Peer>(pa).unwrap();
            a.events.contains(&ChannelEvent::Connected)
                && s.endpoint::<Peer>(pb)
                    .unwrap()
                    .events
                    .contains(&ChannelEvent::Connected)
        };
        assert!(
            sim.run_until_true(Duration::from_secs(60), connected).unwrap(),
            "seed {seed}: no association\n{sim:?}"
        );
        let started = sim.now();
        let id = {
            let a = sim.endpoint_mut::<Peer>(pa).unwrap();
            let id = a
                .channels
                .create(started, "chat", ChannelOptions::default())
                .unwrap();
            for n in 0..200u32 {
                let text = format!("message {n}");
                a.channels.send(started, id, text.as_bytes(), false).unwrap();
            }
            a.channels.send(started, id, &vec![7u8; 100_000], true).unwrap();
            a.run(started);
            id
        };
        let done = |s: &Sim| {
            s.endpoint::<Peer>(pb)
                .unwrap()
                .events
                .iter()
                .filter(|e| matches!(e, ChannelEvent::Message { .. }))
                .count()
                == 201
        };
        let ok = sim.run_until_true(Duration::from_secs(120), done).unwrap();
        assert!(ok, "seed {seed}: messages missing\n{sim:?}");
        println!(
            "seed {seed}: 201 messages over DTLS in {:?} of virtual time",
            sim.now() - started
        );
        let b = sim.endpoint::<Peer>(pb).unwrap();
        assert!(
            b.events
                .iter()
                .any(|e| matches!(e, ChannelEvent::Open { remote: true, label, .. } if label == "chat"))
        );
        let messages: Vec<_> = b
            .events
            .iter()
            .filter_map(|e| match e {
                ChannelEvent::Message {
                    id: got,
                    data,
                    binary,
                } => Some((*got, data.clone(), *binary)),
                _ => None,
            })
            .collect();
        for (n, (got, data, binary)) in messages.iter().take(200).enumerate() {
            assert_eq!(
                (*got, data.as_slice(), *binary),
                (id, format!("message {n}").as_bytes(), false)
            );
        }
        assert_eq!(messages[200], (id, vec![7u8; 100_000], true));
        // Close from the DTLS server's side: both sides see the channel go.
        let now = sim.now();
        {
            let b = sim.endpoint_mut::<Peer>(pb).unwrap();
            b.channels.close(now, id).unwrap();
            b.run(now);
        }
        let closed = |s: &Sim| {
            [pa, pb].iter().all(|&p| {
                s.endpoint::<Peer>(p)
                    .unwrap()
                    .events
                    .contains(&ChannelEvent::Closed(id))
            })
        };
        assert!(
            sim.run_until_true(Duration::from_secs(60), closed).unwrap(),
            "seed {seed}: close did not complete\n{sim:?}"
        );
    }
}
