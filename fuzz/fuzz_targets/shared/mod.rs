//! Code the fuzz targets share (each target is its own binary and includes
//! this module by path).

pub mod stun;
