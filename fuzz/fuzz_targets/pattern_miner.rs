//! The streaming template miner: any lines (headers stripped or not) never
//! panic it, every id it hands out resolves to a template, and its state
//! stays within its bounds and survives a snapshot round trip
//! (pattern_miner_check.rs, shared with core's replay of fuzz/found/).
#![no_main]

use libfuzzer_sys::fuzz_target;

mod pattern_miner_check;

fuzz_target!(|data: &[u8]| pattern_miner_check::check(data));
