//! A run of `<*>`s facing fewer words, and two words that differ
//! together (session 27, round 34).
//!
//! The run step lines up one `<*>` of a pattern with a run of words of a
//! message (or of another pattern) that is a value. A pattern can also
//! hold a run of two or more bare `<*>`s where one value of several words
//! stood (`Version change detected for <*> <*> firmware.`: a product's
//! name lined up word by word by siblings and the run step), and a message
//! whose value there has fewer words (`for BIOS firmware.`) lines up with
//! nothing: it is shorter than the pattern, and no step reads a run of
//! `<*>`s as one value. Which lines came first decided the grouping. Here
//! the run of `<*>`s is read as the one `<*>` it stands for: when the
//! message (or a pattern of another length, when one of the two changes
//! shape) lines up with that shorter form as the run step lines a message
//! up with a pattern's `<*>` (one word facing it, with the constant words
//! around that the run step demands, [`super::runs_needed`]; or a run of
//! words that is a value, [`super::take_at`]), the pattern's run of `<*>`s
//! becomes one `<*>` and takes it.
//!
//! Two patterns of one length (or a pattern and a message) that differ by
//! two adjacent words, neither side a `<*>` there (`callback for Boot
//! Configuration returned` / `for Image Apply returned`, `Temperature of
//! Fan Tray <*> is hot` / `of Routing Engine <*> is hot`), meet neither in
//! step 3 nor in `meet.rs` (two capitalised words are no names), and the
//! run step counts four runs (three in a slot of names of several word
//! counts) before it takes such a value. Here two words are one value, the
//! two forms one pattern with one `<*>` there, when each side's two words
//! are a value by the run step's own tests, after a plain lower-case word
//! and before more of the message (round 21's slot of short names), and
//! neither word is a value by itself beside a lower-case word (`list
//! MGMT-ACCESS denied` / `list ACL-IN permitted`: a name and the event).

use super::super::flags::{WILD, variable_like};
use super::super::{Miner, Pattern};
use super::{
    MAX_RUN, Near, after_lower_word, message_end, opens_value, runs_needed, take_at, word_at,
};

/// `p` with its tokens from `w` to `e` (a run of `<*>`s) made one `<*>`.
fn collapsed(p: &Pattern, w: usize, e: usize) -> Pattern {
    let mut short = p.clone();
    short.collapse(w, e);
    short
}

/// The runs of two or more bare `<*>`s of `p` after its first token, as
/// `(start, end)`.
fn wild_runs(p: &Pattern) -> Vec<(usize, usize)> {
    let m = p.keys.len();
    let mut runs = Vec::new();
    let mut i = 1;
    while i < m {
        if p.is_wild(i) {
            let start = i;
            while i < m && p.is_wild(i) {
                i += 1;
            }
            if i - start >= 2 {
                runs.push((start, i));
            }
        } else {
            i += 1;
        }
    }
    runs
}

/// Where `long`'s run of `<*>`s faces fewer tokens of `tokens` (`n` of
/// them, fewer than `long` has), every other position lined up
/// (`eq(i, j)`: token `i` faces `long`'s token `j` as equal), and the
/// words there line up with `long`'s run read as one `<*>` as the run step
/// lines a message up with a `<*>`: `(start, end, around)`, the run with
/// the most constant words around.
fn wild_run_met<T: AsRef<str>>(
    long: &Pattern,
    slot: u32,
    tokens: &[T],
    flags: &[u8],
    eq: impl Fn(usize, usize) -> bool,
) -> Option<(usize, usize, usize)> {
    let (n, m) = (tokens.len(), long.keys.len());
    let d = m - n;
    let mut best: Option<(usize, usize, usize)> = None;
    for (w, e) in wild_runs(long) {
        // `j` tokens face the `e - w` `<*>`s.
        if e - w <= d || !(0..w).all(|i| eq(i, i)) || !(e..m).all(|j| eq(j - d, j)) {
            continue;
        }
        let j = e - w - d;
        let short = collapsed(long, w, e);
        let len = short.keys.len();
        let around = if j == 1 {
            // One token faces the one `<*>`: the words around it must be
            // as many as the run step demands around a value.
            runs_needed(tokens, flags, w, len - 1 - w, false, |i| short.is_wild(i))
                .map(|(_, around)| around)
        } else {
            let at = Near {
                slot,
                len,
                prefix: w,
                suffix: len - 1 - w,
            };
            take_at(&short, &at, tokens, flags)
        };
        if let Some(around) = around
            && best.is_none_or(|(_, _, b)| around > b)
        {
            best = Some((w, e, around));
        }
    }
    best
}

/// Whether a constant word stands in the message's text from `from` on.
fn more_words<T: AsRef<str>>(tokens: &[T], flags: &[u8], from: usize) -> bool {
    (from..message_end(tokens, flags)).any(|i| word_at(tokens, flags, i))
}

/// Where a message (`tokens`, `flags`, `keys`) and pattern `q` of its
/// length differ by two adjacent words (neither a `<*>`), every other
/// position equal or a `<*>` of `q` (or, `either`, of the message: a
/// pattern's), each side's two words a value by the run step's own tests
/// ([`super::opens_value`], and the constant words around it that
/// [`super::runs_needed`] demands): the position of the first word.
fn pair_at<T: AsRef<str>>(
    tokens: &[T],
    flags: &[u8],
    keys: &[u64],
    q: &Pattern,
    either: bool,
) -> Option<usize> {
    let n = keys.len();
    let wild = |i: usize| q.is_wild(i) || (either && flags[i] & WILD != 0);
    let differ = |i: usize| !wild(i) && q.keys[i] != keys[i];
    let a = (0..n).find(|&i| differ(i))?;
    if a == 0 || a + 1 >= n || !differ(a + 1) || (a + 2..n).any(differ) {
        return None;
    }
    // A word that is a value by itself (two names, two state values, as
    // step 3 tells) beside a differing lower-case word is no value of two
    // words but a variable beside a word of the event (`list MGMT-ACCESS
    // denied` / `list ACL-IN permitted`; `CPU1 Temp` / `PS1 Voltage` is
    // one name).
    let lower = |i: usize| {
        [tokens[i].as_ref(), &q.tokens[i]]
            .iter()
            .any(|t| t.as_bytes().first().is_some_and(u8::is_ascii_lowercase))
    };
    let alone = |i: usize| variable_like(flags[i], q.flags[i]);
    if (alone(a) && lower(a + 1)) || (alone(a + 1) && lower(a)) {
        return None;
    }
    let b = n - a - 2;
    // As round 21's slot of short names: after a plain lower-case word
    // (after a capitalised one the words are part of the event's name,
    // `Received Link Down Event` / `Received Bss Steering Event`) and
    // before more of the message's words (at its end, after a label, two
    // words are the event's reason: `error: Not Found`, `command:
    // connection closed`).
    (after_lower_word(tokens, flags, a)
        && more_words(tokens, flags, a + 2)
        && more_words(&q.tokens, &q.flags, a + 2)
        && opens_value(tokens, flags, a, a + 2, false)
        && opens_value(&q.tokens, &q.flags, a, a + 2, false)
        && runs_needed(tokens, flags, a, b, false, wild).is_some()
        && runs_needed(&q.tokens, &q.flags, a, b, false, wild).is_some())
    .then_some(a)
}

impl Miner {
    /// A message that found no pattern (`near`: the patterns that line up
    /// with it from both ends): a longer pattern whose run of `<*>`s faces
    /// fewer of its words, read as one `<*>` ([`wild_run_met`]), makes that
    /// run one `<*>` and takes it. Returns the slot that holds it.
    pub(super) fn take_by_wild_run(
        &mut self,
        tokens: &[&str],
        keys: &[u64],
        flags: &[u8],
        near: &[Near],
    ) -> Option<u32> {
        let n = keys.len();
        let mut best: Option<(usize, u64, u32, usize, usize)> = None;
        for c in near.iter().filter(|c| c.len > n) {
            let p = self.pattern(c.slot);
            let eq = |i: usize, j: usize| p.is_wild(j) || p.keys[j] == keys[i];
            if let Some((w, e, around)) = wild_run_met(p, c.slot, tokens, flags, eq) {
                let key = (around, u64::MAX - p.first_seq, c.slot, w, e);
                if best.is_none_or(|b| key > b) {
                    best = Some(key);
                }
            }
        }
        let (_, _, slot, w, e) = best?;
        Some(self.collapse_wild_run(slot, w, e, &[]))
    }

    /// Makes `slot`'s `<*>`s from `w` to `e` one `<*>`, with `<*>` at
    /// `positions` (of the shorter shape) too; returns the slot that holds
    /// the result (being generalised, it merges what it now covers and
    /// meets in turn).
    fn collapse_wild_run(&mut self, slot: u32, w: usize, e: usize, positions: &[usize]) -> u32 {
        let len = self.pattern(slot).keys.len();
        self.pattern_mut(slot).collapse(w, e);
        self.relength(slot, len);
        self.generalise(slot, positions)
    }

    /// A message that found no pattern: a pattern of its length that
    /// differs from it by two adjacent words that are values on each side
    /// ([`pair_at`]) makes them one `<*>` and takes it (a run of words
    /// facing that `<*>`, as the run step lines it up). Returns the slot
    /// that holds it.
    pub(super) fn take_pair(
        &mut self,
        tokens: &[&str],
        keys: &[u64],
        flags: &[u8],
        near: &[Near],
    ) -> Option<u32> {
        let n = keys.len();
        let mut best: Option<(u64, u32, usize)> = None;
        for c in near
            .iter()
            .filter(|c| c.len == n && c.prefix + c.suffix + 2 == n)
        {
            let p = self.pattern(c.slot);
            if let Some(a) = pair_at(tokens, flags, keys, p, false) {
                let key = (u64::MAX - p.first_seq, c.slot, a);
                if best.is_none_or(|b| key > b) {
                    best = Some(key);
                }
            }
        }
        let (_, slot, a) = best?;
        Some(self.collapse_wild_run(slot, a, a + 2, &[]))
    }

    /// After `slot` changed shape: a pattern of its length that differs
    /// from it by two adjacent words that are values on each side
    /// ([`pair_at`], a `<*>` on either side taking the other's token
    /// elsewhere) merges with it into the older, the two words one `<*>`,
    /// with `<*>` wherever either had one. Returns the slot that holds the
    /// result.
    pub(super) fn merge_pair_met(&mut self, slot: u32) -> u32 {
        let p = self.pattern(slot);
        let m = p.keys.len();
        if m < 4 {
            return slot;
        }
        let others = self.first_lined_up(slot, std::iter::once(m));
        for (_, other) in others {
            if other == slot {
                continue;
            }
            let (p, q) = (self.pattern(slot), self.pattern(other));
            let Some(a) = pair_at(&p.tokens, &p.flags, &p.keys, q, true) else {
                continue;
            };
            // `<*>` wherever either had one, in the shorter shape.
            let positions: Vec<usize> = (0..m)
                .filter(|&i| (i < a || i >= a + 2) && (p.is_wild(i) || q.is_wild(i)))
                .map(|i| if i < a { i } else { i - 1 })
                .collect();
            let older = |p: &Pattern| (p.first_seq, p.id);
            let (survivor, gone) = if older(q) < older(p) {
                (other, slot)
            } else {
                (slot, other)
            };
            self.merge_into(gone, survivor);
            return self.collapse_wild_run(survivor, a, a + 2, &positions);
        }
        slot
    }

    /// After `slot` changed shape: a pattern of another length that meets
    /// it by a run of `<*>`s facing fewer words ([`wild_run_met`], `<*>`s
    /// of the shorter taking the longer's words too) merges with it into
    /// the older, which takes the shorter shape, with `<*>` wherever either
    /// had one. Returns the slot that holds the result.
    pub(super) fn merge_wild_run_met(&mut self, slot: u32) -> u32 {
        let p = self.pattern(slot);
        let m = p.keys.len();
        if m < 3 {
            return slot;
        }
        let runs = wild_runs(p);
        // As the longer it needs a run of `<*>`s; as the shorter it is
        // looked at against longer patterns that hold one.
        let longest = runs.iter().map(|&(w, e)| e - w).max().unwrap_or(0);
        let lengths = (m + 1 - longest.max(1)).max(3)..=m + MAX_RUN - 1;
        let others = self.first_lined_up(slot, lengths.filter(|&n| n != m));
        for (n, other) in others {
            let (short, long) = if n > m { (slot, other) } else { (other, slot) };
            let (s, l) = (self.pattern(short), self.pattern(long));
            let eq = |i: usize, j: usize| s.is_wild(i) || l.is_wild(j) || s.keys[i] == l.keys[j];
            let Some((w, e, _)) = wild_run_met(l, long, &s.tokens, &s.flags, eq) else {
                continue;
            };
            // The shorter's `<*>`s outside the run, in the collapsed shape.
            let (sn, ln) = (s.keys.len(), l.keys.len());
            let j = e - w - (ln - sn);
            let s_wild: Vec<usize> = (0..sn)
                .filter(|&i| s.is_wild(i) && (i < w || i >= w + j))
                .map(|i| if i < w { i } else { i + 1 - j })
                .collect();
            let older = |p: &Pattern| (p.first_seq, p.id);
            if older(l) <= older(s) {
                self.merge_into(short, long);
                return self.collapse_wild_run(long, w, e, &s_wild);
            }
            // The shorter survives and takes the collapsed shape.
            let c = collapsed(l, w, e);
            self.merge_into(long, short);
            self.take_shape(short, c);
            return self.generalise(short, &s_wild);
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

    /// A product's name of one to four words before a fixed word.
    const NAMES: [&str; 5] = [
        "BIOS",
        "Integrated Remote Access Controller",
        "PERC H740P Mini",
        "Broadcom Gigabit Ethernet BCM5720",
        "Lifecycle Controller",
    ];

    /// Mines two lines of each name, in `order`; returns the ids.
    fn mine(m: &mut Miner, order: [usize; 5]) -> Vec<crate::pattern::PatternId> {
        let mut ids = Vec::new();
        for (k, &i) in order.iter().enumerate() {
            for r in 0..2 {
                let line = format!(
                    "Ok PR36 Version change detected for {} firmware. Previous version:{k}.{r}.1, Current version:2.{k}.{r}",
                    NAMES[i]
                );
                ids.push(m.mine(&line).id);
            }
        }
        ids
    }

    #[test]
    fn a_word_facing_a_run_of_variables_joins_the_pattern() {
        // `for <*> <*> firmware.` (the longer names lined up word by word)
        // before `for BIOS firmware.`: the run of `<*>`s becomes one.
        let mut m = miner();
        let ids = mine(&mut m, [4, 3, 1, 2, 0]);
        assert_eq!(m.len(), 1);
        assert!(ids.iter().all(|id| m.resolve(*id) == m.resolve(ids[0])));
        assert_eq!(
            m.template(ids[0]).as_deref(),
            Some(
                "Ok PR36 Version change detected for <*> firmware. Previous version:<*>, Current version:<*>"
            )
        );
    }

    #[test]
    fn a_pattern_that_gains_a_run_of_variables_meets_the_shorter_one() {
        // `for BIOS firmware.` before `for <*> <*> firmware.` forms: the
        // two patterns meet when the longer gains its run of `<*>`s.
        for order in [[4, 0, 3, 1, 2], [3, 0, 4, 1, 2], [3, 1, 0, 4, 2]] {
            let mut m = miner();
            let ids = mine(&mut m, order);
            assert_eq!(m.len(), 1, "{order:?}");
            assert!(ids.iter().all(|id| m.resolve(*id) == m.resolve(ids[0])));
        }
    }

    #[test]
    fn a_word_facing_a_run_of_variables_needs_the_words_around() {
        // Names (inner `_`) merge at once: `copy <*> <*> to disk`, then
        // `copy Alpha to disk` joins it (three constant words around).
        let mut m = miner();
        m.mine("copy job_a job_b to disk");
        m.mine("copy job_c job_d to disk");
        let later = m.mine("copy Alpha to disk");
        assert_eq!(m.len(), 1);
        assert_eq!(m.template(later.id).as_deref(), Some("copy <*> to disk"));
        // Two constant words are too few: `copy Alpha done` stays apart.
        let mut m = miner();
        m.mine("copy job_a job_b done");
        m.mine("copy job_c job_d done");
        m.mine("copy Alpha done");
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn a_message_differing_by_two_words_of_a_name_joins_the_pattern() {
        // Cast devices named in two words: the second joins the first.
        for (first, second) in [
            ("Kitchen display", "Office TV"),
            ("Office TV", "Kitchen display"),
        ] {
            let mut m = miner();
            let a = m.mine(&format!("cast: session started on {first} with volume 3"));
            let b = m.mine(&format!("cast: session started on {second} with volume 7"));
            assert_eq!(m.len(), 1);
            assert_eq!(m.resolve(b.id), m.resolve(a.id));
            assert_eq!(
                m.template(a.id).as_deref(),
                Some("cast: session started on <*> with volume <*>")
            );
        }
    }

    #[test]
    fn patterns_differing_by_two_words_of_a_name_meet() {
        // `on Kitchen display by <*> now` (three users) and `on Office TV
        // by bob now`: they meet once the first gains its `<*>`.
        let mut m = miner();
        let first = m
            .mine("cast: session started on Kitchen display by alice now")
            .id;
        m.mine("cast: session started on Office TV by bob now");
        assert_eq!(m.len(), 2);
        for user in ["carol", "dave", "erin"] {
            m.mine(&format!(
                "cast: session started on Kitchen display by {user} now"
            ));
        }
        assert_eq!(m.len(), 1);
        assert_eq!(
            m.template(first).as_deref(),
            Some("cast: session started on <*> by <*> now")
        );
    }

    #[test]
    fn two_words_of_prose_or_of_upper_case_stay_apart() {
        let mut m = miner();
        m.mine("job alpha was not started on time");
        m.mine("job alpha has been started on time");
        assert_eq!(m.len(), 2);
        let mut m = miner();
        m.mine("port eth0 LINK DOWN on switch core");
        m.mine("port eth0 PORT UP on switch core");
        assert_eq!(m.len(), 2);
        // A name beside a differing word of the event.
        let mut m = miner();
        m.mine("acl: list MGMT-ACCESS denied tcp from host");
        m.mine("acl: list ACL-IN permitted tcp from host");
        assert_eq!(m.len(), 2);
    }
}
