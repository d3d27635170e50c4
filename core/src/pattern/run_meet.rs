//! Patterns of other lengths that meet by a run (session 26, round 30).
//!
//! The run step lines a message up with patterns of other lengths: a run of
//! words that is a value, facing a pattern's `<*>`, joins it. Two patterns
//! are never lined up so, and a pattern gains its `<*>`s from the lines it
//! happens to meet: `<*> has reached the goal [The Next Generation]` (a
//! player's name masked in some lines) and `nobody has reached the goal
//! [<*>]` (the goal's title lined up by the run step in others) hold one
//! template's lines, but neither takes the other's lines (each holds a word
//! where the other has its `<*>`), so which lines came first decided the
//! grouping. When a pattern changes shape (gains a `<*>` by any step, or
//! is created with a `<*>`), a pattern of another length that the run step
//! would have lined up with it had one of the two been a message merges
//! with it, into the older: the shorter has one `<*>` (bare or framed)
//! where the longer has a run of words, the run a value by the run step's
//! own tests ([`super::take_at`], constant words around as it demands,
//! counted where neither pattern has a `<*>`), and every other position
//! equal or a `<*>` on either side. The survivor takes the shorter's shape,
//! with `<*>` wherever either had one: the pattern the lines would have
//! made had they come in another order (as `meet.rs` does for patterns of
//! one length).
//!
//! A pattern that gains a `<*>` counts its run siblings again as if it were
//! a message ([`Miner::recount_runs`]); its `<*>`s now take the others'
//! plain words between equal tokens ([`near_either`]: `<*> was slain by
//! Cave Spider` lines up with `dave was slain by Zombie Villager`), and
//! the runs are counted once each however many patterns hold them
//! ([`distinct_runs`]).

use super::super::flags::{MASKED, WILD};
use super::super::{Head, Miner, Pattern};
use super::{MAX_RUN, Near, lined_up, take_at};

/// How pattern `p` (in `slot`) lines up from both ends with pattern `q`:
/// [`super::near`], `q`'s `<*>`s taking `p`'s plain words too (not `<*>,`:
/// a line masked so never faces a bare `<*>`) where the tokens on each
/// side are equal (or `p`'s `<*>`): a `<*>` that one value made faces one
/// word, not the edge of a run (`Web Server <*>` facing `SQL Prod`: the
/// run is the name), nor a word at either end of the message, where a
/// `<*>` may stand for a run (gamesrv's `[www-data: Gave <*> [Netherite
/// Ingot] to <*>` took `... to news]` so, and the command's words became a
/// value on three runs). `None` when their first tokens differ.
pub(super) fn near_either(p: &Pattern, slot: u32, q: &Pattern) -> Option<Near> {
    let (n, m) = (q.keys.len(), p.keys.len());
    let strict = |i: usize, j: usize| p.is_wild(j) || p.keys[j] == q.keys[i];
    let eq = |i: usize, j: usize| {
        strict(i, j)
            || (q.is_wild(i)
                && p.flags[j] & MASKED == 0
                && i > 0
                && j > 0
                && i + 1 < n
                && j + 1 < m
                && strict(i - 1, j - 1)
                && strict(i + 1, j + 1))
    };
    lined_up(slot, n, m, eq)
}

/// The distinct runs among `members` (`run_of` gives each member
/// pattern's run), the message's `run` not counted: the run step counts
/// runs, and two patterns that hold one run (differing elsewhere, where
/// the message has a `<*>` that takes either) are one.
pub(super) fn distinct_runs<'k>(
    members: &[usize],
    run_of: impl Fn(usize) -> &'k [u64],
    run: &[u64],
) -> usize {
    (0..members.len())
        .filter(|&x| {
            let r = run_of(members[x]);
            r != run && members[..x].iter().all(|&y| run_of(y) != r)
        })
        .count()
}

/// The position of the shorter pattern's `<*>` that takes a run of the
/// longer's ([`take_at`], tried one position at a time), the one with the
/// most constant words around.
fn run_met(short: &Pattern, slot: u32, long: &Pattern) -> Option<usize> {
    let c = near_either(short, slot, long)?;
    let m = c.len;
    let mut best: Option<(usize, usize)> = None;
    for w in (m - 1 - c.suffix.min(m - 1))..=c.prefix.min(m - 1) {
        let at = Near {
            slot,
            len: m,
            prefix: w,
            suffix: m - 1 - w,
        };
        if let Some(around) = take_at(short, &at, &long.tokens, &long.flags)
            && best.is_none_or(|(b, _)| around > b)
        {
            best = Some((around, w));
        }
    }
    best.map(|(_, w)| w)
}

impl Miner {
    /// The patterns of `lengths` whose first token may line up with
    /// `slot`'s, as `(length, slot)` (read from the flat heads; merges that
    /// follow remove only the pattern merged).
    pub(super) fn first_lined_up(
        &self,
        slot: u32,
        lengths: impl Iterator<Item = usize>,
    ) -> Vec<(usize, u32)> {
        let head = Head::of(self.pattern(slot));
        let first = |h: &Head| {
            h.flags[0] & WILD != 0 || head.flags[0] & WILD != 0 || h.keys[0] == head.keys[0]
        };
        lengths
            .filter_map(|n| self.by_len.get(&n).map(|list| (n, list)))
            .flat_map(|(n, list)| list.iter().map(move |&other| (n, other)))
            .filter(|&(_, other)| first(&self.heads[other as usize]))
            .collect()
    }

    /// After `slot` changed shape (or was created with a `<*>`): a pattern
    /// of another length that meets it by a run (see the module
    /// documentation) merges with it into the older of the two, which
    /// takes the shorter's shape and `<*>` wherever either had one (and,
    /// being generalised, merges what it now covers and meets in turn).
    /// Returns the slot that holds the result.
    pub(in crate::pattern) fn merge_run_met(&mut self, slot: u32) -> u32 {
        let slot = self.merge_wild_run_met(slot);
        let slot = self.merge_pair_met(slot);
        let p = self.pattern(slot);
        let m = p.keys.len();
        let takes = p.flags.iter().any(|f| f & WILD != 0)
            || p.tokens.iter().any(|t| t.contains(super::WILDCARD));
        if m < 3 || !takes {
            return slot;
        }
        // As the shorter it needs a `<*>` that takes a run (as
        // `merge_taken`'s); as the longer a run that may be a value, as
        // a message needs one to be lined up at all (`align_run`'s test).
        let taker = (1..m).any(|j| {
            p.flags[j] & WILD != 0
                || p.tokens[j]
                    .split_once(super::WILDCARD)
                    .is_some_and(|(open, _)| matches!(open, "[" | "(" | "\""))
        });
        let run = (1..m)
            .any(|i| super::may_open(&p.tokens[i], p.flags[i]) || p.tokens[i - 1].ends_with(':'))
            || {
                let tokens: Vec<&str> = p.tokens.iter().map(|t| &**t).collect();
                (1..m).any(|i| super::may_open_lower(&tokens, &p.flags, i))
            };
        let others = self.first_lined_up(
            slot,
            (m.saturating_sub(MAX_RUN - 1).max(3)..=m + MAX_RUN - 1)
                .filter(|&n| if n > m { taker } else { n < m && run }),
        );
        for (n, other) in others {
            let (short, long) = if n > m { (slot, other) } else { (other, slot) };
            let (s, l) = (self.pattern(short), self.pattern(long));
            let Some(w) = run_met(s, short, l) else {
                continue;
            };
            // The shorter's shape, `<*>` where the longer has one
            // around the run.
            let (sn, ln) = (s.keys.len(), l.keys.len());
            let positions: Vec<usize> = (0..sn)
                .filter(|&j| {
                    j != w && !s.is_wild(j) && l.is_wild(if j < w { j } else { ln - (sn - j) })
                })
                .collect();
            let older = |p: &Pattern| (p.first_seq, p.id);
            if older(s) <= older(l) {
                self.merge_into(long, short);
                if positions.is_empty() {
                    if short == slot {
                        continue;
                    }
                    return short;
                }
                return self.generalise(short, &positions);
            }
            // The longer survives and takes the shorter's shape.
            let shape = s.clone();
            self.merge_into(short, long);
            self.take_shape(long, shape);
            return self.generalise(long, &positions);
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

    /// A player masked (`player 7`) or named, a goal's title framed.
    const NAMED: [&str; 3] = [
        "game: bob has reached the goal [Sky Limit]",
        "game: bob has reached the goal [Deep Blue Sea]",
        "game: bob has reached the goal [Free Fall]",
    ];
    const MASKED: &str = "game: u42 has reached the goal [The Next Generation]";

    #[test]
    fn a_pattern_with_a_run_meets_the_shorter_pattern_whose_variable_takes_it() {
        // The titles first: `game: bob has reached the goal [<*>]` (three
        // framed runs), then `game: <*> has reached the goal [The Next
        // Generation]`: neither takes the other's lines (`bob` / `<*>`).
        let mut m = miner();
        let mut ids: Vec<_> = NAMED.iter().map(|l| m.mine(l).id).collect();
        ids.push(m.mine(MASKED).id);
        assert_eq!(m.len(), 1);
        for id in &ids {
            assert_eq!(m.resolve(*id), Some(ids[0]), "the older pattern survives");
        }
        assert!(
            m.template(ids[0])
                .is_some_and(|t| t.starts_with("game: <*> has reached the goal")),
            "{:?}",
            m.template(ids[0])
        );
        // The other order: the run step lines the titles up with the
        // masked player's pattern.
        let mut m = miner();
        let first = m.mine(MASKED).id;
        for line in NAMED {
            m.mine(line);
        }
        assert_eq!(m.len(), 1);
        let later = m.mine("game: carol has reached the goal [Night Watch]");
        assert_eq!(m.resolve(later.id), m.resolve(first));
    }

    #[test]
    fn a_pattern_that_gains_a_variable_counts_runs_of_patterns_with_a_word_there() {
        // Three creatures, each with its own player, then one creature
        // with three players: `game: <*> was slain by Cave Spider` lines
        // up with `game: dave was slain by Zombie Villager` (its `<*>`
        // takes `dave`), four runs after a lower-case word.
        let mut m = miner();
        let mut ids = Vec::new();
        for line in [
            "game: dave was slain by Zombie Villager",
            "game: erin was slain by Wither Skeleton",
            "game: frank was slain by Piglin Brute",
        ] {
            ids.push(m.mine(line).id);
        }
        assert_eq!(m.len(), 3);
        for player in ["alice", "bob", "carol"] {
            ids.push(
                m.mine(&format!("game: {player} was slain by Cave Spider"))
                    .id,
            );
        }
        assert_eq!(m.len(), 1);
        assert!(ids.iter().all(|id| m.resolve(*id) == m.resolve(ids[0])));
        assert_eq!(
            m.template(ids[0]).as_deref(),
            Some("game: <*> was slain by <*>")
        );
    }

    #[test]
    fn a_variable_faces_no_masked_value_with_punctuation() {
        // `<*>: Interface <*>, changed state to <*>` and `<*>: Interface
        // <*> changed state to administratively down`: a line never puts
        // `Vlan12` where `Gi1/0/1,` stands, so the two stay apart.
        let mut m = miner();
        for name in ["Vlan12", "Loopback3", "Tunnel7"] {
            m.mine(&format!(
                "%LINK-5-CHANGED: Interface {name} changed state to administratively down"
            ));
        }
        for (port, state) in [(1, "up"), (2, "down"), (3, "up")] {
            m.mine(&format!(
                "%LINK-3-UPDOWN: Interface Gi1/0/{port}, changed state to {state}"
            ));
        }
        assert_eq!(m.len(), 2);
    }
}
