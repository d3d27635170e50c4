//! A failure's reason in prose (session 24).
//!
//! After a failure (`establishing connection failed:`, `failed to receive
//! fax:`, `Unable to register:`, `lost connection:`) a program prints why,
//! in words: an errno text (`Connection refused`, `No such file or
//! directory`), a library's or a peer's reason (`Far end cannot receive at
//! the resolution of the image`, `no records found`, of either case).
//! Each reason is an event of its own, and
//! labellers hold one template per reason (the corpus convention: an errno
//! text, an exception's text, a reason in prose is constant; a keyed value,
//! `reason:`, `error:`, `status=`, stays a value). The run step
//! (`runs.rs`) took such a reason as a label's value on three runs (and a
//! lower-case one of two or three words as a bare `<*>`'s); here a run is
//! known as such a reason, which is no value. A failure whose error has a
//! field of its own after the run (`Operation failed: Add boot menu
//! entries. Error: 0x...`) names what failed there: a value.

use super::flags::{KEYED, MASKED};
use super::runs::field_name;

/// Tokens read back from the label for a word of failure.
const PHRASE: usize = 12;

/// Whether the run from `a` to `end` is a failure's reason in prose: the
/// token before it is a plain lower-case word ending in `:` that names no
/// field (`failed:`, `fax:`, not `reason:`), a word of failure stands in
/// the phrase that ends with it (`connection failed:`, `failed to receive
/// fax:`, `Unable to register:`), and the run reads as prose
/// ([`prose`]: `Connection refused`, `No such file or directory`; not a
/// name, `Apply Setup Plugins`), with no field of the error after it; or
/// the run is prose in brackets that ends the message, a word of failure
/// in the phrase before it (`failed to connect to node <*> (timed
/// out)`), or prose after a masked label that a word of failure opens
/// (`Failed to parse <*>: No certificates at entry`).
pub(super) fn failure_reason<T: AsRef<str>>(
    tokens: &[T],
    flags: &[u8],
    a: usize,
    end: usize,
) -> bool {
    if a < 2 {
        return false;
    }
    // A reason in brackets that ends the message, after a failure told
    // with any value (`failed to connect to node <*> (timed out)`, `Cannot
    // connect to host <*> ssl:default [Name or service not known]`).
    let run = &tokens[a..end];
    let framed = end == tokens.len()
        && run[0].as_ref().starts_with(['(', '['])
        && run[run.len() - 1].as_ref().ends_with([')', ']']);
    if framed {
        let failed = failure_before(&tokens[a.saturating_sub(PHRASE)..a], true);
        return failed && prose(run, &flags[a..end]);
    }
    if flags[a - 1] & MASKED != 0 {
        // A masked label after a failure (`Failed to move <*> through
        // <*>: Connection reset by peer`).
        let failed = tokens[a - 1].as_ref().ends_with(':')
            && flags[a - 1] & KEYED == 0
            && failure_before(&tokens[a.saturating_sub(PHRASE + 1)..a - 1], true);
        return failed && prose(run, &flags[a..end]);
    }
    // A bare ` - ` before the words that end the message labels them as
    // a `:` does (`failed for '<*>' (callid: <*>) - No matching endpoint
    // found`, session 18); its phrase may hold a field of its own.
    let dash = tokens[a - 1].as_ref() == "-";
    let label = if dash {
        ""
    } else {
        let Some(label) = tokens[a - 1].as_ref().strip_suffix(':') else {
            return false;
        };
        // A kind of error (`Configuration error:`, `connection error:`)
        // prints the error's text, as an exception's class does; a bare
        // `error:` keys a field.
        let kind_of_error = label == "error"
            && flags[a - 2] & MASKED == 0
            && tokens[a - 2]
                .as_ref()
                .bytes()
                .all(|b| b.is_ascii_alphabetic());
        if label.len() < 2
            || !label.bytes().all(|b| b.is_ascii_lowercase())
            || (field_name(label) && !kind_of_error)
        {
            return false;
        }
        label
    };
    // The phrase the label ends: back to the token before it that ends
    // in `:` (`FAX handle <*>: failed to receive fax:`).
    // `because:` says why by itself (`closing because: client close
    // request (age=<*>s)`): what follows is the event's reason, as after
    // a failure (session 28, round 39).
    let failed = failure_word(label)
        || label == "error"
        || super::codes::negated(tokens, a - 1)
        || label == "because"
        || failure_before(&tokens[a.saturating_sub(PHRASE)..a - 1], !dash);
    // A field of the error after the run (`Operation failed: Add boot
    // menu entries. Error: 0x80070005`) holds the reason: the run names
    // what failed, a value.
    let error_after = tokens.get(end).is_some_and(|t| {
        let key = t.as_ref().trim_end_matches([':', '=']);
        key.len() < t.as_ref().len() && field_name(&key.to_ascii_lowercase())
    });
    // A reason code that ends the message (`codes.rs`) is a reason too.
    let code = end - a == 1 && end == tokens.len() && super::codes::is_code(tokens[a].as_ref());
    failed && !error_after && (code || prose(&tokens[a..end], &flags[a..end]))
}

/// Whether a word of failure ends `phrase` before any field's name does,
/// read back from its end (and, `to_colon`, not past a token ending in
/// `:`): the nearest of the two tells what the words after the phrase
/// are. A field's name keys them as its value (`Unable to create
/// channel (cause <*> - User busy)`, `the error message for <*> through
/// socket <*>: Broken pipe`); a failure is told with its reason
/// (`Failed to move <*> ... through <*>: Connection reset by peer`).
pub(super) fn failure_before<T: AsRef<str>>(phrase: &[T], to_colon: bool) -> bool {
    for t in phrase.iter().rev() {
        let t = t.as_ref();
        if failure_word(t) {
            return true;
        }
        let word = t
            .trim_start_matches(['(', '[', '"', '\''])
            .trim_end_matches([':', ',', ';'])
            .to_ascii_lowercase();
        if field_name(&word) || (to_colon && t.ends_with(':')) {
            return false;
        }
    }
    false
}

/// A word that tells a failure or a refusal, after which a program says
/// why: `failed`, `unable`, `cannot`, `lost`, `aborted`, `deferred`,
/// `denied`, `unavailable`, and the `-ing` forms (`deferring
/// operation:`) ... (any case, a `,` or `:` after it aside).
fn failure_word(token: &str) -> bool {
    let w = token.trim_end_matches([',', ':']).to_ascii_lowercase();
    matches!(
        w.as_str(),
        "failed"
            | "failure"
            | "unable"
            | "cannot"
            | "can't"
            | "couldn't"
            | "lost"
            | "aborted"
            | "deferred"
            | "denied"
            | "refused"
            | "rejected"
            | "unavailable"
            | "unreachable"
            | "failing"
            | "aborting"
            | "deferring"
            | "refusing"
            | "rejecting"
    )
}

/// Whether a run reads as prose: two plain words or more, at least half
/// of those after the first opening lower-case (`Connection refused`,
/// `Zero Bytes were transmitted or received`, `no records found`), where
/// a name opens most of its words with a capital (`Apply Setup Plugins`,
/// `Hallway Motion at Night`). Masked values may stand inside (`Table
/// '<*>' is full`), not first.
fn prose<T: AsRef<str>>(run: &[T], flags: &[u8]) -> bool {
    if run.len() < 2 || flags[0] & MASKED != 0 {
        return false;
    }
    let mut lower = 0;
    let mut words = 0;
    for (k, (t, &f)) in run.iter().zip(flags).enumerate() {
        if f & MASKED != 0 || (k > 0 && k + 1 == run.len() && code_in_brackets(t.as_ref())) {
            continue;
        }
        let w = t
            .as_ref()
            .trim_start_matches(['(', '[', '\'', '"'])
            .trim_end_matches([')', ']', ',', '.', ';', '!', '?', '\'', '"']);
        let Some(&first) = w.as_bytes().first() else {
            return false;
        };
        if !w
            .bytes()
            .all(|b| b.is_ascii_alphabetic() || b == b'\'' || b == b'-')
        {
            return false;
        }
        if k == 0 {
            continue;
        }
        words += 1;
        if first.is_ascii_lowercase() {
            lower += 1;
        }
    }
    lower > 0 && 2 * lower >= words
}

/// A code name in round brackets, lower-case words joined by `_`
/// (`(server_login_retry)`, `(max_client_conn)`): the reason's code that
/// a program prints after its text. It ends prose as a masked value may
/// stand in it (session 28, round 39).
fn code_in_brackets(token: &str) -> bool {
    token
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .is_some_and(|code| {
            code.contains('_')
                && code.as_bytes()[0].is_ascii_lowercase()
                && code
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern::flags::tokens_flags;
    use crate::pattern::{Miner, MinerConfig};

    fn reason(message: &str, a: usize) -> bool {
        let tokens: Vec<&str> = message.split_whitespace().collect();
        let flags = tokens_flags(&tokens);
        failure_reason(&tokens, &flags, a, tokens.len())
    }

    /// Each reason of a failure is a template of its own, in the middle of
    /// the message and at its end; a name after a failure, or a reason
    /// after a field's name, stays a value.
    #[test]
    fn a_failures_reason_in_prose_is_constant() {
        let reasons = [
            "Connection refused",
            "Resource temporarily unavailable",
            "No such file or directory",
            "Connection timed out",
        ];
        for line in [
            |v: &str| {
                format!(
                    "(gw_backend.c.315) establishing connection failed: {v} socket: unix:/run/php.sock"
                )
            },
            |v: &str| format!("res_fax.c: FAX handle 12: failed to receive fax: {v}"),
            |v: &str| {
                format!(
                    "getaddrinfo for www.example.org failed: {}",
                    v.to_lowercase()
                )
            },
            |v: &str| format!("Request 'INVITE' failed for '10.0.0.9:5060' (callid: 7f8a5e) - {v}"),
            |v: &str| format!("CCR: failed to connect to node 10.0.0.7:1191 ({v})"),
        ] {
            let mut m = Miner::new("svc", MinerConfig::default());
            let ids: Vec<_> = reasons.iter().map(|r| m.mine(&line(r)).id).collect();
            let templates: std::collections::BTreeSet<_> =
                ids.iter().map(|id| m.template(*id)).collect();
            assert_eq!(templates.len(), reasons.len(), "{}", line("<*>"));
        }
        for (line, values) in [
            (
                (|v: &str| format!("SP Operation failed: {v} on volume C")) as fn(&str) -> String,
                [
                    "Apply Setup Plugins",
                    "Create Boot Configuration",
                    "Set Windows RE image",
                ],
            ),
            (
                |v: &str| format!("request to backend failed with reason: {v}"),
                [
                    "Connection refused",
                    "Connection timed out",
                    "No route to host",
                ],
            ),
        ] {
            let mut m = Miner::new("svc", MinerConfig::default());
            let ids: Vec<_> = values.iter().map(|v| m.mine(&line(v)).id).collect();
            for id in &ids {
                assert_eq!(m.resolve(*id), m.resolve(ids[0]), "{}", line("<*>"));
            }
        }
    }

    /// `because:` announces a reason as a failure does: each reason is a
    /// template of its own, with a field after it too (session 28, round
    /// 39).
    #[test]
    fn a_reason_after_because_is_constant() {
        let reasons = [
            "client close request",
            "client unexpected eof",
            "server idle timeout",
            "server lifetime over",
            "database configuration changed",
        ];
        let mut m = Miner::new("svc", MinerConfig::default());
        let ids: Vec<_> = reasons
            .iter()
            .enumerate()
            .map(|(k, r)| {
                m.mine(&format!(
                    "LOG C-0x{k}a7f: appdb/app@10.0.0.{k}:5{k}12 closing because: {r} (age={k}0s)"
                ))
                .id
            })
            .collect();
        let templates: std::collections::BTreeSet<_> =
            ids.iter().map(|id| m.template(*id)).collect();
        assert_eq!(templates.len(), reasons.len(), "{templates:?}");
        assert!(reason("closing because: server lifetime over (age=<*>)", 2));
        // A code in brackets may end the reason.
        let tokens: Vec<&str> =
            "closing because: login has been failing, try again later (server_login_retry) (age=<*>)"
                .split_whitespace()
                .collect();
        let flags = tokens_flags(&tokens);
        assert!(failure_reason(&tokens, &flags, 2, tokens.len() - 1));
    }

    #[test]
    fn a_reason_in_prose_after_a_failure() {
        assert!(reason(
            "establishing connection failed: Connection refused",
            3
        ));
        assert!(reason(
            "FAX handle <*>: failed to receive fax: Timed out waiting",
            7
        ));
        assert!(reason(
            "error: Unable to register: Zero Bytes were transmitted",
            4
        ));
        // A name, a field's value, no failure, a label at the start.
        assert!(!reason("backend failed: Apply Setup Plugins", 2));
        assert!(!reason("request failed with reason: Connection refused", 4));
        assert!(!reason(
            "Operation completed successfully: Add boot menu",
            3
        ));
        assert!(!reason("failed: Connection refused", 1));
        // After a masked label, with a failure before it or not.
        assert!(reason("Failed to parse <*>: No certificates at entry", 4));
        assert!(!reason(
            "Received disconnect from <*> port <*>: Session closed",
            6
        ));
        // The nearer of a failure and a field's name tells.
        assert!(!reason(
            "Unable to create channel of type '<*>' (cause <*> - User busy)",
            10
        ));
        assert!(reason(
            "Failed to move <*> with size=<*> from <*> to <*> through <*>: Read timed out",
            12
        ));
        // A kind of error prints its text; a bare `error:` keys a field.
        assert!(reason("<*>: Configuration error: Invalid node address", 3));
        assert!(!reason("<*>: error: Invalid node address", 2));
        assert!(reason(
            "Cannot connect to host <*> ssl:default [Name or service not known]",
            6
        ));
        assert!(!reason(
            "Error reading client_fd <*> (Connection reset by peer)",
            4
        ));
        assert!(reason(
            "Registration from '<*>' failed for '<*>' - Wrong password",
            7
        ));
        assert!(!reason(
            "updated activity <*> - completed <*> - Media download by alice",
            7
        ));
        let tokens = [
            "Operation",
            "failed:",
            "Add",
            "boot",
            "menu",
            "entries.",
            "Error:",
            "<*>",
        ];
        assert!(!failure_reason(&tokens, &tokens_flags(&tokens), 2, 6));
    }
}
