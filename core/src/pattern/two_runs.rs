//! Two values of several words in one message (session 24, round 22).
//!
//! A record may hold two fields whose values are names or titles of any
//! word count: an update's caller and its title (`0 Automatic Updates
//! Success ... the following update: Windows Malicious Software Removal
//! Tool x64 - v5.1`). A pattern that has a `<*>` at both fields (`<*> <*>
//! Success ... update: <*>`) takes a message with a run of words at each
//! only when one of the runs is a single word ([`super::take_at`] lines up
//! one run, a `<*>` facing one token elsewhere), so every caller of two
//! or three words kept a pattern of its own per shape of the title. Here
//! such a pattern takes a message whose runs at two of its `<*>`s are both
//! values by the run step's tests (each as [`super::opens_value`] and
//! [`super::runs_needed`] judge a single run), everything else equal.
//! Such a caller is a value on three runs, as names of two word counts
//! after a lower-case word are (session 23, round 21), when it stands right
//! after a masked value that is no `key=` field's ([`after_value`]: `0
//! Automatic Updates Success` / `0 Windows Defender Antivirus Success` /
//! `0 Microsoft Store Success`); before, it needed four. A run holds up to
//! [`MAX_RUN`] tokens, 20 since this round: an update's title is 18; and
//! a slot of names of two word counts takes names of up to four tokens
//! ([`super::SHORT_RUN`], three before: `Integrated Remote Access
//! Controller` / `PERC <*> Mini`), also where they end the message right
//! after a lower-case word (`messages from Trash` / `from Deleted Items` /
//! `from Junk`; four runs before); and a run that ends at a bare `|` (a
//! record's field, session 17) is a value of any case, upper-case words
//! included (`Interrupt PCI PERR | Bus Correctable error | Asserted`: the
//! sensor's name; the event is the next field). A run that ends the
//! message after a capitalised label is a value on three runs when the
//! label ends a list of labelled fields ([`listed_label`]: `Sleep Time: <*>
//! Wake Time: <*> Wake Source: Power Button`) or follows a sentence (`The
//! system is entering sleep.  Sleep Reason: Button or Lid`); before, a
//! capitalised label always named the event (`Hardware Error: Corrected
//! error`). Runs
//! framed by brackets that close alike (`(Safari <*>)` / `(macOS Sonoma
//! <*>)`: both end in `<*>)`) keep their closing bracket when lined up
//! ([`closing_frame`]), so each is framed whole, a value after a masked
//! value; before, the shared `<*>)` was cut off and the runs were no values.

use super::super::flags::{KEYED, MASKED};
use super::{MAX_RUN, Near, Pattern, field_after_value, opens_value, runs_needed, takes_run};

/// Whether pattern `p`, at least two tokens shorter than the message, has
/// two `<*>`s where the message has two runs of two or more tokens that may
/// each be a value, everything else equal; returns the constant words
/// around them.
pub(super) fn take_two<T: AsRef<str>>(
    p: &Pattern,
    c: &Near,
    tokens: &[T],
    flags: &[u8],
) -> Option<usize> {
    let (n, m) = (tokens.len(), c.len);
    if n < m + 2 || m < 2 {
        return None;
    }
    // The two runs hold `extra + 2` tokens between them.
    let extra = n - m;
    let may_take = |j: usize| p.is_wild(j) || p.tokens[j].contains(super::WILDCARD);
    let mut best = None;
    // The first `<*>` at `w1` (everything before it equal), the second at
    // `w2` (everything after it equal).
    for w1 in (1..=c.prefix.min(m - 1)).filter(|&w| may_take(w)) {
        for w2 in (w1 + 1).max(m - 1 - c.suffix.min(m - 1))..m {
            if !may_take(w2) {
                continue;
            }
            let after = m - 1 - w2;
            for l1 in 2..=extra.min(MAX_RUN) {
                let l2 = extra + 2 - l1;
                if !(2..=MAX_RUN).contains(&l2) {
                    continue;
                }
                let e1 = w1 + l1;
                let s2 = e1 + (w2 - w1 - 1);
                let e2 = s2 + l2;
                // The pattern's tokens between its two `<*>`s stand between
                // the runs.
                if (w1 + 1..w2)
                    .any(|j| !p.is_wild(j) && *p.tokens[j] != *tokens[j + l1 - 1].as_ref())
                {
                    continue;
                }
                let text = |i: usize| tokens[i].as_ref();
                if !takes_run(&p.tokens[w1], p.flags[w1], text(w1), text(e1 - 1))
                    || !takes_run(&p.tokens[w2], p.flags[w2], text(s2), text(e2 - 1))
                {
                    continue;
                }
                // The second run may follow a value where the pattern has
                // a `<*>` of its own before its own (a record's fields).
                let field2 = p.is_wild(w2)
                    && p.is_wild(w2 - 1)
                    && flags[s2 - 1] & MASKED != 0
                    && flags[s2 - 1] & KEYED == 0;
                if !opens_value(tokens, flags, w1, e1, field_after_value(p, w1, flags))
                    || !opens_value(tokens, flags, s2, e2, field2)
                {
                    continue;
                }
                // A pattern's `<*>` (or a run) faces message position `i`.
                let wild = |i: usize| {
                    if i < w1 {
                        p.is_wild(i)
                    } else if i < e1 || (s2..e2).contains(&i) {
                        true
                    } else if i < s2 {
                        p.is_wild(i + 1 - l1)
                    } else {
                        p.is_wild(m + i - n)
                    }
                };
                let (Some((_, first)), Some((_, second))) = (
                    runs_needed(tokens, flags, w1, n - e1, false, wild),
                    runs_needed(tokens, flags, s2, after, false, wild),
                ) else {
                    continue;
                };
                best = best.max(Some(first.min(second)));
            }
        }
    }
    best
}

/// Whether the run at `a` stands right after a masked value that is no
/// `key=` field's (`0 Automatic Updates Success`: a record's fields).
pub(super) fn after_value(flags: &[u8], a: usize) -> bool {
    flags[a - 1] & MASKED != 0 && flags[a - 1] & KEYED == 0
}

/// Whether the token before `a` is a capitalised label (`Source:`) in a
/// list of labelled fields, an earlier label followed by a masked value
/// (`Sleep Time: <*> Wake Time: <*> Wake Source: Power Button`), or after
/// a sentence (`The system is entering sleep.  Sleep Reason: Idle
/// Timeout`): the run that ends the message after it is that field's
/// value, as after a lower-case label ([`super::end_label`]); a capitalised
/// label that opens the text names the event (`Hardware Error: Corrected
/// error`).
pub(super) fn listed_label<T: AsRef<str>>(tokens: &[T], flags: &[u8], a: usize) -> bool {
    let Some(name) = tokens[a - 1].as_ref().strip_suffix(':') else {
        return false;
    };
    let title = name.as_bytes().first().is_some_and(u8::is_ascii_uppercase)
        && name.bytes().all(|b| b.is_ascii_alphabetic());
    // A sentence ends right before the label, or before its first word.
    let sentence = |i: usize| {
        let t = tokens[i].as_ref();
        t.ends_with('.') && !t.ends_with("..") && flags[i] & MASKED == 0
    };
    title
        && flags[a - 1] & MASKED == 0
        && ((1..a - 1).any(|i| {
            tokens[i - 1].as_ref().ends_with(':')
                && flags[i - 1] & MASKED == 0
                && flags[i] & MASKED != 0
                && flags[i] & KEYED == 0
        }) || (a >= 2 && sentence(a - 2))
            || (a >= 3 && super::capitalised(tokens[a - 2].as_ref()) && sentence(a - 3)))
}

/// The equal tokens after the run from `a` that ends `b` tokens before the
/// end of the message, one fewer when the first of them closes a bracket
/// the run opens (`(macOS Ventura <*>)` facing `(Safari <*>)`: both end in
/// `<*>)`): the run keeps its closing bracket, so it is framed whole, a
/// value ([`super::framed`]).
pub(super) fn closing_frame<T: AsRef<str>>(tokens: &[T], a: usize, b: usize) -> usize {
    let n = tokens.len();
    if b == 0 || n - b <= a || super::framed(&tokens[a..n - b]) {
        return b;
    }
    if super::framed(&tokens[a..=n - b]) {
        b - 1
    } else {
        b
    }
}

#[cfg(test)]
#[path = "two_runs_tests.rs"]
mod tests;
