//! Speed of the template miner on the labelled corpus (`eval/patterns/`):
//! messages per second on one core, from an empty miner per system (`cold`,
//! every pattern is learned in the run) and through a miner that has seen the
//! system before (`warm`, the steady state inside detect); plus the header
//! stripping of raw lines. Run with `cargo bench -p anomalog-core --bench
//! patterns`; divan prints items/s.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../eval/patterns/corpus.rs"]
mod corpus;

use divan::counter::ItemsCount;
use divan::{Bencher, black_box};

use anomalog_core::pattern::header::strip_header;
use anomalog_core::pattern::{Miner, MinerConfig};

fn main() {
    divan::main();
}

/// Every system's messages (headers stripped), by system.
fn messages() -> Vec<(String, Vec<String>)> {
    corpus::load_all(7)
        .into_iter()
        .map(|s| {
            let lines = s.lines.iter().map(|l| strip_header(l).into()).collect();
            (s.name, lines)
        })
        .collect()
}

fn count(systems: &[(String, Vec<String>)]) -> usize {
    systems.iter().map(|(_, l)| l.len()).sum()
}

#[divan::bench(sample_count = 20)]
fn cold(bencher: Bencher) {
    let systems = messages();
    bencher
        .counter(ItemsCount::new(count(&systems)))
        .bench_local(|| {
            for (name, lines) in &systems {
                let mut miner = Miner::new(name, MinerConfig::default());
                for line in lines {
                    black_box(miner.mine(line));
                }
            }
        });
}

#[divan::bench(sample_count = 20)]
fn warm(bencher: Bencher) {
    let systems = messages();
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
    bencher
        .counter(ItemsCount::new(count(&systems)))
        .bench_local(|| {
            for ((_, lines), miner) in systems.iter().zip(&mut miners) {
                for line in lines {
                    black_box(miner.mine(line));
                }
            }
        });
}

#[divan::bench(sample_count = 20)]
fn strip_headers(bencher: Bencher) {
    let raw: Vec<String> = corpus::load_all(7)
        .into_iter()
        .flat_map(|s| s.lines)
        .collect();
    bencher.counter(ItemsCount::new(raw.len())).bench_local(|| {
        for line in &raw {
            black_box(strip_header(line));
        }
    });
}

/// The worst case: every message is new prose of the same length (8 random
/// lower-case words, no digits), so nothing hits the cache, every line is
/// compared with every live pattern and the cap evicts on every line.
#[divan::bench(sample_count = 5)]
fn adversarial(bencher: Bencher) {
    let mut rng = fastrand::Rng::with_seed(11);
    let lines: Vec<String> = (0..20_000)
        .map(|_| {
            (0..8)
                .map(|_| (0..6).map(|_| rng.lowercase()).collect::<String>())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    bencher
        .counter(ItemsCount::new(lines.len()))
        .bench_local(|| {
            let mut miner = Miner::new("adversarial", MinerConfig::default());
            for line in &lines {
                black_box(miner.mine(line));
            }
        });
}

/// Lines that mostly miss: high-cardinality prose of varying length (4 to 24
/// words) with numbers among the words, so the masked texts hold `<*>` at
/// varying places and every miss also tries the span step (a pattern one
/// token shorter or longer) against the live patterns of both lengths.
#[divan::bench(sample_count = 5)]
fn misses(bencher: Bencher) {
    let mut rng = fastrand::Rng::with_seed(13);
    let lines: Vec<String> = (0..20_000)
        .map(|_| {
            let n = rng.usize(4..=24);
            (0..n)
                .map(|_| {
                    if rng.u8(..10) < 3 {
                        rng.u32(..100_000).to_string()
                    } else {
                        let len = rng.usize(3..=8);
                        (0..len).map(|_| rng.lowercase()).collect::<String>()
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    bencher
        .counter(ItemsCount::new(lines.len()))
        .bench_local(|| {
            let mut miner = Miner::new("misses", MinerConfig::default());
            for line in &lines {
                black_box(miner.mine(line));
            }
        });
}
