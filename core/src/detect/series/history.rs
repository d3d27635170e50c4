//! A view's history of normal statistics, kept in bounded, compact form.
//!
//! The newest statistics (up to [`BLOCK`] of them) are kept exactly. Once
//! [`BLOCK`] have gathered they are sealed into a block of [`QUANTILES`]
//! values, the lowest, the highest and evenly ranked ones between, each
//! standing for `BLOCK / QUANTILES` statistics, in `f32`. A window of 2,000
//! statistics is then about 16 blocks of 64 bytes plus the open block,
//! instead of 2,000 exact pairs (about 21 KB in the old saved state).
//!
//! What the detector reads from a history (its median, robust spread,
//! lowest and highest) is computed over the blocks' values each weighted by
//! the statistics they stand for: the extremes are exact, the median and
//! spread within a few hundredths of a robust standard deviation of the
//! exact ones (measured by `anomalog eval`, which runs this code). A block
//! leaves the window when its newest statistic does, so a history reaches
//! back between `window` and `window + BLOCK` points. Sealing is
//! deterministic, so a saved and restored history continues exactly.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

/// Statistics gathered before they are sealed into a block.
pub const BLOCK: usize = 128;
/// Values a sealed block keeps.
pub const QUANTILES: usize = 16;
/// Statistics each value of a sealed block stands for.
const WEIGHT: usize = BLOCK / QUANTILES;

/// `QUANTILES` values standing for `BLOCK` statistics, lowest first, each
/// kept as its `f32` offset from the block's median (`base`): exact for a
/// value equal to it (a flat series stays exactly flat), and otherwise
/// within 1e-7 of the offset, far below any spread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Block {
    /// Point index of the newest statistic sealed into it.
    newest: usize,
    base: f64,
    offsets: Vec<f32>,
}

impl Block {
    fn values(&self) -> impl Iterator<Item = f64> + '_ {
        self.offsets.iter().map(|&o| self.base + f64::from(o))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct History {
    blocks: VecDeque<Block>,
    /// Statistics not yet sealed, oldest first, with their point index.
    open: VecDeque<(usize, f64)>,
    /// The window's extremes, exact: each statistic higher (lower) than
    /// every later one, oldest first, so the front is the highest (lowest)
    /// and leaves exactly when its point does. A few entries on noise
    /// (about the logarithm of the window).
    highs: VecDeque<(usize, f64)>,
    lows: VecDeque<(usize, f64)>,
}

impl History {
    /// Statistics the history stands for.
    pub(super) fn len(&self) -> usize {
        self.blocks
            .iter()
            .map(|b| b.offsets.len() * WEIGHT)
            .sum::<usize>()
            + self.open.len()
    }

    pub(super) fn clear(&mut self) {
        self.blocks.clear();
        self.open.clear();
        self.highs.clear();
        self.lows.clear();
    }

    fn push_extremes(&mut self, index: usize, stat: f64) {
        while self.highs.back().is_some_and(|&(_, v)| v <= stat) {
            self.highs.pop_back();
        }
        self.highs.push_back((index, stat));
        while self.lows.back().is_some_and(|&(_, v)| v >= stat) {
            self.lows.pop_back();
        }
        self.lows.push_back((index, stat));
    }

    /// Adds the statistic of point `index`.
    pub(super) fn push(&mut self, index: usize, stat: f64) {
        self.push_extremes(index, stat);
        self.open.push_back((index, stat));
        if self.open.len() >= BLOCK {
            let mut sorted: Vec<f64> = self.open.iter().map(|&(_, s)| s).collect();
            sorted.sort_by(f64::total_cmp);
            let newest = self.open.back().map_or(index, |&(i, _)| i);
            // Value q stands for ranks q * WEIGHT .. (q + 1) * WEIGHT: the
            // lowest and highest stay exact, the others are the middle of
            // their ranks.
            let base = sorted[sorted.len() / 2];
            let offsets = (0..QUANTILES)
                .map(|q| {
                    let rank = match q {
                        0 => 0,
                        _ if q + 1 == QUANTILES => BLOCK - 1,
                        _ => q * WEIGHT + WEIGHT / 2,
                    };
                    (sorted[rank.min(sorted.len() - 1)] - base) as f32
                })
                .collect();
            self.blocks.push_back(Block {
                newest,
                base,
                offsets,
            });
            self.open.clear();
        }
    }

    /// Forgets the statistics of points before `index - window`; a sealed
    /// block goes once its newest statistic is that old.
    pub(super) fn expire(&mut self, index: usize, window: usize) {
        while self
            .blocks
            .front()
            .is_some_and(|b| b.newest + window < index)
        {
            self.blocks.pop_front();
        }
        while self.open.front().is_some_and(|&(i, _)| i + window < index) {
            self.open.pop_front();
        }
        for extremes in [&mut self.highs, &mut self.lows] {
            while extremes.front().is_some_and(|&(i, _)| i + window < index) {
                extremes.pop_front();
            }
        }
    }

    /// Puts every statistic the history stands for into `out` (cleared
    /// first), a sealed value as many times as the statistics it stands for.
    pub(super) fn weighted_values(&self, out: &mut Vec<f64>) {
        out.clear();
        for block in &self.blocks {
            for v in block.values() {
                out.extend(std::iter::repeat_n(v, WEIGHT));
            }
        }
        out.extend(self.open.iter().map(|&(_, s)| s));
    }

    /// Lowest and highest statistic of the window (infinite when empty).
    pub(super) fn extremes(&self) -> (f64, f64) {
        (
            self.lows.front().map_or(f64::INFINITY, |&(_, v)| v),
            self.highs.front().map_or(f64::NEG_INFINITY, |&(_, v)| v),
        )
    }

    /// Keeps the statistics for which `keep(index, stat)` holds (a sealed
    /// value is passed with its block's newest index).
    pub(super) fn retain(&mut self, mut keep: impl FnMut(usize, f64) -> bool) {
        self.open.retain(|&(i, s)| keep(i, s));
        for block in &mut self.blocks {
            let (newest, base) = (block.newest, block.base);
            block.offsets.retain(|&o| keep(newest, base + f64::from(o)));
        }
        self.blocks.retain(|b| !b.offsets.is_empty());
        // The extremes again, from what is left (sealed values at their
        // block's newest index).
        self.highs.clear();
        self.lows.clear();
        let kept: Vec<(usize, f64)> = self
            .blocks
            .iter()
            .flat_map(|b| b.values().map(move |v| (b.newest, v)))
            .chain(self.open.iter().copied())
            .collect();
        for (i, s) in kept {
            self.push_extremes(i, s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::stats::median_spread_in_place;

    #[test]
    fn a_long_history_is_a_few_blocks_whose_summary_is_close_to_the_exact_one() {
        let mut history = History::default();
        let mut exact: VecDeque<(usize, f64)> = VecDeque::new();
        let window = 2000;
        for i in 1..=5000usize {
            // A skewed, noisy statistic.
            let x = ((i * 7919) % 1000) as f64 / 1000.0;
            let stat = x * x * 3.0 - 0.5 + if i % 97 == 0 { 4.0 } else { 0.0 };
            history.push(i, stat);
            history.expire(i, window);
            exact.push_back((i, stat));
            while exact.front().is_some_and(|&(j, _)| j + window < i) {
                exact.pop_front();
            }
        }
        assert!(history.len() >= window && history.len() <= window + BLOCK);
        assert!(history.blocks.len() <= window / BLOCK + 1);
        let mut values = Vec::new();
        history.weighted_values(&mut values);
        assert_eq!(values.len(), history.len());
        let (median, spread) = median_spread_in_place(&mut values);
        let mut e: Vec<f64> = exact.iter().map(|&(_, s)| s).collect();
        let (em, es) = median_spread_in_place(&mut e);
        assert!((median - em).abs() < 0.05 * es, "{median} vs {em}");
        assert!((spread - es).abs() < 0.05 * es, "{spread} vs {es}");
        let (lo, hi) = history.extremes();
        let exact_lo = exact.iter().map(|&(_, s)| s).fold(f64::INFINITY, f64::min);
        let exact_hi = exact
            .iter()
            .map(|&(_, s)| s)
            .fold(f64::NEG_INFINITY, f64::max);
        assert_eq!((lo, hi), (exact_lo, exact_hi), "the extremes are exact");
        let bytes = postcard::to_allocvec(&history).unwrap();
        assert!(bytes.len() < 3_000, "{} bytes", bytes.len());
        let back: History = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back, history);
    }
}
