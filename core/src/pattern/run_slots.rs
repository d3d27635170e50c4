//! More slots of names of several word counts (session 24, round 22).
//!
//! Round 21 made a slot of names of two word counts (`Scans` / `Finance
//! Share` / `Marketing Assets <*>`) a value on three runs in the middle of
//! the message. This round: such a slot takes names of up to four tokens
//! ([`super::SHORT_RUN`], three before: `Integrated Remote Access
//! Controller` / `PERC <*> Mini`), also where they end the message right
//! after a lower-case word (`messages from Trash` / `from Deleted Items` /
//! `from Junk`; four runs before); a run that ends at a bare `|` (a
//! record's field, session 17) is a value of any case, upper-case words
//! included (`Interrupt PCI PERR | Bus Correctable error | Asserted`: the
//! sensor's name; the event is the next field). A run that ends the
//! message after a capitalised label is a value on three runs when the
//! label ends a list of labelled fields ([`listed_label`]: `Sleep Time: <*>
//! Wake Time: <*> Wake Source: Power Button`) or follows a sentence (`The
//! system is entering sleep.  Sleep Reason: Button or Lid`); before, a
//! capitalised label always named the event (`Hardware Error: Corrected
//! error`). Runs framed by brackets that close alike (`(Safari <*>)` /
//! `(macOS Sonoma <*>)`: both end in `<*>)`) keep their closing bracket
//! when lined up ([`closing_frame`]), so each is framed whole, a value
//! after a masked value; before, the shared `<*>)` was cut off and the
//! runs were no values. Since session 25, round 27 a capitalised label
//! right after an object's word and id (`usb <*>: Product: <run>`,
//! [`object_label`]) and a name in round brackets right after a bare
//! masked value (`Device <mac> (MX Master 3) connected`, [`names_value`])
//! make a value on three runs with fewer constant words around.

use super::super::flags::{KEYED, MASKED};

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

/// Whether the token before `a` is a capitalised label that opens the
/// text right after an object's name and id (`usb <*>: Product: Ultra USB
/// 3.0`, `usb <*>: Manufacturer: SanDisk`: the kernel prints a device's
/// fields so): the run that ends the message after it is that field's
/// value, on three runs, with the object's word and the label the only
/// constant words around it (session 25, round 27).
pub(super) fn object_label<T: AsRef<str>>(tokens: &[T], flags: &[u8], a: usize) -> bool {
    let Some(name) = tokens[a - 1].as_ref().strip_suffix(':') else {
        return false;
    };
    let kind = tokens[0].as_ref();
    a == 3
        && flags[0] & MASKED == 0
        && kind.len() >= 2
        && kind.bytes().all(|b| b.is_ascii_lowercase())
        && flags[1] & MASKED != 0
        && flags[1] & KEYED == 0
        && tokens[1].as_ref().ends_with(":")
        && flags[2] & MASKED == 0
        && name.len() >= 3
        && name.as_bytes()[0].is_ascii_uppercase()
        && name.bytes().all(|b| b.is_ascii_alphabetic())
}

/// Whether the run from `a` to `end`, framed whole by round brackets,
/// stands right after a bare masked value and before more of the message
/// (`Device <mac> (MX Master 3) connected`, `Window 0x3a00007 (Google
/// Chrome) sets ...`): a name in brackets after an id or address names
/// that value, as one word there does (`signal 15 (Terminated)`, session
/// 24, round 24): a value on three runs, with a constant word on each side
/// enough (session 25, round 27).
pub(super) fn names_value<T: AsRef<str>>(tokens: &[T], flags: &[u8], a: usize, end: usize) -> bool {
    a >= 2
        && end < tokens.len()
        && tokens[a - 1].as_ref() == super::WILDCARD
        && tokens[a].as_ref().starts_with('(')
        && super::framed(&tokens[a..end])
        && flags[end] & MASKED == 0
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

/// Whether the run from `a` to `end` is a value by what names it: a
/// command's arguments after the command ([`arguments`], session 28, round
/// 40) or lower-case names after the noun that opens the text
/// ([`named_by_noun`], round 39).
pub(super) fn named_run<T: AsRef<str>>(tokens: &[T], flags: &[u8], a: usize, end: usize) -> bool {
    arguments(tokens, flags, a, end) || named_by_noun(tokens, flags, a, end)
}

/// Whether the run from `a` to `end` is a command's arguments after its
/// name (`Slow git command: git cat-file --batch in` / `git log
/// --name-status -c --format=<*> in`): it follows a plain lower-case word
/// and holds an option, a word that opens with `-` or `--` and a letter;
/// one value however many words, as a command line after a label is
/// (session 24, round 24). Session 28, round 40.
pub(super) fn arguments<T: AsRef<str>>(tokens: &[T], flags: &[u8], a: usize, end: usize) -> bool {
    let option = |t: &str| {
        let t = t.strip_prefix("--").or_else(|| t.strip_prefix('-'));
        t.and_then(|t| t.as_bytes().first())
            .is_some_and(u8::is_ascii_lowercase)
    };
    a >= 1
        && flags[a - 1] & MASKED == 0
        && tokens[a - 1].as_ref().len() > 1
        && tokens[a - 1]
            .as_ref()
            .bytes()
            .all(|b| b.is_ascii_lowercase())
        && tokens[a..end].iter().any(|t| option(t.as_ref()))
}

/// Whether the run from `a` to `end` is a name of lower-case words that
/// the capitalised noun opening the text introduces, before the verb that
/// tells the event (`Timer garbage collection took <*> ms` / `Timer
/// savepoint took`, `Job nightly backup finished`): one to three plain
/// lower-case words, none a word of grammar (`Connection was closed`
/// is a sentence), after a capitalised word of letters that opens the
/// message or follows a lone separator (`... : Timer`), and before a
/// lower-case word with more of the message after it (session 28, round
/// 39).
pub(super) fn named_by_noun<T: AsRef<str>>(
    tokens: &[T],
    flags: &[u8],
    a: usize,
    end: usize,
) -> bool {
    let plain = |i: usize| {
        let t = tokens[i].as_ref();
        flags[i] & MASKED == 0
            && t.len() >= 2
            && t.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
    };
    let noun = tokens[a - 1].as_ref();
    let opens = a == 1 || matches!(tokens[a - 2].as_ref(), ":" | "-" | "|");
    opens
        && end - a <= 3
        && end + 1 < tokens.len()
        && flags[a - 1] & MASKED == 0
        && noun.len() >= 3
        && noun.as_bytes()[0].is_ascii_uppercase()
        && noun.bytes().all(|b| b.is_ascii_alphabetic())
        && (a..=end).all(plain)
        && !(a..=end).any(|i| grammar(tokens[i].as_ref()))
}

/// Whether a message may hold a run that [`named_by_noun`] reads right
/// after its first word (`Timer log backup took ...`): a capitalised word
/// then a lower-case one (a byte each; the other places a run may open
/// at are found by a capital or a `:`).
pub(super) fn may_be_named<T: AsRef<str>>(tokens: &[T], flags: &[u8]) -> bool {
    tokens.len() > 3
        && flags[1] & MASKED == 0
        && tokens[0]
            .as_ref()
            .as_bytes()
            .first()
            .is_some_and(u8::is_ascii_uppercase)
        && tokens[1]
            .as_ref()
            .as_bytes()
            .first()
            .is_some_and(u8::is_ascii_lowercase)
}

/// A word of grammar (`is`, `was`, `to`, `the`, `not`): a run that holds
/// one is a sentence, no name.
fn grammar(word: &str) -> bool {
    matches!(
        word,
        "is" | "are"
            | "was"
            | "were"
            | "be"
            | "been"
            | "being"
            | "has"
            | "have"
            | "had"
            | "do"
            | "does"
            | "did"
            | "will"
            | "can"
            | "could"
            | "may"
            | "not"
            | "no"
            | "the"
            | "a"
            | "an"
            | "and"
            | "or"
            | "to"
            | "from"
            | "by"
            | "for"
            | "of"
            | "in"
            | "on"
            | "at"
            | "with"
            | "into"
            | "still"
            | "already"
    )
}

#[cfg(test)]
#[path = "run_slots_tests.rs"]
mod tests;
