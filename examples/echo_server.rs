//! Placeholder; see below.
fn main() {}
