//! A value of several words (session 13).
//!
//! Labellers take a product, a service, a sensor or a reason written in
//! words as one value: `Updated <*> status successfully to <*>` holds
//! `Windows Defender` and `Bitdefender Antivirus Plus`, `Failure Reason: <*>
//! Source ...` holds `Unknown user name or bad password.`. Masking cannot
//! see such a value (no digit), siblings need one differing word, spans one
//! word more or less. Here a message that found no pattern is compared with
//! the patterns of other lengths (and of its own, where two or more words
//! in a row differ) that share its first and last tokens around one run of
//! words:
//! - a pattern with one `<*>` where the message has a run of words takes
//!   the message;
//! - enough such patterns whose runs differ from the message's at one place
//!   (four runs in all, the message's included; three after a label such
//!   as `Reason:` or `=`) merge into the oldest, the run becoming one
//!   `<*>`, which keeps every `<*>` the merged patterns had around it.
//!
//! A run is a value only when its first word opens with a capital
//! (`Windows Defender`, `Unknown user name ...`) and follows a word or `=`,
//! none of its words is upper-case (`START`, `[UFW BLOCK]`: the event's
//! name, as in `flags.rs`) or a label (`taskState: Running; visibility:
//! ...` holds fields, not one value), it holds at most [`MAX_RUN`] tokens,
//! and at least [`MIN_CONSTANTS`] equal constant words (with a letter: not
//! the `--` or `[<*>]` of a header) stand around it, some before and some
//! after. A run of lower-case prose (`was not`, `failed to`) changes what
//! the event is and never merges here, nor does a run that ends the message
//! (`mce: [Hardware Error]: Machine check events logged` / `CPU <*>: ...`
//! are events, not values of one field).

use super::flags::{KEYED, MASKED, WILD};
use super::{Head, Miner, WILDCARD, hash_bytes};

/// The longest run of tokens taken as one value.
const MAX_RUN: usize = 12;

/// Equal constant words needed around the run.
const MIN_CONSTANTS: usize = 3;

/// Distinct runs (the message's and its patterns') that make a value.
const MIN_RUNS: usize = 4;

/// A constant word around the run: a token with a letter that is not a
/// masked value (a key counts: `rc=<*>`), not punctuation (`--`, `:`).
fn word_at<T: AsRef<str>>(tokens: &[T], flags: &[u8], i: usize) -> bool {
    (flags[i] & MASKED == 0 || flags[i] & KEYED != 0)
        && tokens[i].as_ref().bytes().any(|b| b.is_ascii_alphabetic())
}

/// An upper-case word of letters (`START`, `BLOCK]`): the event's name.
fn shouted(token: &str) -> bool {
    let letters = token.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    letters.len() > 1 && letters.bytes().all(|b| b.is_ascii_uppercase())
}

/// Whether the run from `a` to `end` may be a value: its first word opens
/// with a capital letter (after an opening quote or bracket) and follows a
/// word or `=`, and no word of it is upper-case (`START`: the event).
fn opens_value<T: AsRef<str>>(tokens: &[T], flags: &[u8], a: usize, end: usize) -> bool {
    let word = tokens[a]
        .as_ref()
        .trim_start_matches(['"', '\'', '(', '[', '<']);
    a > 0
        && (word_at(tokens, flags, a - 1) || tokens[a - 1].as_ref() == "=")
        && flags[a] & MASKED == 0
        && word.as_bytes().first().is_some_and(u8::is_ascii_uppercase)
        && !tokens[a..end]
            .iter()
            .any(|t| shouted(t.as_ref()) || label(t) || t.as_ref().ends_with(';'))
}

/// A token that ends a label: `Reason:`, `=`.
fn label<T: AsRef<str>>(token: &T) -> bool {
    let t = token.as_ref();
    t.ends_with(':') || t == "="
}

/// The distinct runs needed to make the run from `a` to `n - b` of a
/// message of `n` tokens a value, and the equal constant words around it
/// (counted where `wild(i)`, a pattern's `<*>` facing position `i`, is
/// false): `None` when too few words stand around it, or none before or
/// after it; one less than [`MIN_RUNS`] after a label.
fn runs_needed<T: AsRef<str>>(
    tokens: &[T],
    flags: &[u8],
    a: usize,
    b: usize,
    wild: impl Fn(usize) -> bool,
) -> Option<(usize, usize)> {
    let n = tokens.len();
    let count = |range: std::ops::Range<usize>| {
        range
            .filter(|&i| word_at(tokens, flags, i) && !wild(i))
            .count()
    };
    let (before, after) = (count(0..a), count(n - b..n));
    if before == 0 || before + after < MIN_CONSTANTS {
        return None;
    }
    if after == 0 {
        return None;
    }
    let needed = if label(&tokens[a - 1]) {
        MIN_RUNS - 1
    } else {
        MIN_RUNS
    };
    Some((needed, before + after))
}

/// A pattern of another shape than the message, sharing `prefix` tokens at
/// the start and `suffix` at the end with it.
struct Near {
    slot: u32,
    len: usize,
    prefix: usize,
    suffix: usize,
}

impl Miner {
    /// The pattern a message that found none belongs to when it differs
    /// only by a value of several words (see the module documentation).
    pub(super) fn align_run(&mut self, tokens: &[&str], keys: &[u64], flags: &[u8]) -> Option<u32> {
        let n = keys.len();
        if n < 3 {
            return None;
        }
        let mut near = Vec::new();
        for m in n.saturating_sub(MAX_RUN - 1).max(2)..=n + MAX_RUN - 1 {
            let Some(list) = self.by_len.get(&m) else {
                continue;
            };
            for &slot in list {
                let head: &Head = &self.heads[slot as usize];
                if head.flags[0] & WILD == 0 && head.keys[0] != keys[0] {
                    continue;
                }
                let p = self.pattern(slot);
                let eq = |i: usize, j: usize| p.is_wild(j) || p.keys[j] == keys[i];
                let most = n.min(m) - 1;
                let prefix = (0..most).take_while(|&i| eq(i, i)).count();
                let suffix = (0..most).take_while(|&k| eq(n - 1 - k, m - 1 - k)).count();
                if prefix > 0 {
                    near.push(Near {
                        slot,
                        len: m,
                        prefix,
                        suffix,
                    });
                }
            }
        }
        if near.is_empty() {
            return None;
        }
        if let Some((slot, positions)) = self.run_taker(tokens, keys, flags, &near) {
            if positions.is_empty() {
                return Some(slot);
            }
            return Some(self.generalise(slot, &positions));
        }
        self.merge_runs(tokens, keys, flags, &near)
    }

    /// A pattern with one `<*>` where the message has a run of words.
    /// Returns it and the positions around the run where it differs from
    /// the message by a value (they become `<*>`).
    fn run_taker(
        &self,
        tokens: &[&str],
        keys: &[u64],
        flags: &[u8],
        near: &[Near],
    ) -> Option<(u32, Vec<usize>)> {
        let n = tokens.len();
        let mut best: Option<(usize, u64, u32, usize)> = None;
        for c in near.iter().filter(|c| c.len < n) {
            let p = self.pattern(c.slot);
            let m = c.len;
            // The `<*>` at `w`: every position before it and after it equal.
            for w in (m - 1 - c.suffix.min(m - 1))..=c.prefix.min(m - 1) {
                let after = m - 1 - w;
                if !p.is_wild(w) || w == 0 || c.prefix < w || c.suffix < after {
                    continue;
                }
                if !opens_value(tokens, flags, w, n - after) {
                    continue;
                }
                let Some((_, around)) = runs_needed(tokens, flags, w, after, |i| {
                    p.is_wild(if i < w { i } else { m + i - n })
                }) else {
                    continue;
                };
                let key = (around, u64::MAX - p.first_seq, c.slot, w);
                if best.is_none_or(|b| key > b) {
                    best = Some(key);
                }
            }
        }
        let (_, _, slot, w) = best?;
        let p = self.pattern(slot);
        let m = p.keys.len();
        let differing = (0..m)
            .filter(|&j| j != w && !p.is_wild(j))
            .filter(|&j| p.keys[j] != keys[if j < w { j } else { n + j - m }])
            .collect();
        Some((slot, differing))
    }

    /// Merges the patterns whose run differs from the message's at one place
    /// when there are enough of them; returns the survivor.
    fn merge_runs(
        &mut self,
        tokens: &[&str],
        keys: &[u64],
        flags: &[u8],
        near: &[Near],
    ) -> Option<u32> {
        let n = tokens.len();
        let mut chosen: Option<(usize, usize, usize, Vec<usize>)> = None;
        for g in near {
            let a = g.prefix;
            let b = g.suffix.min(n.min(g.len) - 1 - a);
            if n - a - b > MAX_RUN || !opens_value(tokens, flags, a, n - b) {
                continue;
            }
            let members: Vec<usize> = (0..near.len())
                .filter(|&k| {
                    let c = &near[k];
                    c.prefix >= a && c.suffix >= b && c.len > a + b && c.len - a - b <= MAX_RUN && {
                        let p = self.pattern(c.slot);
                        opens_value(&p.tokens, &p.flags, a, c.len - b)
                    }
                })
                .collect();
            // One word differing in patterns of the message's length is the
            // siblings' case.
            if members.len() + 2 < MIN_RUNS
                || (n - a - b == 1
                    && members
                        .iter()
                        .all(|&k| near[k].len == n && near[k].len - a - b == 1))
            {
                continue;
            }
            let wild_at = |k: usize, i: usize| {
                let c = &near[k];
                let p = self.pattern(c.slot);
                if i < a {
                    p.is_wild(i)
                } else {
                    p.is_wild(c.len - (n - i))
                }
            };
            let Some((needed, around)) = runs_needed(tokens, flags, a, b, |i| {
                members.iter().any(|&k| wild_at(k, i))
            }) else {
                continue;
            };
            if members.len() + 1 < needed {
                continue;
            }
            let better = chosen.as_ref().is_none_or(|(ca, cb, cr, cm)| {
                (members.len(), around, a + b) > (cm.len(), *cr, ca + cb)
            });
            if better {
                chosen = Some((a, b, around, members));
            }
        }
        let (a, b, _, members) = chosen?;
        let mut slots: Vec<(u32, usize)> = members
            .iter()
            .map(|&k| (near[k].slot, near[k].len))
            .collect();
        slots.sort_by_key(|&(s, _)| (self.pattern(s).first_seq, self.pattern(s).id));
        let (survivor, len) = slots[0];
        // The survivor keeps every `<*>` any member had around the run.
        let mut wild = vec![false; a + 1 + b];
        wild[a] = true;
        for &(s, m) in &slots {
            let p = self.pattern(s);
            // A value-like difference from the message becomes `<*>` too.
            for i in 0..a {
                wild[i] |= p.is_wild(i) || p.keys[i] != keys[i];
            }
            for k in 0..b {
                let j = m - b + k;
                wild[a + 1 + k] |= p.is_wild(j) || p.keys[j] != keys[n - b + k];
            }
        }
        self.generation += 1;
        let p = self.pattern_mut(survivor);
        let tail = len - b;
        p.tokens.splice(a..tail, [Box::from(WILDCARD)]);
        p.flags.splice(a..tail, [MASKED | WILD]);
        p.keys.splice(a..tail, [hash_bytes(WILDCARD.as_bytes())]);
        let new_len = p.tokens.len();
        if new_len != len {
            if let Some(list) = self.by_len.get_mut(&len) {
                list.retain(|&s| s != survivor);
            }
            self.by_len.entry(new_len).or_default().push(survivor);
        }
        self.heads[survivor as usize] = Head::of(self.pattern(survivor));
        for &(other, _) in &slots[1..] {
            self.merge_into(other, survivor);
        }
        let positions: Vec<usize> = (0..wild.len()).filter(|&i| wild[i]).collect();
        Some(self.generalise(survivor, &positions))
    }
}

#[cfg(test)]
mod tests {
    use crate::pattern::{Miner, MinerConfig};

    fn mine_all(m: &mut Miner, lines: &[String]) -> Vec<crate::pattern::PatternId> {
        lines.iter().map(|l| m.mine(l).id).collect()
    }

    #[test]
    fn a_value_of_several_capitalised_words_is_one_variable() {
        let products = [
            "Windows Defender",
            "Norton Security",
            "Bitdefender Antivirus Plus",
            "McAfee",
        ];
        for reversed in [false, true] {
            let mut m = Miner::new("svc", MinerConfig::default());
            let mut lines: Vec<String> = products
                .iter()
                .map(|p| format!("Updated {p} status successfully to running"))
                .collect();
            if reversed {
                lines.reverse();
            }
            let ids = mine_all(&mut m, &lines);
            for id in &ids {
                assert_eq!(m.resolve(*id), m.resolve(ids[0]), "reversed: {reversed}");
            }
            assert_eq!(
                m.template(ids[0]).as_deref(),
                Some("Updated <*> status successfully to running")
            );
            // A fifth product of another length joins the `<*>`.
            let more = m.mine("Updated Avast Free Antivirus status successfully to running");
            assert!(!more.new);
            assert_eq!(m.resolve(more.id), m.resolve(ids[0]));
        }
    }

    #[test]
    fn a_value_after_a_label_needs_three_runs() {
        let mut m = Miner::new("svc", MinerConfig::default());
        let line = |reason: &str| {
            format!("An account failed to log on. Reason: {reason} Source address: 10.0.0.1")
        };
        let a = m.mine(&line("Unknown user name or bad password."));
        let b = m.mine(&line("Account currently disabled."));
        assert_ne!(m.resolve(a.id), m.resolve(b.id), "two runs are not enough");
        let c = m.mine(&line("The referenced account is currently locked out."));
        assert_eq!(m.resolve(a.id), m.resolve(b.id));
        assert_eq!(m.resolve(a.id), m.resolve(c.id));
        assert_eq!(
            m.template(a.id).as_deref(),
            Some("An account failed to log on. Reason: <*> Source address: <*>")
        );
    }

    #[test]
    fn events_prose_and_fields_are_no_runs() {
        let cases: [&[&str]; 4] = [
            // Upper-case words name the event.
            &[
                "Received LINK DOWN event from switch core",
                "Received ROAM event from switch core",
                "Received BSS STEERING event from switch core",
                "Received DEAUTH NOW event from switch core",
            ],
            // Lower-case prose changes what the event is.
            &[
                "Connection to pool was opened by the manager",
                "Connection to pool was not opened by the manager",
                "Connection to pool could never be opened by the manager",
                "Connection to pool got closed by the manager",
            ],
            // A run that ends the message.
            &[
                "kernel mce: Hardware Error: Machine check events logged",
                "kernel mce: Hardware Error: Corrected error",
                "kernel mce: Hardware Error: Uncorrected error seen",
                "kernel mce: Hardware Error: Processor context corrupt",
            ],
            // Runs holding labels are fields.
            &[
                "process state changed: Running; visibility: Unknown for app shell",
                "process state changed: Suspended; visibility: Foreground for app shell",
                "process state changed: Terminated; visibility: Background for app shell",
                "process state changed: Running; visibility: Background now for app shell",
            ],
        ];
        for lines in cases {
            let mut m = Miner::new("svc", MinerConfig::default());
            let ids: Vec<_> = lines.iter().map(|l| m.mine(l).id).collect();
            let distinct: std::collections::HashSet<_> =
                ids.iter().map(|id| m.resolve(*id)).collect();
            assert_eq!(distinct.len(), lines.len(), "{lines:?}");
        }
    }
}
