//! A line that a known pattern takes by several steps at once (session
//! 27, round 36).
//!
//! The run step lines a message up with a pattern where one run of words
//! faces one `<*>`, the span step where one word more stands before or
//! after a `<*>`. A line that needs two of them at once (two runs, or a
//! span and a run: `Close connection to <*> combo <<*>> (No route to
//! host)` facing `Close connection to <*> <<*>> <*>`) found no pattern,
//! started its own, and was merged into the known one later, when a line
//! needing one step only came by. In a stream that repeats itself that
//! happened again on every pass: a new pattern, a new stored id, merged
//! away again (round 33 counted about 270 a pass on the bench's corpus).
//! Before a message starts a pattern, a known pattern of fewer tokens
//! whose every `<*>` takes one word, a span (a word and a `<*>`, or a
//! word between a `<*>` and a masked value, as [`super::super::span`]
//! reads them) or a run the run step would take there (the other runs
//! read as one `<*>`, [`take_at`]) takes it: the pattern it would have
//! ended in. Looked for only when a message would start a pattern.

use super::super::flags::{KEYED, MASKED, WILD};
use super::super::{Miner, Pattern};
use super::{MAX_RUN, Near, take_at};

/// The runs of the message each `<*>` of `p` takes, `(j, a, end)`: `p`'s
/// token `j` faces the message's tokens `a..end`; every other token of `p`
/// equals the message's. Shortest runs first; `None` when `p` does not
/// line up so.
fn runs_of(p: &Pattern, keys: &[u64]) -> Option<Vec<(usize, usize, usize)>> {
    fn go(
        p: &Pattern,
        keys: &[u64],
        j: usize,
        i: usize,
        runs: &mut Vec<(usize, usize, usize)>,
        budget: &mut usize,
    ) -> bool {
        let (m, n) = (p.keys.len(), keys.len());
        if *budget == 0 {
            return false;
        }
        *budget -= 1;
        if j == m {
            return i == n;
        }
        if i >= n || n - i < m - j {
            return false;
        }
        if !p.is_wild(j) {
            return p.keys[j] == keys[i] && go(p, keys, j + 1, i + 1, runs, budget);
        }
        // A `<*>` opening the pattern takes one token (the run step's
        // runs follow a word).
        let most = if j == 0 { 1 } else { MAX_RUN };
        for k in 1..=most.min(n - i - (m - j - 1)) {
            runs.push((j, i, i + k));
            if go(p, keys, j + 1, i + k, runs, budget) {
                return true;
            }
            runs.pop();
        }
        false
    }
    let mut runs = Vec::new();
    let mut budget = 4096;
    go(p, keys, 0, 0, &mut runs, &mut budget).then_some(runs)
}

/// Whether the two tokens from `a` are a span ([`super::super::span`]): a
/// word (or `<*>`) then a `<*>`, or a `<*>` then a word before a masked
/// value, or (session 28, round 39) before a plain word, `<*> Connector
/// connected`.
fn span_at(flags: &[u8], a: usize) -> bool {
    let forward = (flags[a] & MASKED == 0 || flags[a] & WILD != 0) && flags[a + 1] & WILD != 0;
    let between = flags[a] & WILD != 0
        && flags[a + 1] & MASKED == 0
        && flags
            .get(a + 2)
            .is_some_and(|&f| f & MASKED != 0 && f & KEYED == 0);
    let trailing = a > 0
        && flags[a - 1] & MASKED == 0
        && flags[a] & WILD != 0
        && flags[a + 1] & MASKED == 0
        && flags.get(a + 2).is_some_and(|&f| f & MASKED == 0);
    forward || between || trailing
}

impl Miner {
    /// The known pattern of fewer tokens that takes a message needing
    /// several runs or spans at once (see the module documentation), the
    /// one with the most constant tokens (then the oldest).
    pub(in crate::pattern) fn known_taker(
        &self,
        tokens: &[&str],
        keys: &[u64],
        flags: &[u8],
    ) -> Option<u32> {
        let n = keys.len();
        if n < 4 {
            return None;
        }
        let mut best: Option<(usize, u64, u32)> = None;
        for m in 3..n {
            let Some(list) = self.by_len.get(&m) else {
                continue;
            };
            for &slot in list {
                let head = &self.heads[slot as usize];
                if head.flags[0] & WILD == 0 && head.keys[0] != keys[0] {
                    continue;
                }
                let p = self.pattern(slot);
                let constants = (0..m).filter(|&j| !p.is_wild(j)).count();
                if constants < super::MIN_CONSTANTS
                    || best.is_some_and(|(c, _, _)| c > constants)
                    || !self.takes_all(p, slot, keys, flags, tokens)
                {
                    continue;
                }
                let key = (constants, u64::MAX - p.first_seq, slot);
                if best.is_none_or(|b| key > b) {
                    best = Some(key);
                }
            }
        }
        best.map(|(_, _, slot)| slot)
    }

    /// Whether every `<*>` of `p` takes its part of the message: one
    /// token, a span, or a run [`take_at`] takes with the other runs read
    /// as one `<*>`; at least two parts longer than one token (one alone
    /// is the span or run step's).
    fn takes_all(
        &self,
        p: &Pattern,
        slot: u32,
        keys: &[u64],
        flags: &[u8],
        tokens: &[&str],
    ) -> bool {
        let Some(runs) = runs_of(p, keys) else {
            return false;
        };
        let long: Vec<&(usize, usize, usize)> = runs.iter().filter(|r| r.2 - r.1 > 1).collect();
        if long.len() < 2 {
            return false;
        }
        long.iter().all(|&&(j, a, end)| {
            if end - a == 2 && span_at(flags, a) {
                return true;
            }
            // The message with every other long part one `<*>`.
            let mut t: Vec<&str> = Vec::with_capacity(keys.len());
            let mut f: Vec<u8> = Vec::with_capacity(keys.len());
            let mut i = 0;
            while i < keys.len() {
                match long.iter().find(|r| r.1 == i && r.1 != a) {
                    Some(r) => {
                        t.push(super::WILDCARD);
                        f.push(MASKED | WILD);
                        i = r.2;
                    }
                    None => {
                        t.push(tokens[i]);
                        f.push(flags[i]);
                        i += 1;
                    }
                }
            }
            let m = p.keys.len();
            let at = Near {
                slot,
                len: m,
                prefix: j,
                suffix: m - 1 - j,
            };
            take_at(p, &at, &t, &f).is_some()
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::pattern::{Miner, MinerConfig};

    /// Hosts with a digit (masked with the address before them) and
    /// without, and reasons of several words: a line with a host word and
    /// a reason needs a span and a run at once.
    fn lines() -> Vec<String> {
        let hosts = [
            "web-01",
            "combo",
            "lb-2",
            "gateway",
            "db-master",
            "node-114",
        ];
        let reasons = [
            "(No route to host)",
            "(Node is going down)",
            "(Connection reset by peer)",
            "(Remote end closed)",
        ];
        let mut out = Vec::new();
        for n in 0..24 {
            out.push(format!(
                "Close connection to 10.0.{n}.7 {} <c0n{n}> {}",
                hosts[n % hosts.len()],
                reasons[(n / 2) % reasons.len()]
            ));
        }
        out
    }

    /// Session 28, round 39: a name whose first word holds a digit (a
    /// span of a `<*>` and a word) and an application's name of several
    /// words (a run) at once go to the known pattern.
    #[test]
    fn a_span_after_a_value_and_a_run_at_once_go_to_the_known_pattern() {
        let mut m = Miner::new("svc", MinerConfig::default());
        let users = ["SYSTEM", "DBADMIN", "SAPHANADB", "BW_EXTRACT"];
        let apps = ["HDBStudio", "DBACockpit", "python-hdbcli", "ABAP:PRD"];
        let known = m.mine("User SYSTEM connected from 10.0.0.1:4000, application HDBStudio");
        for (n, u) in users.iter().enumerate() {
            m.mine(&format!(
                "User {u} connected from 10.0.0.{n}:4{n}00, application HDBStudio"
            ));
        }
        for (n, a) in apps.iter().enumerate() {
            m.mine(&format!(
                "User SYSTEM connected from 10.0.0.{n}:4{n}00, application {a}"
            ));
        }
        assert_eq!(
            m.template(known.id).as_deref(),
            Some("User <*> connected from <*>, application <*>")
        );
        let both = m.mine(
            "User B2B Connector connected from 10.0.0.9:4900, application SAP Analytics Cloud",
        );
        assert_eq!(m.resolve(both.id), m.resolve(known.id));
    }

    #[test]
    fn mining_the_same_lines_again_creates_no_pattern() {
        let mut m = Miner::new("svc", MinerConfig::default());
        let lines = lines();
        for line in &lines {
            m.mine(line);
        }
        let created = m.stats().created;
        let ids: Vec<_> = lines.iter().map(|l| m.mine(l).id).collect();
        assert_eq!(m.stats().created, created, "{:?}", m.patterns());
        // And the second pass's ids are the first pass's patterns.
        let again: Vec<_> = lines.iter().map(|l| m.mine(l).id).collect();
        assert_eq!(ids, again);
    }
}
