//! Inputs the fuzzers found (fuzz/found/), replayed through the same checks
//! as their fuzz target, so a fixed failure stays fixed without a nightly
//! toolchain. A file's name starts with its target's name.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::path::PathBuf;

fn found(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/found");
    let mut inputs: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&format!("{target}-")))
        })
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect();
    inputs.sort();
    inputs
}

#[path = "../../fuzz/fuzz_targets/pattern_miner_check.rs"]
mod pattern_miner_check;

#[test]
fn pattern_miner_inputs_found_by_the_fuzzer_hold_its_invariants() {
    let inputs = found("pattern_miner");
    // pattern_miner-alias-twice: a pattern id merged away, created again and
    // merged again was listed twice in the snapshot's aliases.
    assert!(inputs.len() >= 2, "{inputs:?}");
    for (name, data) in inputs {
        eprintln!("{name}");
        pattern_miner_check::check(&data);
    }
}
