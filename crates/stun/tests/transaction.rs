//! Client transactions: the RFC 8489 section 6.2.1 schedule, reliable
//! transports, capped RTOs, and responses with and without retransmission.
// Helpers outside #[test] functions unwrap too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use rtcwire_stun::{
    Class, ClientTransaction, Message, MessageBuilder, MessageType, TransactionConfig, TransactionId,
    TransactionState,
};
fn request() -> Vec<u8> {
    let mut buf = [0u8; 20];
    MessageBuilder::new(
        &mut buf,
        MessageType::BINDING_REQUEST,
        TransactionId::new([9; 12]),
    )
    .unwrap()
    .finish()
    .to_vec()
}

/// Runs a transaction with no answers and records when it transmitted.
fn schedule(config: TransactionConfig) -> (Vec<u128>, u128) {
    let start = Instant::now();
    let dest = "127.0.0.1:1".parse().unwrap();
    let mut tx = ClientTransaction::new(start, request(), dest, config).unwrap();
    let mut sends = Vec::new();
    let mut now = start;
    loop {
        while tx.poll_transmit().is_some() {
            sends.push((now - start).as_millis());
        }
        match tx.poll_timeout() {
            Some(at) => {
                now = at;
                tx.handle_timeout(now);
            }
            None => break,
        }
    }
    assert_eq!(tx.state(), TransactionState::TimedOut);
    (sends, (now - start).as_millis())
}

#[test]
fn rfc8489_default_schedule() {
    // RFC 8489 section 6.2.1: sent at 0, 500, 1500, 3500, 7500, 15500
    // and 31500 ms; failure at 39500 ms.
    let (sends, end) = schedule(TransactionConfig::default());
    assert_eq!(sends, [0, 500, 1500, 3500, 7500, 15500, 31500]);
    assert_eq!(end, 39500);
}

#[test]
fn capped_rto_and_custom_counts() {
    let config = TransactionConfig {
        initial_rto: Duration::from_millis(100),
        max_rto: Some(Duration::from_millis(300)),
        max_transmissions: 5,
        last_wait_multiplier: 2,
        ..TransactionConfig::default()
    };
    let (sends, end) = schedule(config);
    assert_eq!(sends, [0, 100, 300, 600, 900]);
    assert_eq!(end, 1100);
}

#[test]
fn reliable_sends_once() {
    let config = TransactionConfig {
        reliable: true,
        ..TransactionConfig::default()
    };
    let (sends, end) = schedule(config);
    assert_eq!(sends, [0]);
    assert_eq!(end, 39500);
}

#[test]
fn response_completes_with_rtt_only_without_retransmission() {
    let start = Instant::now();
    let dest = "127.0.0.1:1".parse().unwrap();
    let mut tx = ClientTransaction::new(start, request(), dest, TransactionConfig::default()).unwrap();
    assert!(tx.poll_transmit().is_some());

    let mut buf = [0u8; 20];
    let other = MessageBuilder::new(
        &mut buf,
        MessageType::BINDING_SUCCESS,
        TransactionId::new([8; 12]),
    )
    .unwrap()
    .finish();
    assert!(!tx.handle_response(start, &Message::parse(other).unwrap()));

    let mut buf = [0u8; 20];
    let resp = MessageBuilder::new(
        &mut buf,
        MessageType::BINDING_SUCCESS,
        TransactionId::new([9; 12]),
    )
    .unwrap()
    .finish();
    let at = start + Duration::from_millis(30);
    assert!(tx.handle_response(at, &Message::parse(resp).unwrap()));
    assert_eq!(
        tx.state(),
        TransactionState::Completed {
            class: Class::Success,
            rtt: Some(Duration::from_millis(30))
        }
    );
    assert_eq!(tx.poll_timeout(), None);

    // After a retransmission the RTT sample is ambiguous.
    let mut tx = ClientTransaction::new(start, request(), dest, TransactionConfig::default()).unwrap();
    tx.poll_transmit();
    tx.handle_timeout(start + Duration::from_millis(500));
    assert!(tx.poll_transmit().is_some());
    assert!(tx.handle_response(start + Duration::from_millis(600), &Message::parse(resp).unwrap()));
    assert!(matches!(
        tx.state(),
        TransactionState::Completed { rtt: None, .. }
    ));
}
