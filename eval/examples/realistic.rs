//! Scores the default value-series detector on both splits of the realistic
//! corpus, quickly (no CLI build): `cargo run --release -p anomalog-eval
//! --example realistic [tune|holdout] [-v]`. `anomalog eval` prints the same
//! numbers and more.

use std::collections::BTreeMap;

use anomalog_core::detect::series::{SeriesConfig, SeriesDetector};
use anomalog_eval::harness::score_labelled;
use anomalog_eval::nab::{SeriesOutcome, evaluate, probation_rows, summarize};
use anomalog_eval::realistic::{Split, category_of, generate, is_tune_only};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let verbose = args.iter().any(|a| a == "-v");
    let splits: Vec<Split> = if args.iter().any(|a| a == "tune") {
        vec![Split::Tune]
    } else if args.iter().any(|a| a == "holdout") {
        vec![Split::Holdout]
    } else {
        vec![Split::Tune, Split::Holdout]
    };
    // `key=value` arguments override the defaults (for trying a change on
    // the tuning split only).
    let overrides: Vec<String> = args
        .iter()
        .filter(|a| a.contains('='))
        .map(|a| a.replacen('=', " = ", 1))
        .collect();
    let cfg: SeriesConfig = match toml::from_str(&overrides.join("\n")) {
        Ok(cfg) => cfg,
        Err(e) => {
            eprintln!("bad override: {e}");
            std::process::exit(2);
        }
    };
    for split in splits {
        let mut all = Vec::new();
        let mut first = Vec::new();
        let mut first_by_category: BTreeMap<&str, Vec<SeriesOutcome>> = BTreeMap::new();
        let mut by_category: BTreeMap<&str, Vec<SeriesOutcome>> = BTreeMap::new();
        for s in generate(split) {
            let flags: Vec<bool> = score_labelled(&cfg, &s).iter().map(|r| r.1).collect();
            let outcome = evaluate(&s.name, &flags, &s.windows());
            if verbose {
                let one = summarize(std::slice::from_ref(&outcome));
                println!(
                    "  {:<34} windows {} detected {} false events {:>3} standard {:>6.1} delays {:?}",
                    s.name,
                    outcome.windows,
                    outcome.detected,
                    outcome.false_events,
                    one.nab[0],
                    outcome.delays
                );
                let windows = s.windows();
                let outside: Vec<usize> = (0..flags.len())
                    .filter(|&i| {
                        flags[i]
                            && (i == 0 || !flags[i - 1])
                            && !windows.iter().any(|w| w.start <= i && i <= w.end)
                    })
                    .collect();
                let spans: Vec<(usize, usize, usize)> =
                    windows.iter().map(|w| (w.start, w.onset, w.end)).collect();
                println!("      windows {spans:?} false at {outside:?}");
                if std::env::var("FPV").is_ok() {
                    // The view and score behind each counted false event
                    // (past the probationary period).
                    let mut d = SeriesDetector::new(&cfg, s.bucket_secs);
                    let verdicts: Vec<_> = (0..s.values.len())
                        .map(|i| d.push_after(s.values[i], s.elapsed(i)))
                        .collect();
                    let probation = probation_rows(s.values.len());
                    let lo: f64 = std::env::var("NEAR")
                        .ok()
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0.3);
                    // Runs of near misses (score in [lo, 0.5)) in the 2,000 points before i.
                    let near = |i: usize| {
                        let from = i.saturating_sub(2000);
                        (from..i)
                            .filter(|&j| {
                                let x = verdicts[j].score;
                                x >= lo && x < 0.5 && (j == 0 || verdicts[j - 1].score < lo)
                            })
                            .count()
                    };
                    for &i in outside.iter().filter(|&&i| i >= probation) {
                        let v = &verdicts[i];
                        println!(
                            "        false {i}: {:?} score {:.3} near {}",
                            v.view,
                            v.score,
                            near(i)
                        );
                    }
                    for w in &windows {
                        if let Some(i) = (w.start..=w.end).find(|&i| flags[i]) {
                            let v = &verdicts[i];
                            println!(
                                "        hit {i}: {:?} score {:.3} near {}",
                                v.view,
                                v.score,
                                near(i)
                            );
                        }
                    }
                }
                if std::env::var("DEBUG").is_ok_and(|d| s.name.starts_with(&d)) {
                    let scores = score_labelled(&cfg, &s);
                    for (w, a) in windows.iter().zip(&s.anomalies) {
                        let best = (w.start..=w.end)
                            .max_by(|&x, &y| scores[x].0.total_cmp(&scores[y].0))
                            .unwrap_or(w.start);
                        println!(
                            "      {} len {} max score {:.2} at {best}",
                            a.kind, a.rows, scores[best].0
                        );
                    }
                }
            }
            by_category
                .entry(category_of(&s.name))
                .or_default()
                .push(outcome.clone());
            if !is_tune_only(&s.name) {
                first.push(outcome.clone());
                first_by_category
                    .entry(category_of(&s.name))
                    .or_default()
                    .push(outcome.clone());
            }
            all.push(outcome);
        }
        if first.len() < all.len() {
            let what = format!(
                " the first {} series (without the tuning-only families) |",
                first.len()
            );
            print_summary(split.name(), &first, &first_by_category, &what);
        }
        print_summary(split.name(), &all, &by_category, "");
    }
}

/// One split's summary line: the three NAB profiles, recall, precision,
/// false events, `what` the line covers, then the standard score per
/// category.
fn print_summary(
    split: &str,
    outcomes: &[SeriesOutcome],
    by_category: &BTreeMap<&str, Vec<SeriesOutcome>>,
    what: &str,
) {
    let sum = summarize(outcomes);
    print!(
        "{:<8} standard {:.1} low_fp {:.1} low_fn {:.1} | recall {:.3} precision {:.3} fp events {} |{what}",
        split, sum.nab[0], sum.nab[1], sum.nab[2], sum.recall, sum.precision, sum.false_events
    );
    for (c, o) in by_category {
        print!(" {c} {:.1}", summarize(o).nab[0]);
    }
    println!();
}
