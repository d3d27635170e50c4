//! Evaluation of detections against labelled anomaly windows.
//!
//! Two views of the same outcome:
//!
//! - **precision, recall and delay**: a window is *detected* when at least one
//!   flagged row falls inside it; a *detection event* is a run of consecutive
//!   flagged rows, a false positive when it touches no window. Delay counts
//!   rows from the labelled onset to the first flagged row of the window
//!   (negative when the detector fired inside the window before the onset).
//! - **a NAB-style score** (after the Numenta Anomaly Benchmark's rules): the
//!   first flagged row inside a window earns `tp * sigma(position)`, from
//!   0.987 at the window's first row down to 0 at its last; a window without
//!   one costs `fn`; every flagged row outside windows costs `fp`, less when it
//!   follows a window closely. Rows of the probationary period (the first 15%,
//!   at most 750 rows) are not scored. Totals are normalised to 100 for a
//!   perfect detector and 0 for one that never fires.

use serde::{Deserialize, Serialize};

/// One labelled anomaly: its window and onset, as row indices (inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelWindow {
    pub start: usize,
    pub end: usize,
    /// Row where the anomaly begins (inside the window).
    pub onset: usize,
}

impl LabelWindow {
    /// The NAB convention: windows are 10% of the series length shared by its
    /// anomalies, centred on each onset, clipped to the series.
    pub fn around_onsets(onsets: &[usize], rows: usize) -> Vec<LabelWindow> {
        if onsets.is_empty() || rows == 0 {
            return Vec::new();
        }
        let width = (rows / 10 / onsets.len()).max(1);
        onsets
            .iter()
            .map(|&onset| LabelWindow {
                start: onset.saturating_sub(width / 2),
                end: (onset + width / 2).min(rows - 1),
                onset,
            })
            .collect()
    }

    fn contains(&self, row: usize) -> bool {
        self.start <= row && row <= self.end
    }

    fn width(&self) -> usize {
        self.end - self.start + 1
    }
}

/// Weights of a NAB application profile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Profile {
    pub name: &'static str,
    pub tp: f64,
    pub fp: f64,
    pub fn_: f64,
}

/// NAB's three profiles: standard, reward low false positives, reward low
/// false negatives.
pub const PROFILES: [Profile; 3] = [
    Profile {
        name: "standard",
        tp: 1.0,
        fp: 0.11,
        fn_: 1.0,
    },
    Profile {
        name: "low_fp",
        tp: 1.0,
        fp: 0.22,
        fn_: 1.0,
    },
    Profile {
        name: "low_fn",
        tp: 1.0,
        fp: 0.11,
        fn_: 2.0,
    },
];

/// Rows at the start of a series that are not scored.
pub fn probation_rows(rows: usize) -> usize {
    let fifteen_percent = (rows as f64 * 0.15).floor() as usize;
    fifteen_percent.min(750)
}

/// NAB's scaled sigmoid: about 0.987 at -1 (window start), 0 at 0 (window
/// end), towards -1 for positions well past a window.
fn scaled_sigmoid(position: f64) -> f64 {
    if position > 3.0 {
        -1.0
    } else {
        2.0 / (1.0 + (5.0 * position).exp()) - 1.0
    }
}

/// The outcome of one series.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SeriesOutcome {
    pub name: String,
    pub rows: usize,
    pub windows: usize,
    pub detected: usize,
    /// Detection events touching a window.
    pub true_events: usize,
    /// Detection events touching no window.
    pub false_events: usize,
    /// Flagged rows outside windows.
    pub false_rows: usize,
    /// Rows from onset to first detection, per detected window.
    pub delays: Vec<i64>,
    /// Raw NAB score per profile (same order as [`PROFILES`]).
    pub nab_raw: [f64; 3],
}

/// Scores the flags of one series (one per row) against its windows.
pub fn evaluate(name: &str, flags: &[bool], windows: &[LabelWindow]) -> SeriesOutcome {
    let rows = flags.len();
    let probation = probation_rows(rows);
    let mut out = SeriesOutcome {
        name: name.to_owned(),
        rows,
        windows: windows.len(),
        ..SeriesOutcome::default()
    };
    let mut first_hit: Vec<Option<usize>> = vec![None; windows.len()];
    let mut in_event = false;
    let mut event_touches = false;
    for (row, &flag) in flags.iter().enumerate() {
        let counted = flag && row >= probation;
        if counted {
            let window = windows.iter().position(|w| w.contains(row));
            if let Some(w) = window {
                first_hit[w].get_or_insert(row);
            } else {
                out.false_rows += 1;
            }
            if !in_event {
                in_event = true;
                event_touches = false;
            }
            event_touches |= window.is_some();
        } else if in_event {
            in_event = false;
            if event_touches {
                out.true_events += 1;
            } else {
                out.false_events += 1;
            }
        }
    }
    if in_event {
        if event_touches {
            out.true_events += 1;
        } else {
            out.false_events += 1;
        }
    }
    for (w, hit) in windows.iter().zip(&first_hit) {
        if let Some(row) = hit {
            out.detected += 1;
            out.delays.push(*row as i64 - w.onset as i64);
        }
    }
    for (p, profile) in PROFILES.iter().enumerate() {
        out.nab_raw[p] = nab_raw(flags, windows, probation, &first_hit, profile);
    }
    out
}

fn nab_raw(
    flags: &[bool],
    windows: &[LabelWindow],
    probation: usize,
    first_hit: &[Option<usize>],
    profile: &Profile,
) -> f64 {
    let mut total = 0.0;
    for (w, hit) in windows.iter().zip(first_hit) {
        total += match hit {
            Some(row) => {
                let position = -((w.end - row + 1) as f64) / w.width() as f64;
                profile.tp * scaled_sigmoid(position)
            }
            None => -profile.fn_,
        };
    }
    for (row, _) in flags
        .iter()
        .enumerate()
        .filter(|&(row, &f)| f && row >= probation)
    {
        if windows.iter().any(|w| w.contains(row)) {
            continue;
        }
        let previous = windows.iter().filter(|w| w.end < row).max_by_key(|w| w.end);
        let weight = match previous {
            Some(w) => {
                let past = (row - w.end) as f64 / (w.width().max(2) - 1) as f64;
                scaled_sigmoid(past)
            }
            None => -1.0,
        };
        total += profile.fp * weight;
    }
    total
}

/// Totals over a corpus.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub series: usize,
    pub windows: usize,
    pub detected: usize,
    pub true_events: usize,
    pub false_events: usize,
    pub false_rows: usize,
    /// Detected windows over windows.
    pub recall: f64,
    /// True detection events over all detection events.
    pub precision: f64,
    pub f1: f64,
    /// Mean and median delay in rows over detected windows.
    pub mean_delay: f64,
    pub median_delay: f64,
    /// Normalised NAB score per profile (same order as [`PROFILES`]).
    pub nab: [f64; 3],
}

/// Sums the outcomes of a corpus and normalises the NAB scores.
pub fn summarize(outcomes: &[SeriesOutcome]) -> Summary {
    let windows: usize = outcomes.iter().map(|o| o.windows).sum();
    let detected: usize = outcomes.iter().map(|o| o.detected).sum();
    let true_events: usize = outcomes.iter().map(|o| o.true_events).sum();
    let false_events: usize = outcomes.iter().map(|o| o.false_events).sum();
    let false_rows: usize = outcomes.iter().map(|o| o.false_rows).sum();
    let recall = ratio(detected, windows);
    let precision = ratio(true_events, true_events + false_events);
    let f1 = if recall + precision > 0.0 {
        2.0 * recall * precision / (recall + precision)
    } else {
        0.0
    };
    let mut delays: Vec<i64> = outcomes.iter().flat_map(|o| o.delays.clone()).collect();
    delays.sort_unstable();
    let mean_delay = if delays.is_empty() {
        0.0
    } else {
        delays.iter().sum::<i64>() as f64 / delays.len() as f64
    };
    let median_delay = match delays.len() {
        0 => 0.0,
        n if n % 2 == 1 => delays[n / 2] as f64,
        n => (delays[n / 2 - 1] + delays[n / 2]) as f64 / 2.0,
    };
    let mut nab = [0.0; 3];
    for (p, profile) in PROFILES.iter().enumerate() {
        let raw: f64 = outcomes.iter().map(|o| o.nab_raw[p]).sum();
        let null = -profile.fn_ * windows as f64;
        let perfect = profile.tp * scaled_sigmoid(-1.0) * windows as f64;
        nab[p] = if perfect > null {
            100.0 * (raw - null) / (perfect - null)
        } else {
            0.0
        };
    }
    Summary {
        series: outcomes.len(),
        windows,
        detected,
        true_events,
        false_events,
        false_rows,
        recall,
        precision,
        f1,
        mean_delay,
        median_delay,
        nab,
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

/// The best normalised NAB score per profile over thresholds on the continuous
/// score (how NAB itself scores a detector), with the threshold reached.
/// `scored` holds, per series, its scores and windows.
pub fn best_thresholds(scored: &[(&str, Vec<f64>, Vec<LabelWindow>)]) -> [(f64, f64); 3] {
    let mut best = [(f64::NEG_INFINITY, 0.5); 3];
    for step in 0..=60 {
        let threshold = 0.2 + step as f64 * 0.0133;
        let outcomes: Vec<SeriesOutcome> = scored
            .iter()
            .map(|(name, scores, windows)| {
                let flags: Vec<bool> = scores.iter().map(|&s| s >= threshold).collect();
                evaluate(name, &flags, windows)
            })
            .collect();
        let summary = summarize(&outcomes);
        for (p, slot) in best.iter_mut().enumerate() {
            if summary.nab[p] > slot.0 {
                *slot = (summary.nab[p], threshold);
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window() -> Vec<LabelWindow> {
        vec![LabelWindow {
            start: 400,
            end: 499,
            onset: 450,
        }]
    }

    #[test]
    fn windows_follow_the_nab_convention() {
        let w = LabelWindow::around_onsets(&[500, 800], 1000);
        assert_eq!(
            w[0],
            LabelWindow {
                start: 475,
                end: 525,
                onset: 500
            }
        );
        assert_eq!(w[1].end, 825);
        assert_eq!(probation_rows(1000), 150);
        assert_eq!(probation_rows(100_000), 750);
    }

    #[test]
    fn a_detection_at_the_window_start_scores_almost_perfectly() {
        let mut flags = vec![false; 1000];
        flags[400] = true;
        let out = evaluate("s", &flags, &window());
        assert_eq!((out.detected, out.true_events, out.false_events), (1, 1, 0));
        assert_eq!(out.delays, vec![-50]);
        let summary = summarize(&[out]);
        assert!((summary.nab[0] - 100.0).abs() < 1e-9, "{:?}", summary.nab);
    }

    #[test]
    fn a_late_detection_earns_less_and_silence_scores_zero() {
        let mut flags = vec![false; 1000];
        flags[480] = true;
        let late = summarize(&[evaluate("s", &flags, &window())]);
        // position -0.2: sigma = 0.462, normalised (0.462 + 1) / 1.987
        assert!(late.nab[0] > 73.0 && late.nab[0] < 74.0, "{:?}", late.nab);
        let silent = summarize(&[evaluate("s", &[false; 1000], &window())]);
        assert!(silent.nab[0].abs() < 1e-9);
        assert_eq!(silent.recall, 0.0);
    }

    #[test]
    fn false_positives_cost_and_probation_is_ignored() {
        let mut flags = vec![false; 1000];
        flags[10] = true; // probation: ignored
        flags[450] = true;
        flags[700] = true;
        flags[701] = true;
        let out = evaluate("s", &flags, &window());
        assert_eq!(
            (out.true_events, out.false_events, out.false_rows),
            (1, 1, 2)
        );
        let summary = summarize(&[out]);
        assert!((summary.precision - 0.5).abs() < 1e-9);
        let mut clean = vec![false; 1000];
        clean[450] = true;
        let clean = summarize(&[evaluate("s", &clean, &window())]);
        assert!(summary.nab[0] < clean.nab[0]);
        assert!(summary.nab[1] < summary.nab[0], "low-FP profile costs more");
    }
}
