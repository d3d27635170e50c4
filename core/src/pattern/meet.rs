//! Patterns of one length that generalised apart (session 25, round 25).
//!
//! A pattern gains its `<*>`s one at a time, from the lines it happens to
//! meet. Two patterns of one template can so gain them at different
//! positions (`a <*> c d` and `a b c <*>`), each from lines the other never
//! saw; each then takes its own lines at once (an exact match beats any
//! other), and neither covers the other, so they never merge. Which lines
//! came first decided it: behind another header, or in another order, the
//! same lines merged. When a pattern changes shape, a pattern of its length
//! that differs from it only where values vary (one side has `<*>`, or both
//! hold words step 3 merges at once: names, state values), with at least
//! as many equal constant tokens as differing positions (step 3's demand
//! on a line), merges into the older of the two, which takes `<*>` at every
//! differing position: the pattern the lines would have made had they come
//! in another order.

use super::flags::{WILD, variable_like};
use super::{Miner, Pattern};

/// The positions where `p` and `q` (of one length) differ when each
/// differs only where values vary and they share at least as many
/// constant tokens as they differ in; `None` otherwise.
fn met(p: &Pattern, q: &Pattern) -> Option<Vec<usize>> {
    let mut matched = 0;
    let group = super::prefix::opening_group(&p.tokens);
    let mut differing = Vec::new();
    for i in 0..p.keys.len() {
        let (a, b) = (p.flags[i], q.flags[i]);
        let (wild_p, wild_q) = (a & WILD != 0, b & WILD != 0);
        if wild_p && wild_q {
            continue;
        }
        if !wild_p && !wild_q && p.keys[i] == q.keys[i] {
            // Equal words of an opening bracketed group are no evidence.
            matched += usize::from(!group.contains(&i));
            continue;
        }
        if !(wild_p || wild_q || variable_like(a, b)) {
            return None;
        }
        differing.push(i);
    }
    (!differing.is_empty() && matched >= differing.len()).then_some(differing)
}

impl Miner {
    /// After `slot` gained a `<*>`: a pattern of its length that it meets
    /// ([`met`]) merges with it into the older of the two, which takes
    /// `<*>` at every differing position (and, being generalised, merges
    /// what it now covers and meets in turn). Returns the slot that holds
    /// the result.
    pub(super) fn merge_met(&mut self, slot: u32) -> u32 {
        let p = self.pattern(slot);
        let (keys, flags) = (p.keys.clone(), p.flags.clone());
        let others = self.by_len.get(&keys.len()).cloned().unwrap_or_default();
        for other in others {
            if other == slot || !self.heads[other as usize].may_take(&keys, &flags) {
                continue;
            }
            let (p, q) = (self.pattern(slot), self.pattern(other));
            let Some(positions) = met(p, q) else {
                continue;
            };
            let (survivor, gone) = if (q.first_seq, q.id) < (p.first_seq, p.id) {
                (other, slot)
            } else {
                (slot, other)
            };
            self.merge_into(gone, survivor);
            return self.generalise(survivor, &positions);
        }
        slot
    }
}

#[cfg(test)]
mod tests {
    use crate::pattern::{Miner, MinerConfig};

    fn miner() -> Miner {
        Miner::new("svc", MinerConfig::default())
    }

    /// A job's name and a host's name, each masked in some lines and a
    /// plain word in others.
    const LINES: [&str; 4] = [
        "copy job alpha finished; host red is idle",
        "copy job 42 finished; host red is idle",
        "copy job alpha finished; host blue is idle",
        "copy job alpha finished; host 10.0.0.1 is idle",
    ];

    #[test]
    fn patterns_that_generalised_at_different_positions_merge() {
        // `copy job <*> finished; host red is idle` (the second line) and
        // `copy job alpha finished; host <*> is idle` (the fourth): neither covers
        // the other.
        let mut m = miner();
        let ids: Vec<_> = LINES.iter().map(|l| m.mine(l).id).collect();
        assert_eq!(m.len(), 1);
        for id in &ids {
            assert_eq!(m.resolve(*id), Some(ids[0]), "the older pattern survives");
        }
        assert_eq!(
            m.template(ids[0]).as_deref(),
            Some("copy job <*> finished; host <*> is idle")
        );
        // Another order ends in the same grouping.
        let mut m = miner();
        let ids: Vec<_> = [LINES[2], LINES[3], LINES[0], LINES[1]]
            .iter()
            .map(|l| m.mine(l).id)
            .collect();
        assert_eq!(m.len(), 1);
        assert!(ids.iter().all(|id| m.resolve(*id) == Some(ids[0])));
        let later = m.mine("copy job beta finished; host green is idle");
        assert_eq!(m.resolve(later.id), Some(ids[0]));
    }

    #[test]
    fn patterns_that_differ_by_a_word_of_prose_stay_apart() {
        let mut m = miner();
        for line in &LINES[..2] {
            m.mine(line);
        }
        m.mine("copy job alpha failed; host blue is idle");
        m.mine("copy job alpha failed; host 10.0.0.1 is idle");
        // `copy job <*> finished; host red is idle` and `copy job alpha
        // failed; host <*> is idle`: `finished` / `failed` is the event.
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn short_patterns_need_as_many_equal_words_as_differences() {
        let mut m = miner();
        for line in [
            "alpha done red",
            "42 done red",
            "alpha done blue",
            "alpha done 10.0.0.1",
        ] {
            m.mine(line);
        }
        // `<*> done red` and `alpha done <*>` share one word, differ in two.
        assert_eq!(m.len(), 2);
        let mut m = miner();
        for line in [
            "job alpha done red",
            "job 42 done red",
            "job alpha done blue",
            "job alpha done 10.0.0.1",
        ] {
            m.mine(line);
        }
        assert_eq!(m.len(), 1);
    }
}
