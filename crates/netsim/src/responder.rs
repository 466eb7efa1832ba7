//! A stateless server endpoint built from a function: every datagram gets
//! at most one reply, sent back from the address it arrived on. A STUN
//! server in three lines of test code.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Instant;

use crate::sim::{Datagram, Endpoint};

/// Most replies waiting to be sent; beyond it new ones are dropped (the
/// simulator drains after every input, so it is never reached).
const MAX_QUEUED: usize = 1024;

/// Answers each datagram with `reply(payload, source)`, if it returns one.
pub struct Responder<F> {
    reply: F,
    out: VecDeque<Datagram>,
    answered: u64,
}

impl<F: FnMut(&[u8], SocketAddr) -> Option<Vec<u8>> + 'static> Responder<F> {
    /// An endpoint around `reply`.
    pub fn new(reply: F) -> Responder<F> {
        Responder {
            reply,
            out: VecDeque::new(),
            answered: 0,
        }
    }

    /// How many datagrams got a reply.
    pub fn answered(&self) -> u64 {
        self.answered
    }
}

impl<F: FnMut(&[u8], SocketAddr) -> Option<Vec<u8>> + 'static> Endpoint for Responder<F> {
    fn handle_datagram(&mut self, _now: Instant, d: Datagram) {
        if let Some(payload) = (self.reply)(&d.payload, d.source) {
            self.answered += 1;
            if self.out.len() < MAX_QUEUED {
                self.out.push_back(Datagram {
                    source: d.destination,
                    destination: d.source,
                    payload,
                });
            }
        }
    }
    fn handle_timeout(&mut self, _now: Instant) {}
    fn poll_transmit(&mut self, _now: Instant) -> Option<Datagram> {
        self.out.pop_front()
    }
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
}
