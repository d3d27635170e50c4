//! A failure's reason code (session 28, round 40).
//!
//! After a failure's label a program may print why as a code of
//! lower-case words joined by `-` instead of prose (`was not accepted:
//! txn-mempool-conflict`, `rejected: bad-txns-inputs-missingorspent`,
//! `failed: connection-reset`). The code is the reason, one event per
//! reason as a reason in prose is (`reasons.rs`); its inner `-` made it a
//! name, and two names merge at once. Here a code that ends the message
//! right after a lower-case label that ends a failure's phrase is no
//! name that merges at once (it still becomes a variable by siblings).

use super::flags::{MASKED, NAME, STATE};
use super::reasons::failure_before;

/// Tokens read back from the label for a word of failure.
const PHRASE: usize = 12;

/// Clears [`NAME`] of a reason code that ends the message after a
/// failure's label (see the module documentation).
pub(super) fn mark_reason_code<T: AsRef<str>>(tokens: &[T], flags: &mut [u8]) {
    let n = tokens.len();
    if n < 3 || flags[n - 1] & !STATE != NAME || !is_code(tokens[n - 1].as_ref()) {
        return;
    }
    let label = tokens[n - 2].as_ref();
    let Some(word) = label.strip_suffix(':') else {
        return;
    };
    if flags[n - 2] & MASKED != 0
        || word.is_empty()
        || !word.bytes().all(|b| b.is_ascii_lowercase())
    {
        return;
    }
    if negated(tokens, n - 2)
        || failure_before(&tokens[n - 2..n - 1], false)
        || failure_before(&tokens[n.saturating_sub(PHRASE + 2)..n - 2], true)
    {
        flags[n - 1] = 0;
    }
}

/// Whether the label at `i` is a participle after `not` (`was not
/// accepted:`): a refusal, told as `rejected:` is.
pub(super) fn negated<T: AsRef<str>>(tokens: &[T], i: usize) -> bool {
    i >= 1
        && tokens[i - 1].as_ref() == "not"
        && tokens[i]
            .as_ref()
            .strip_suffix("ed:")
            .is_some_and(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
}

/// Lower-case words of letters joined by single `-` (two or more words),
/// a `.` after it aside.
pub(super) fn is_code(token: &str) -> bool {
    let t = token.strip_suffix('.').unwrap_or(token);
    t.contains('-')
        && t.split('-')
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
}

/// Whether `last`, the word that closes a quoted string of `taken` words
/// after its first, is an error's code in brackets (`(0xc000006d)'`,
/// `(111)".`): the quoted string is an error's text and its code
/// (`output 'Logon failure (0xc000006d)'`, ntlm_auth's; `'Access is
/// denied. (0x80070005)'`), one event per text as an errno text is, so
/// the masking keeps its words and masks the code alone. A string of one
/// word before the code stays one value.
pub(super) fn coded_text(last: &str, taken: usize) -> bool {
    let code = last.trim_end_matches([',', ';', ':', '.', ')', ']', '}', '"', '\'']);
    let Some(code) = code.strip_prefix('(') else {
        return false;
    };
    let digits = code
        .strip_prefix("0x")
        .map_or((code, false), |hex| (hex, true));
    taken >= 2
        && last.contains(')')
        && !digits.0.is_empty()
        && digits
            .0
            .bytes()
            .all(|b| b.is_ascii_digit() || (digits.1 && matches!(b, b'a'..=b'f' | b'A'..=b'F')))
}

#[cfg(test)]
mod tests {
    use crate::pattern::{Miner, MinerConfig};

    /// Each reason code after a failure's label is a template of its own;
    /// names after a label that tells no failure still merge at once.
    #[test]
    fn a_reason_code_after_a_failure_is_constant() {
        let templates = |line: fn(&str) -> String, values: &[&str]| {
            let mut m = Miner::new("svc", MinerConfig::default());
            let ids: Vec<_> = values.iter().map(|v| m.mine(&line(v)).id).collect();
            ids.iter()
                .map(|id| m.template(*id))
                .collect::<std::collections::BTreeSet<_>>()
                .len()
        };
        let codes = ["txn-mempool-conflict", "bad-txns-inputs-missingorspent"];
        for line in [
            (|v: &str| format!("[mempool] 4f2a from peer=7 was not accepted: {v}"))
                as fn(&str) -> String,
            |v: &str| format!("relay of tx 4f2a failed: {v}"),
            |v: &str| format!("block 12 was rejected by peer: {v}"),
        ] {
            assert_eq!(templates(line, &codes), 2, "{}", line("<*>"));
        }
        assert_eq!(
            templates(|v| format!("unit started by peer 7: {v}"), &codes),
            1
        );
        // Nor do they make three runs after the label with another
        // reason (the run step's, `reasons.rs`).
        let three = [
            "txn-mempool-conflict",
            "bad-txns-inputs-missingorspent",
            "mempool min fee not met, 120 < 300",
        ];
        assert_eq!(
            templates(
                |v| format!("[mempool] 4f2a from peer=7 was not accepted: {v}"),
                &three
            ),
            3
        );
    }
}
