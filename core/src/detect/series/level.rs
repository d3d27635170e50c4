//! The level view's reference: the median of the values before the newest
//! mean, kept sorted between steps.

use super::SeriesDetector;

impl SeriesDetector {
    /// The median of `values[end - reference..end]`, the level view's
    /// reference, kept sorted from one step to the next (one value leaves,
    /// one enters) instead of selected afresh from 288 values each step.
    pub(super) fn level_median(&mut self, end: usize, reference: usize) -> f64 {
        let sorted = &mut self.level_sorted;
        let next = self.level_at != 0
            && self.level_at + 1 == self.steps
            && sorted.len() == reference
            && end > reference;
        if next {
            let old = self.values[end - reference - 1];
            if let Ok(at) = sorted.binary_search_by(|x| x.total_cmp(&old)) {
                sorted.remove(at);
                let new = self.values[end - 1];
                let at = sorted.partition_point(|x| x.total_cmp(&new).is_lt());
                sorted.insert(at, new);
            } else {
                sorted.clear();
            }
        }
        if sorted.len() != reference {
            sorted.clear();
            sorted.extend(self.values.range(end - reference..end));
            sorted.sort_by(f64::total_cmp);
        }
        self.level_at = self.steps;
        let mid = reference / 2;
        if reference % 2 == 1 {
            sorted[mid]
        } else {
            (sorted[mid - 1] + sorted[mid]) / 2.0
        }
    }
}
