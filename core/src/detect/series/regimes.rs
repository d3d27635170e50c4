//! Regimes: a series switching between levels it dwells at (a failover
//! pair, a batch import on and off, a cache on and off) moves in a way the
//! averaging views see as a level shift, every time, until the window
//! holds several switches. A move onto a level the series is known to
//! dwell at, across values it only ever crosses, is not news.

use super::{SeriesDetector, ViewKind};

/// Normal values the window must hold before its levels are known.
const MIN_LEVELS: usize = 200;
/// Half-width of a level, in robust standard deviations of the point
/// view's statistic.
const LEVEL_BAND: f64 = 3.0;
/// Normal values within a level's band for the series to be known to
/// dwell there.
const DWELL: usize = 30;
/// Values between two levels, per unit of level, at most this share of
/// those in the level moved to: a gap the series only crosses.
const SPARSE: f64 = 0.1;

impl SeriesDetector {
    /// Whether the episode that view `decider` (its index) starts is a
    /// switch onto a known level: the newest value lies within
    /// `LEVEL_BAND` of many (`DWELL`) normal values of the window, and
    /// between that level and the view's reference (more than two bands
    /// away) the window's normal values are sparse. Only for the averaging
    /// views: a lone value at a known level may still be a spike (the
    /// point view's), a move that lasts is a level the series knows.
    pub(super) fn is_known_switch(&mut self, decider: Option<usize>) -> bool {
        let Some(i) = decider else {
            return false;
        };
        let view = &self.views[i];
        if !matches!(
            view.kind,
            ViewKind::Shift | ViewKind::Drift | ViewKind::Level
        ) || self.levels.len() < MIN_LEVELS
        {
            return false;
        }
        let from = view.reference_level;
        let Some(&to) = self.values.back() else {
            return false;
        };
        let noise = self.views[0].spread.max(self.spread_floor());
        if !noise.is_finite() {
            return false;
        }
        let width = LEVEL_BAND * noise;
        let gap = (to - from).abs() - 2.0 * width;
        if gap <= 0.0 {
            return false;
        }
        let (lo, hi) = if from < to { (from, to) } else { (to, from) };
        self.levels.weighted_values(&mut self.scratch);
        let (mut dwell, mut between) = (0usize, 0usize);
        for &v in &self.scratch {
            if (v - to).abs() <= width {
                dwell += 1;
            } else if v > lo + width && v < hi - width {
                between += 1;
            }
        }
        // Per unit of level: the gap is crossed, the level is dwelt at.
        dwell >= DWELL && between as f64 / gap <= SPARSE * dwell as f64 / (2.0 * width)
    }
}
