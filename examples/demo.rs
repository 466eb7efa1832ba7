//! Two peer connections in one process, over real loopback UDP sockets:
//! they connect, then one sends 256 MiB (`--mib N`) to the other over a
//! reliable, ordered data channel in 64 KiB messages.
//!
//! ```text
//! cargo run --release -p rtcwire-examples --example demo
//! ```
//!
//! Each side runs in its own thread with its own socket, driven by
//! `rtcwire_examples::driver::Endpoint`. Prints the connect time (ICE,
//! DTLS, SCTP until the channel is open), the throughput, and checks that
//! every byte arrived: count and a checksum of the messages in order.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use rtcwire::{ChannelOptions, Event, RtcConfig};
use rtcwire_examples::Error;
use rtcwire_examples::driver::Endpoint;
use rtcwire_examples::progress::Progress;

const CHUNK: usize = 64 * 1024;
/// Most bytes queued on the channel: enough to keep the path busy, below
/// the 4 MiB SCTP send buffer.
const HIGH_WATER: usize = 2 << 20;
const TIMEOUT: Duration = Duration::from_secs(300);

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo: {e}");
            ExitCode::FAILURE
        }
    }
}

/// An order-sensitive checksum of the bytes (Fletcher-style over 64-bit
/// words); both sides see the same messages, so they compute the same.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Checksum(u64, u64);

impl Checksum {
    fn update(&mut self, data: &[u8]) {
        let words = data.chunks_exact(8);
        let rest = words.remainder();
        for w in words {
            let mut v = [0; 8];
            v.copy_from_slice(w);
            self.0 = self.0.wrapping_add(u64::from_le_bytes(v));
            self.1 = self.1.wrapping_add(self.0);
        }
        for &b in rest {
            self.0 = self.0.wrapping_add(u64::from(b));
            self.1 = self.1.wrapping_add(self.0);
        }
    }
}

fn run() -> Result<(), Error> {
    let mut mib: u64 = 256;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--mib" => {
                let v = args.next().ok_or("--mib needs a number")?;
                mib = v.parse().map_err(|_| format!("--mib {v}: not a number"))?;
            }
            _ => return Err(format!("unknown argument {arg:?}; usage: demo [--mib N]").into()),
        }
    }
    let total = mib << 20;
    let loopback = [SocketAddr::from(([127, 0, 0, 1], 0))];

    let setup = Instant::now();
    let mut a = Endpoint::bind(RtcConfig::default(), &loopback)?;
    let mut b = Endpoint::bind(RtcConfig::default(), &loopback)?;
    let channel = a.rtc.create_data_channel("bulk", ChannelOptions::default())?;
    let offer = a.rtc.create_offer()?;
    a.rtc.set_local_description(&offer)?;
    b.rtc.set_remote_description(&offer)?;
    let answer = b.rtc.create_answer()?;
    b.rtc.set_local_description(&answer)?;
    a.rtc.set_remote_description(&answer)?;
    eprintln!(
        "demo: {:?} -> {:?}; certificates and offer/answer took {:.1} ms",
        a.local_addrs(),
        b.local_addrs(),
        setup.elapsed().as_secs_f64() * 1e3
    );

    let start = Instant::now();
    let deadline = start + TIMEOUT;
    let receiver = std::thread::spawn(move || receive(b, total, deadline));

    let mut buf = vec![0u8; CHUNK];
    rand::fill(&mut buf[..]);
    let mut sum = Checksum::default();
    let mut progress = Progress::new("demo", total);
    let mut opened: Option<Instant> = None;
    let mut sent: u64 = 0;
    let mut index: u64 = 0;
    let done = loop {
        if Instant::now() >= deadline {
            return Err(format!("timed out after {TIMEOUT:?} ({sent} bytes sent)").into());
        }
        if opened.is_some() {
            while sent < total && a.rtc.buffered_amount(channel) < HIGH_WATER {
                let len = CHUNK.min((total - sent) as usize);
                buf[..8].copy_from_slice(&index.to_le_bytes());
                a.rtc.send(channel, &buf[..len], true)?;
                sum.update(&buf[..len]);
                sent += len as u64;
                index += 1;
            }
            progress.set(sent.saturating_sub(a.rtc.buffered_amount(channel) as u64));
        }
        match a.poll(deadline)? {
            Some(Event::ChannelOpen { id, .. }) if id == channel => opened = Some(Instant::now()),
            Some(Event::ChannelData(d)) if !d.binary => break Instant::now(),
            Some(Event::PeerConnectionStateChange(s)) => eprintln!("demo: sender {s:?}"),
            _ => {}
        }
    };
    progress.set(total);
    progress.finish();
    let stats = a.rtc.stats();
    a.close();
    let (count, their_sum) = receiver.join().map_err(|_| "the receiver thread panicked")??;
    let Some(opened) = opened else {
        return Err("the channel never opened".into());
    };
    let connect = opened - start;
    let secs = (done - opened).as_secs_f64();
    println!(
        "connected in {:.1} ms (ICE + DTLS + SCTP, channel open)",
        connect.as_secs_f64() * 1e3
    );
    println!(
        "sent {mib} MiB in {} messages of 64 KiB in {secs:.2} s: {:.1} MB/s ({:.1} MiB/s)",
        index,
        total as f64 / 1e6 / secs,
        total as f64 / (1 << 20) as f64 / secs
    );
    if let Some(sctp) = stats.sctp {
        println!(
            "sender: {} datagrams sent, {} DATA chunks, {} fast retransmits, {} T3 timeouts, smoothed RTT {:?}",
            stats.transport.packets_sent,
            sctp.data_chunks_sent,
            sctp.fast_retransmits,
            sctp.t3_expiries,
            sctp.srtt
        );
    }
    if count != total || their_sum != sum {
        return Err(format!(
            "received {count} of {total} bytes; checksum match: {}",
            their_sum == sum
        )
        .into());
    }
    println!("all {count} bytes arrived; checksums match");
    Ok(())
}

/// The receiving side: counts and checksums everything, says `done` when
/// it has it all, and stops when the sender closes.
fn receive(mut b: Endpoint, total: u64, deadline: Instant) -> Result<(u64, Checksum), Error> {
    let mut count = 0;
    let mut sum = Checksum::default();
    while Instant::now() < deadline {
        match b.poll(deadline)? {
            Some(Event::ChannelData(d)) => {
                count += d.data.len() as u64;
                sum.update(&d.data);
                if count >= total {
                    b.rtc.send_text(d.id, "done")?;
                }
            }
            Some(Event::PeerConnectionStateChange(s)) => {
                eprintln!("demo: receiver {s:?}");
                if matches!(
                    s,
                    rtcwire::PeerConnectionState::Closed | rtcwire::PeerConnectionState::Failed
                ) {
                    break;
                }
            }
            _ => {}
        }
    }
    b.close();
    Ok((count, sum))
}
