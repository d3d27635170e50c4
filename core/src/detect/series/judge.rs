//! Judging: a view's statistic against its history (robust centre and
//! spread, the window's extremes and the margin past them), and the
//! confirmation of a heavy-tailed series' lone marginal values.

use super::{
    HEAVY_DEVIATION, LEVEL_MIN_HISTORY, MIN_HISTORY, PointVerdict, SeriesDetector, VARIANCE_FLOOR,
    VARIANCE_MIN_HISTORY, ViewKind,
};
use crate::detect::stats::{median_spread_in_place, ratio_from_score, score_from_ratio};

/// Statistics the level view needs before it joins a fusion: twice what
/// it needs to judge alone.
const LEVEL_FUSION_HISTORY: usize = 2 * LEVEL_MIN_HISTORY;

impl SeriesDetector {
    /// Score of view `i` for statistic `stat` at point `index`.
    pub(super) fn judge(&mut self, i: usize, stat: f64) -> f64 {
        self.views[i].band = None;
        let view = &self.views[i];
        let needed = if view.kind == ViewKind::Variance {
            VARIANCE_MIN_HISTORY
        } else if view.kind == ViewKind::Level {
            LEVEL_MIN_HISTORY
        } else {
            MIN_HISTORY
        };
        if view.history.len() < needed {
            return 0.0;
        }
        // The history moves by one point per step: its median, spread and
        // extremes are recomputed every few steps (every step while short),
        // which changes verdicts by nothing measurable and saves most of
        // the cost.
        let refresh = (view.history.len() / 64).clamp(1, 16);
        if view.summary_age >= refresh || view.summary.is_none() {
            view.history.weighted_values(&mut self.scratch);
            let (lowest, highest) = view.history.extremes();
            let n = self.scratch.len();
            let tail_gaps = if self.cfg.tail > 0.0 && n >= 100 {
                let k = n / 100;
                let lo = *self.scratch.select_nth_unstable_by(k, f64::total_cmp).1;
                let hi = *self
                    .scratch
                    .select_nth_unstable_by(n - 1 - k, f64::total_cmp)
                    .1;
                (lo - lowest, highest - hi)
            } else {
                (0.0, 0.0)
            };
            let (center, spread) = median_spread_in_place(&mut self.scratch);
            // The scratch now holds the absolute deviations.
            let mean_deviation = self.scratch.iter().sum::<f64>() / n.max(1) as f64;
            let view = &mut self.views[i];
            view.summary = Some((center, spread, lowest, highest));
            view.tail_gaps = tail_gaps;
            view.mean_deviation = mean_deviation;
            view.summary_age = 0;
        }
        let view = &mut self.views[i];
        view.summary_age += 1;
        let Some((center, spread, mut lowest, mut highest)) = view.summary else {
            return 0.0;
        };
        view.spread = spread;
        let view = &self.views[i];
        if view.period > 0 {
            // The same time of the previous days (weeks) must predict clearly
            // better than the points just before (and, for the weekly view,
            // than the previous days): many series have no useful cycle.
            let mut rival = self.views[0].spread;
            if view.kind == ViewKind::Weekly
                && let Some(daily) = self.views.iter().find(|v| v.kind == ViewKind::Seasonal)
            {
                rival = rival.min(daily.spread);
            }
            if spread > self.cfg.seasonal_gain * rival {
                return 0.0;
            }
        }
        // A deviation already seen in two earlier episodes is a recurring
        // behaviour of the series.
        if let Some(up) = second_largest(view.peaks.iter().map(|&(_, s)| s)) {
            highest = highest.max(up);
        }
        if let Some(down) = second_largest(view.peaks.iter().map(|&(_, s)| -s)) {
            lowest = lowest.min(-down);
        }
        let floor = if view.kind == ViewKind::Variance {
            VARIANCE_FLOOR
        } else {
            self.spread_floor()
        };
        let spread = spread.max(floor);
        // The seasonal views compare with a few earlier days or weeks only:
        // their statistic is noisier than its history suggests, so they
        // keep at least a whole robust standard deviation of margin.
        let margin = if view.period > 0 {
            self.cfg.margin.max(1.0)
        } else {
            self.cfg.margin
        };
        let deviation = stat - center;
        let (gap_down, gap_up) = view.tail_gaps;
        let tail = self.cfg.tail;
        let up = (self.cfg.k * spread).max(highest - center + margin * spread.max(tail * gap_up));
        let down =
            (self.cfg.k * spread).max(center - lowest + margin * spread.max(tail * gap_down));
        self.views[i].band = Some((center, up, down));
        let ratio = if deviation >= 0.0 {
            deviation / up
        } else {
            -deviation / down
        };
        score_from_ratio(ratio)
    }

    /// Confirmation: in a heavy-tailed series (its point view's history
    /// has a mean absolute deviation above `HEAVY_DEVIATION` robust
    /// standard deviations), the first point of an episode that the point
    /// view decides, by less than `confirm` times its threshold, is held
    /// back; the next point reports it (with the held score) if it still
    /// deviates. Such a series' lone values just past the window's extreme
    /// are its noise, while an outage, a shift or a burst lasts; a single
    /// value far past the threshold is reported at once, and light-tailed
    /// series are judged as before (a lone 6-sigma spike there is news).
    pub(super) fn confirm(&mut self, verdict: &mut PointVerdict, raw_anomaly: bool) {
        if let Some(held) = self.held.take() {
            if raw_anomaly && !self.returning {
                verdict.score = verdict.score.max(held);
                verdict.anomaly = true;
            }
            return;
        }
        let marginal = ratio_from_score(verdict.score) < self.cfg.confirm;
        let point = &self.views[0];
        let heavy = point.summary.is_some_and(|(_, spread, _, _)| {
            point.mean_deviation > HEAVY_DEVIATION * spread.max(self.spread_floor())
        });
        if verdict.anomaly
            && heavy
            && self.episode == 1
            && verdict.view == Some(ViewKind::Point)
            && marginal
        {
            self.held = Some(verdict.score);
            verdict.score = verdict.score.min(0.49);
            verdict.anomaly = false;
        }
    }
}

impl SeriesDetector {
    /// Whether view `i`'s deviation (`stat` against its history) is made
    /// by the trend extrapolated from its reference alone: measured from
    /// the reference's plain median instead, the recent points deviate the
    /// other way (or not at all). The trend is a guess about where the
    /// series is going; a series that merely stops following it (a step
    /// passing through the reference's older half makes a steep trend, a
    /// ramp levels off) has done nothing its reference had not shown. Only
    /// for the shift and drift views: a lone point far from its reference
    /// is a spike whatever the trend.
    pub(super) fn extrapolated_only(&self, i: usize, stat: f64) -> bool {
        let view = &self.views[i];
        if !self.cfg.untrended
            || self.cfg.trend <= 0.0
            || !matches!(view.kind, ViewKind::Shift | ViewKind::Drift)
        {
            return false;
        }
        let Some((center, _, _)) = view.band else {
            return false;
        };
        (view.plain - center) * (stat - center) <= 0.0
    }
}

impl SeriesDetector {
    /// Whether view `i`'s statistic `stat` (with `own`, the newest point's
    /// deviation from the same reference) may join a fusion: an averaging
    /// view (shift, drift, level), whose newest point deviates at least as
    /// far as its mean, the same way (the move is still there, not an
    /// average carrying an earlier one: the return after a level switch
    /// keeps the long views' means high for a while), and not by the
    /// extrapolated trend alone. The level view joins only once its
    /// history holds `LEVEL_FUSION_HISTORY` statistics: it judges from 250,
    /// less than two days of a 5-minute series, whose extremes (the first
    /// daily dips it sees) a lowered threshold would flag.
    pub(super) fn fusable(&self, i: usize, stat: f64, own: f64) -> bool {
        matches!(
            self.views[i].kind,
            ViewKind::Shift | ViewKind::Drift | ViewKind::Level
        ) && (self.views[i].kind != ViewKind::Level
            || self.views[i].history.len() >= LEVEL_FUSION_HISTORY)
            && stat != 0.0
            && own / stat >= 1.0
            && !self.extrapolated_only(i, stat)
    }

    /// Fusion (`fusion`): of the marginal averaging views (the share of
    /// its threshold each reached, its direction, its index), the two
    /// strongest deviating the same way score as if the weaker had gone
    /// `fusion` times as far. The averaging views measure one move at
    /// three scales; each falling just short of its threshold at once is
    /// a move that lasts longer than the short view's stretch and is
    /// sharper than the long views expect. Returns the fused score, the
    /// stronger view and the direction.
    pub(super) fn fuse(&self, marginal: &[(f64, bool, usize)]) -> Option<(f64, usize, bool)> {
        let mut fused: Option<(f64, usize, bool)> = None;
        for up in [true, false] {
            let mut first: Option<(f64, usize)> = None;
            let mut second = 0.0f64;
            for &(ratio, _, i) in marginal.iter().filter(|m| m.1 == up) {
                match first {
                    Some((r, _)) if ratio <= r => second = second.max(ratio),
                    Some((r, _)) => {
                        second = r;
                        first = Some((ratio, i));
                    }
                    None => first = Some((ratio, i)),
                }
            }
            if let Some((_, i)) = first
                && second > 0.0
            {
                let score = score_from_ratio(self.cfg.fusion * second);
                if fused.is_none_or(|(s, _, _)| score > s) {
                    fused = Some((score, i, up));
                }
            }
        }
        fused
    }
}

fn second_largest(values: impl Iterator<Item = f64>) -> Option<f64> {
    let mut first = f64::NEG_INFINITY;
    let mut second = f64::NEG_INFINITY;
    for v in values {
        if v > first {
            second = first;
            first = v;
        } else if v > second {
            second = v;
        }
    }
    second.is_finite().then_some(second)
}
