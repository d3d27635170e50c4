//! Cost per point of the value-series detector on the realistic corpus
//! (heavy tails, cycles, gaps; every view the defaults enable), the number
//! docs/detection.md reports. Run with
//! `cargo bench -p anomalog-eval --bench series`.

use divan::{Bencher, black_box};

use anomalog_core::detect::series::{SeriesConfig, SeriesDetector};
use anomalog_eval::realistic::{Split, generate};

fn main() {
    divan::main();
}

/// Every series of the tuning split, one detector each, as `anomalog eval`
/// and `anomalog backtest --series` run them.
#[divan::bench(sample_count = 10)]
fn series_detector_per_point_realistic(bencher: Bencher) {
    let corpus = generate(Split::Tune);
    let points: usize = corpus.iter().map(|s| s.values.len()).sum();
    let cfg = SeriesConfig::default();
    bencher
        .counter(divan::counter::ItemsCount::new(points))
        .bench(|| {
            for s in &corpus {
                let mut d = SeriesDetector::new(&cfg, s.bucket_secs);
                for (i, &v) in s.values.iter().enumerate() {
                    black_box(d.push_after(v, s.elapsed(i)));
                }
            }
        });
}
