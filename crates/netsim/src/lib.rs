//! Deterministic network simulator (work in progress).
#![forbid(unsafe_code)]
