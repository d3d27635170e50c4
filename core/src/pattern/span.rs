//! A variable that spans a word more in some messages than in others.
//!
//! Masking collapses a run of masked words into one `<*>`, so a host with a
//! digit next to an interface (`with lb-2 Gi0/3` -> `with <*>`) is one token
//! shorter than a host without one (`with combo Gi0/3` -> `with combo
//! <*>`), and a branch `PR-42 #7` (`<*>`) one shorter than `main #7` (`main
//! <*>`). When a message would start a new pattern, it is aligned with a
//! pattern one token shorter or longer that differs only there: a word
//! followed by `<*>` on one side, one `<*>` on the other, every other
//! position equal (or a `<*>` of the pattern), with at least
//! [`MIN_CONSTANTS`] equal constant words around. The pattern keeps (or
//! takes) the single `<*>`.

use super::Miner;
use super::flags::{KEYED, MASKED, WILD};

/// Equal constant tokens (words, names, keys) needed around the span.
const MIN_CONSTANTS: usize = 3;

/// A token that may start a span: a word or a name, or a `<*>`, not a
/// masked value with a constant key or punctuation (`id=<*>`, `(<*>)`).
fn may_start(flags: u8) -> bool {
    flags & MASKED == 0 || flags & WILD != 0
}

/// Whether `long` (one token longer) equals `short` once `long[i]` is
/// dropped, `long[i + 1]` and `short[i]` being bare `<*>`. Positions where
/// `wild_long` / `wild_short` is set take any token. Returns the number of
/// equal constant tokens, or `None`.
fn aligned(
    long: (&[u64], &[u8]),
    short: (&[u64], &[u8]),
    i: usize,
    wild_long: bool,
    wild_short: bool,
) -> Option<usize> {
    let (lk, lf) = long;
    let (sk, sf) = short;
    // `word <*>` facing `<*>`; or (session 15) a word between a `<*>` and
    // a masked value, `<*> combo <<*>>` facing `<*> <<*>>` (a host without
    // a digit after an address, where one with a digit collapses into it).
    let forward = may_start(lf[i]) && lf[i + 1] & WILD != 0;
    let between = i > 0
        && lf[i] & MASKED == 0
        && lf[i - 1] & WILD != 0
        && lf[i + 1] & MASKED != 0
        && lf[i + 1] & KEYED == 0
        && sf[i - 1] & WILD != 0;
    if !(between || (forward && sf[i] & WILD != 0) || trailing(long, short, i)) {
        return None;
    }
    let mut constants = 0;
    for j in (0..sk.len()).filter(|&j| j != i) {
        let l = if j < i { j } else { j + 1 };
        let any = (wild_long && lf[l] & WILD != 0) || (wild_short && sf[j] & WILD != 0);
        if any {
            continue;
        }
        if lk[l] != sk[j] {
            return None;
        }
        if sf[j] & MASKED == 0 || sf[j] & KEYED != 0 {
            constants += 1;
        }
    }
    (constants >= MIN_CONSTANTS).then_some(constants)
}

/// Whether a plain word right after a `<*>` of `long`, before a word
/// both share, is the rest of a value that `short` holds in its `<*>`
/// (`user <*> Connector from` facing `user <*> from`: a name whose first
/// word holds a digit, `B2B Connector`, beside names of one word, session
/// 28, round 39). The word after it must be equal and constant: at the
/// end of the message, or before another value, the word may be a unit
/// or a kind of its own (`<*> ms`); the token before the value must be a
/// word, its field's noun (`user`, `NT <*> SERVICE SID`): after another
/// value (`<*>: <id> TaskAttempt Transitioned` / `<*>: <id> Transitioned`,
/// loggers merged into a `<*>:`) the word names the event.
fn trailing(long: (&[u64], &[u8]), short: (&[u64], &[u8]), i: usize) -> bool {
    let (lk, lf) = long;
    let (sk, sf) = short;
    i > 1
        && i + 1 < lk.len()
        && lf[i - 2] & MASKED == 0
        && lf[i] & MASKED == 0
        && lf[i - 1] & WILD != 0
        && sf[i - 1] & WILD != 0
        && sf[i] & MASKED == 0
        && lk[i + 1] == sk[i]
}

/// The first position where `long` aligns with `short` ([`aligned`]). Only
/// positions between the end of the common prefix and the start of the
/// common suffix (shifted by one) can, so each pattern is read once from
/// both ends instead of once per position.
fn first_span(
    long: (&[u64], &[u8]),
    short: (&[u64], &[u8]),
    wild_long: bool,
    wild_short: bool,
) -> Option<usize> {
    let (lk, lf) = long;
    let (sk, sf) = short;
    let m = sk.len();
    if m == 0 || lk.len() != m + 1 {
        return None;
    }
    let eq = |l: usize, j: usize| {
        (wild_long && lf[l] & WILD != 0) || (wild_short && sf[j] & WILD != 0) || lk[l] == sk[j]
    };
    // Positions before the span compare directly, after it shifted by one.
    let prefix = (0..m).take_while(|&j| eq(j, j)).count();
    let mut suffix_from = m;
    while suffix_from > 0 && eq(suffix_from, suffix_from - 1) {
        suffix_from -= 1;
    }
    (suffix_from.saturating_sub(1)..=prefix.min(m - 1))
        .find(|&i| aligned(long, short, i, wild_long, wild_short).is_some())
}

impl Miner {
    /// The pattern a message that found none of its length belongs to when
    /// a variable spans one word more or less there (see the module
    /// documentation); the pattern is shortened when the message is, and
    /// then merges the patterns it covers, like any generalisation.
    ///
    /// Work per message: one look at the first position of each pattern
    /// one token shorter or longer (their [`Head`]s, stored flat), and a
    /// read from both ends of the few that pass; a message without a `<*>`
    /// costs nothing here.
    pub(super) fn align_span(&mut self, keys: &[u64], flags: &[u8]) -> Option<u32> {
        let n = keys.len();
        if n == 0 || flags.iter().all(|f| f & WILD == 0) {
            return None;
        }
        // The message is one token longer: a word and `<*>` where the
        // pattern has `<*>`. The pattern's first position must take the
        // message's (a span at 0 needs a `<*>` there, which takes it).
        if n >= 2
            && let Some(shorter) = self.by_len.get(&(n - 1))
        {
            let mut found: Option<(usize, u32)> = None;
            for &slot in shorter {
                let head = &self.heads[slot as usize];
                if head.flags[0] & WILD == 0 && head.keys[0] != keys[0] {
                    continue;
                }
                let p = self.pattern(slot);
                if let Some(i) = first_span((keys, flags), (&p.keys, &p.flags), false, true)
                    && found.is_none_or(|(best, _)| i < best)
                {
                    found = Some((i, slot));
                }
            }
            if let Some((_, slot)) = found {
                return Some(slot);
            }
        }
        // The message is one token shorter: the pattern's word and `<*>`
        // become one `<*>`. The pattern's first position must take the
        // message's, or the span start there (`<*>` in the message, the
        // pattern's second position `<*>`).
        let longer = self.by_len.get(&(n + 1))?;
        let mut found: Option<(usize, u32)> = None;
        for &slot in longer {
            let head = &self.heads[slot as usize];
            let first_equal = head.flags[0] & WILD != 0 || head.keys[0] == keys[0];
            if !first_equal && (flags[0] & WILD == 0 || head.flags[1] & WILD == 0) {
                continue;
            }
            let p = self.pattern(slot);
            if let Some(i) = first_span((&p.keys, &p.flags), (keys, flags), true, false)
                && found.is_none_or(|(best, _)| i < best)
            {
                found = Some((i, slot));
            }
        }
        let (i, slot) = found?;
        self.generation += 1;
        // The word at `i` goes: a `<*>` is next to it (after it, or before
        // it where it stood between a `<*>` and a value).
        let p = self.pattern_mut(slot);
        p.tokens.remove(i);
        p.flags.remove(i);
        p.keys.remove(i);
        let i = if p.flags[i.min(p.flags.len() - 1)] & WILD != 0 {
            i
        } else {
            i - 1
        };
        self.relength(slot, n + 1);
        // The shortened pattern is a generalisation: patterns of its new
        // length that it covers merge into it, and its siblings are counted.
        Some(self.generalise(slot, &[i]))
    }
}

impl Miner {
    /// After `slot` gained a `<*>`: a pattern one token longer that it now
    /// covers but for a span (a word or `<*>` followed by `<*>` facing its
    /// `<*>`) merges into it; when a pattern one token shorter covers it so,
    /// it merges into that one, which is returned. Two forms of one
    /// template (`chrome.exe - <*>` and `svchost.exe <*> - <*>`) each became
    /// a pattern before either had the `<*>` the span step needs; the
    /// generalisation that gives it aligns them, whichever comes last.
    pub(super) fn merge_spanned(&mut self, slot: u32) -> u32 {
        let n = self.pattern(slot).keys.len();
        let longer = self.by_len.get(&(n + 1)).cloned().unwrap_or_default();
        for other in longer {
            let (p, q) = (self.pattern(slot), self.pattern(other));
            if first_span((&q.keys, &q.flags), (&p.keys, &p.flags), false, true).is_some() {
                self.merge_into(other, slot);
            }
        }
        if n >= 2 {
            let shorter = self.by_len.get(&(n - 1)).cloned().unwrap_or_default();
            for other in shorter {
                let (p, q) = (self.pattern(slot), self.pattern(other));
                if first_span((&p.keys, &p.flags), (&q.keys, &q.flags), false, true).is_some() {
                    self.merge_into(slot, other);
                    return other;
                }
            }
        }
        slot
    }
}

#[cfg(test)]
mod tests {
    use crate::pattern::{Miner, MinerConfig};

    #[test]
    fn a_host_without_a_digit_joins_the_pattern_of_hosts_with_one() {
        for order in [["lb-2", "combo"], ["combo", "lb-2"]] {
            let mut m = Miner::new("svc", MinerConfig::default());
            let line = |host: &str, n: u32| {
                format!(
                    "Native VLAN mismatch discovered on Gi1/0/{n} ({n}), with {host} Gi0/{n} ({n})."
                )
            };
            let a = m.mine(&line(order[0], 3));
            let b = m.mine(&line(order[1], 4));
            assert_eq!(m.resolve(a.id), m.resolve(b.id), "{order:?}");
            assert_eq!(
                m.template(a.id).as_deref(),
                Some("Native VLAN mismatch discovered on <*> (<*>), with <*> (<*>).")
            );
        }
    }

    /// Session 28, round 39: a name whose first word holds a digit (`B2B
    /// Connector` -> `<*> Connector`) joins the pattern of names of one
    /// word, in either order; a word after a value that ends the message
    /// (`<*> ms`) does not.
    #[test]
    fn a_word_after_a_value_joins_the_pattern_of_the_value_alone() {
        let line = |user: &str, n: u32| {
            format!(
                "Authentication failed for user {user} from 10.0.0.{n}: invalid user name or password"
            )
        };
        for order in [
            ["SYSTEM", "B2B Connector", "DBADMIN", "B2B Connector"],
            ["B2B Connector", "SYSTEM", "DBADMIN", "B2B Connector"],
        ] {
            let mut m = Miner::new("svc", MinerConfig::default());
            let ids: Vec<_> = (0u32..)
                .zip(order)
                .map(|(n, u)| m.mine(&line(u, n)).id)
                .collect();
            for id in &ids {
                assert_eq!(m.resolve(*id), m.resolve(ids[3]), "{order:?}");
            }
            assert_eq!(
                m.template(ids[3]).as_deref(),
                Some("Authentication failed for user <*> from <*>: invalid user name or password")
            );
        }
        // After another value the word names the event (`<*>: <id>
        // TaskAttempt Transitioned` / `<*>: <id> Transitioned`).
        use crate::pattern::flags::{MASKED, WILD};
        let key = |t: &str| crate::pattern::hash_bytes(t.as_bytes());
        let wild = MASKED | WILD;
        let (user, noun) = (
            [key("user"), key("<*>"), key("Connector"), key("from")],
            [0, wild, 0, 0],
        );
        let short = ([key("user"), key("<*>"), key("from")], [0, wild, 0]);
        assert!(super::trailing((&user, &noun), (&short.0, &short.1), 2));
        let logger = [
            key("<*>:"),
            key("<*>"),
            key("TaskAttempt"),
            key("Transitioned"),
        ];
        let short = (
            [key("<*>:"), key("<*>"), key("Transitioned")],
            [MASKED, wild, 0],
        );
        assert!(!super::trailing(
            (&logger, &[MASKED, wild, 0, 0]),
            (&short.0, &short.1),
            2
        ));
        let mut m = Miner::new("svc", MinerConfig::default());
        let a = m.mine("request served in 12 ms");
        let b = m.mine("request served in 0x1f");
        assert_ne!(m.resolve(a.id), m.resolve(b.id));
    }

    /// Session 15: a host without a digit between an address and a masked
    /// value, in either order.
    #[test]
    fn a_host_between_an_address_and_a_value_is_part_of_the_value() {
        for order in [["web-01", "combo"], ["combo", "web-01"]] {
            let mut m = Miner::new("svc", MinerConfig::default());
            let line = |host: &str, n: u32| {
                format!("Accepted and connected to 10.0.0.{n} {host} <c0n{n}>")
            };
            let a = m.mine(&line(order[0], 3));
            let b = m.mine(&line(order[1], 4));
            assert_eq!(m.resolve(a.id), m.resolve(b.id), "{order:?}");
            assert_eq!(
                m.template(a.id).as_deref(),
                Some("Accepted and connected to <*> <<*>>")
            );
        }
    }

    #[test]
    fn a_shortened_pattern_merges_the_patterns_it_now_covers() {
        let mut m = Miner::new("svc", MinerConfig::default());
        let long = m.mine("session 42 with combo 10.0.0.1 ok");
        let covered = m.mine("session opened with bob ok");
        assert_ne!(m.resolve(long.id), m.resolve(covered.id));
        // One token shorter than `session <*> with combo <*> ok`: that
        // pattern becomes `session <*> with <*> ok`, which covers the other.
        let short = m.mine("session closed with 10.0.0.3 ok");
        assert_eq!(m.resolve(short.id), m.resolve(long.id));
        assert_eq!(m.resolve(covered.id), m.resolve(long.id));
        assert_eq!(
            m.template(long.id).as_deref(),
            Some("session <*> with <*> ok")
        );
    }

    #[test]
    fn two_forms_of_a_template_align_once_one_gains_the_span_variable() {
        // Either order: the one-word form and the name-and-number form each
        // start a pattern before a `<*>` stands where the span is.
        for long_first in [false, true] {
            let mut m = Miner::new("svc", MinerConfig::default());
            let short = |app: &str| format!("{app} - web-1:443 IPv6 connection rejected by proxy");
            let long =
                |app: &str| format!("{app} *64 - web-1:443 IPv6 connection rejected by proxy");
            let mut ids = Vec::new();
            if long_first {
                ids.push(m.mine(&long("svchost.exe")).id);
                ids.push(m.mine(&short("chrome.exe")).id);
                ids.push(m.mine(&long("spotify.exe")).id);
                ids.push(m.mine(&short("msedge.exe")).id);
            } else {
                ids.push(m.mine(&short("chrome.exe")).id);
                ids.push(m.mine(&long("svchost.exe")).id);
                ids.push(m.mine(&short("msedge.exe")).id);
                ids.push(m.mine(&long("spotify.exe")).id);
            }
            let first = m.resolve(ids[0]);
            for id in &ids {
                assert_eq!(m.resolve(*id), first, "long first: {long_first}");
            }
            assert_eq!(
                m.template(ids[0]).as_deref(),
                Some("<*> - <*> IPv6 connection rejected by proxy")
            );
        }
    }

    #[test]
    fn short_messages_need_three_constants_around() {
        let mut m = Miner::new("svc", MinerConfig::default());
        let a = m.mine("Removed /tmp/a.lock now");
        let b = m.mine("Removed slot 7 now");
        assert_ne!(m.resolve(a.id), m.resolve(b.id));
    }
}
