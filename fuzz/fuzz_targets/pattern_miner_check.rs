// The checks of the pattern_miner fuzz target for one input, shared with
// core/tests/fuzz_regressions.rs (which replays fuzz/found/ on stable Rust):
// any lines (headers stripped or not) never panic the miner, every id it hands
// out resolves to a template, and its state stays within its bounds and
// survives a snapshot round trip.

use anomalog_core::pattern::header::strip_header;
use anomalog_core::pattern::{Miner, MinerConfig};

pub fn check(data: &[u8]) {
    let Some((&choice, body)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(body);
    // Small bounds so eviction and cache resets are reached.
    let config = MinerConfig {
        max_patterns: 1 + usize::from(choice % 8),
        max_cache: 1 + usize::from(choice / 8 % 8),
    };
    let mut miner = Miner::new("fuzz", config.clone());
    for line in text.split('\n') {
        let message = if choice % 2 == 0 {
            strip_header(line)
        } else {
            line.into()
        };
        let mined = miner.mine(&message);
        let live = miner.resolve(mined.id).expect("a mined id resolves");
        assert!(miner.template(live).is_some(), "no template for {live:?}");
        assert!(miner.len() <= config.max_patterns);
    }
    let snapshot = miner.snapshot();
    let restored = Miner::restore(snapshot.clone(), config);
    assert_eq!(restored.snapshot(), snapshot);
}
