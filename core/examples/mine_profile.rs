//! The profiling harness of the template miner: the messages of the `warm`
//! bench (`core/benches/patterns.rs`: every system file, seed 7, headers
//! stripped), each system's miner taught them once, then the timed part,
//! `warm_pass`, mines them all once more (`PROFILE_PASSES` times, 1 unless
//! set). Deterministic instruction counts, for comparing two trees on a
//! shared machine:
//!
//! ```text
//! cargo build --profile bench -p anomalog-core --example mine_profile
//! valgrind --tool=callgrind --toggle-collect='*warm_pass*' \
//!     target/release/examples/mine_profile
//! callgrind_annotate --inclusive=no callgrind.out.<pid>
//! ```
//!
//! `--toggle-collect` counts only inside `warm_pass` (not the corpus's
//! generation nor the teaching pass); the total Ir is the figure to compare.
//! It prints the number of lines mined and a checksum of the pattern ids, so
//! two trees can be seen to mine the same. `PROFILE_CORPUS` names another
//! directory of system files (another tree's `eval/patterns`), so that an
//! older tree's miner can be measured on this tree's input.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

#[path = "../../eval/patterns/corpus.rs"]
mod corpus;

use std::hint::black_box;

use anomalog_core::pattern::header::strip_header;
use anomalog_core::pattern::{Miner, MinerConfig};

fn main() {
    let systems: Vec<(String, Vec<String>)> = system_paths()
        .iter()
        .map(|p| corpus::load(p, 7))
        .map(|s| {
            let lines = s.lines.iter().map(|l| strip_header(l).into()).collect();
            (s.name, lines)
        })
        .collect();
    let mut miners: Vec<Miner> = systems
        .iter()
        .map(|(name, lines)| {
            let mut miner = Miner::new(name, MinerConfig::default());
            for line in lines {
                miner.mine(line);
            }
            miner
        })
        .collect();
    let passes: usize = std::env::var("PROFILE_PASSES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let mut lines = 0;
    let mut sum = 0u64;
    for _ in 0..passes {
        let (n, s) = warm_pass(&systems, &mut miners);
        lines += n;
        sum = sum.wrapping_mul(31).wrapping_add(s);
    }
    println!("{lines} lines mined warm, id checksum {sum:016x}");
}

/// One pass of every system's messages through its taught miner: the part
/// the profile counts. Returns the lines mined and a checksum of the ids.
#[inline(never)]
fn warm_pass(systems: &[(String, Vec<String>)], miners: &mut [Miner]) -> (usize, u64) {
    let mut lines = 0;
    let mut sum = 0u64;
    for ((_, msgs), miner) in systems.iter().zip(miners.iter_mut()) {
        for line in msgs {
            let mined = black_box(miner.mine(line));
            sum = sum.wrapping_mul(1_000_003).wrapping_add(mined.id.0);
            lines += 1;
        }
    }
    (lines, sum)
}

/// The system files, sorted by name: `corpus::system_paths()`, or those of
/// the directory `PROFILE_CORPUS` names.
fn system_paths() -> Vec<std::path::PathBuf> {
    let Some(dir) = std::env::var_os("PROFILE_CORPUS") else {
        return corpus::system_paths();
    };
    let mut paths: Vec<std::path::PathBuf> = std::fs::read_dir(&dir)
        .expect("PROFILE_CORPUS is a directory")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    paths.sort();
    paths
}
