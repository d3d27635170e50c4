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
//! - a pattern with one `<*>` (or a framed one, `[<*>]`, facing a run
//!   framed alike) where the message has a run of words takes the
//!   message; and a pattern that gains such a `<*>`, or is created with
//!   one, takes the longer patterns that have a run there
//!   ([`Miner::merge_taken`]), so the order the forms come in does not
//!   matter;
//! - enough such patterns whose runs differ from the message's at one place
//!   (four runs in all, the message's included; three after a label such
//!   as `Reason:` or `=`) merge into the oldest, the run becoming one
//!   `<*>`, which keeps every `<*>` the merged patterns had around it;
//!   a pattern that gains a `<*>` is counted so again, as if it were a new
//!   message ([`Miner::recount_runs`]: `Updated McAfee status successfully
//!   to <*>` lines up with the other products only once its state is
//!   `<*>`).
//!
//! A run is a value only when it follows a word or `=`, none of its words
//! is upper-case (`START`, `[UFW BLOCK]`: the event's name, as in
//! `flags.rs`), and either its first word opens with a capital (`Windows
//! Defender`, `Unknown user name ...`) and none of its words is a label
//! (`taskState: Running; visibility: ...` holds fields, not one value), or
//! brackets or quotes frame it whole (`[Abandoned connection cleanup
//! thread]`, `[java.lang.IllegalStateException: Cannot call ...]`); it
//! holds at most [`MAX_RUN`] tokens,
//! and at least [`MIN_CONSTANTS`] equal constant words (with a letter: not
//! the `--` or `[<*>]` of a header) stand around it, some before and some
//! after. A run of lower-case prose (`was not`, `failed to`) changes what
//! the event is and never merges here, nor does a run that ends the message
//! (`mce: [Hardware Error]: Machine check events logged` / `CPU <*>: ...`
//! are events, not values of one field), except (session 14) after a label
//! that is a lower-case word (`completed successfully: Apply Setup
//! Plugins`, `reason: ac power cycle`; then lower-case runs count too) or a
//! value after a lower-case word (`connect to <*>: No route to host`);
//! but (session 21, round 18) a sentence ending in `.` after a lower-case
//! word that names no field (`stopped: Volume is offline.`, not
//! `reason:`) is the event's reason, constant words. Upper-case words stand in a run that holds a capitalised word (`PERC
//! <*> Mini`), and two runs that share three words in a row are two
//! differences, not one value. Since session 16 a run may follow a masked
//! value where a pattern has a `<*>` of its own right after that value's
//! (`<*> <*> Success` takes `0 Automatic Updates Success`: the fields of a
//! tab-separated record); a lower-case value of two words (three that end
//! the message) after a lower-case word or label joins a bare `<*>` that
//! one-word values made (`from <*> to` takes `from awaiting transfer to`),
//! though never merges by itself; a name of
//! capitalised words that ends the message right after a lower-case word
//! is a value on four runs (`for volume Macintosh HD - Data`), and a
//! framed run that ends the message after a plain word on three
//! (`making interface primary (captive portal detected)`). Since session
//! 17 a bare `|` separates a record's fields: a run never spans one, and
//! a run that ends at one is bounded by it as by a bracket (a sensor's
//! name of any case, on three runs); a framed run that ends the message
//! after a masked value that is no field's is a value on three runs (and
//! so was an exception's text that ends the message after its class,
//! until session 21, round 18: that text is the exception's message,
//! constant words, one template per text). Since
//! session 20 a name of capitalised words (short lower-case words inside,
//! masked values after its first word, a `:` after its last) before more
//! of the message is a value after a word or a value too (`<*> Garage Door
//! Left Open: Already running`, `Event <*>: Domain Controller <*> on <*>
//! ...`), on four runs (three after a label). Since session 23, round 21
//! runs of at most three tokens and of two word counts or more (`Scans` /
//! `Finance Share` / `Marketing Assets <*>`) after a plain lower-case word
//! and before more of the message are a value on three runs: a slot of
//! names of one word and of several (after a capitalised word the run is
//! part of the event's name: `Received Link Down Event`).

use super::flags::{KEYED, MASKED, WILD};
use super::{Head, Miner, Pattern, WILDCARD};

#[path = "run_slots.rs"]
mod run_slots;

#[path = "run_meet.rs"]
mod run_meet;

#[path = "run_pair.rs"]
mod run_pair;

#[path = "run_known.rs"]
mod run_known;

/// The longest run of tokens taken as one value.
const MAX_RUN: usize = 16;

/// Equal constant words needed around the run.
const MIN_CONSTANTS: usize = 3;

/// Distinct runs (the message's and its patterns') that make a value.
const MIN_RUNS: usize = 4;

/// The longest run in a slot of short names of several word counts
/// ([`short_runs_of_two_lengths`]; 3 until session 24, round 22: `PERC
/// <*> Mini` / `Integrated Remote Access Controller` / `Broadcom NetXtreme
/// Gigabit Ethernet`).
const SHORT_RUN: usize = 4;

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

/// Whether the run from `a` to `end` may be a value: it follows a word or
/// `=`, and either its first word opens with a capital letter (after an
/// opening quote or bracket), none of its words is upper-case (`START`:
/// the event) and none is a label (`taskState: Running; visibility: ...`
/// holds fields); or it is framed whole by brackets or quotes (`[Abandoned
/// connection cleanup thread]`, `[<*> housekeeper]`, `[java.lang.Error:
/// Cannot call ...]`), which make it one value whatever its words.
/// `after_field`: a pattern's `<*>` after a `<*>` faces the run
/// ([`field_after_value`]), so it may follow a value too.
fn opens_value<T: AsRef<str>>(
    tokens: &[T],
    flags: &[u8],
    a: usize,
    end: usize,
    after_field: bool,
) -> bool {
    if a == 0 {
        return false;
    }
    let run = &tokens[a..end];
    // A bare `|` separates the fields of a record (`PS1 Status | Failure
    // detected | Asserted`): a run across one is two fields, the second
    // the event, not one value (session 17). A bare `=` holds a field
    // (`(tty = 2)`, `[bob/<via Auth-Type = eap>]`): a run that holds one,
    // framed too, is no one value (session 28).
    if run.iter().any(|t| matches!(t.as_ref(), "|" | "=")) {
        return false;
    }
    // A failure's reason in prose is constant words, no value
    // (`connection failed: Connection refused`, session 24).
    if super::reasons::failure_reason(tokens, flags, a, end) {
        return false;
    }
    let first = tokens[a].as_ref();
    // Brackets or quotes bound a framed run themselves: it may follow a
    // value (`pid <*> (Docker Desktop)`), as fields of a record do.
    let bounded = framed(run) || ends_field(tokens, flags, a, end);
    // A name of capitalised words before more of the message, after a
    // word or a value (`<*> Garage Door Left Open: Already running`,
    // `Event <*>: Domain Controller <*> on <*> ...`, session 20).
    let name = end < message_end(tokens, flags)
        && flags[a - 1] & KEYED == 0
        && title_name(run, &flags[a..end]);
    if !(word_at(tokens, flags, a - 1)
        || tokens[a - 1].as_ref() == "="
        || (end == message_end(tokens, flags) && end_label(tokens, flags, a))
        || bounded
        || after_field
        || name)
    {
        return false;
    }
    // Upper-case words name the event (`START`, `LINK DOWN`), unless a
    // word of other case stands with them (`PERC <*> Mini`: a product), or
    // a bare `|` ends the run: a record's field whose event is the next
    // field (`Interrupt PCI PERR | Bus Correctable error`, session 24,
    // round 22).
    if run.iter().any(|t| shouted(t.as_ref()))
        && !mixed_case(run, &flags[a..end])
        && !ends_field(tokens, flags, a, end)
    {
        return false;
    }
    if bounded || name {
        return true;
    }
    // An exception's class opening the run is no label of a field: the
    // class and its text are one value (`java.io.IOException: Premature
    // EOF`, session 15).
    let class = exception_class(first);
    let fields = run
        .iter()
        .enumerate()
        .any(|(k, t)| (label(t) && !(k == 0 && class)) || t.as_ref().ends_with(';'));
    // A run of any case that ends the message after a label that is a
    // lower-case word is that field's value (`reason: ac power cycle.`);
    // after a value (`tile <*>: link failed`) it is the event, unless it
    // is an exception (`for <*>: java.io.IOException: ...`).
    // A value after a label may open with a number before a capitalised
    // word (`update: 2024-01 Cumulative Update for ...`, session 15).
    let numbered = label(&tokens[a - 1])
        && flags[a] & WILD != 0
        && end - a >= 2
        && flags[a + 1] & MASKED == 0
        && capitalised(tokens[a + 1].as_ref());
    if end == message_end(tokens, flags)
        && end_label(tokens, flags, a)
        && (flags[a - 1] & MASKED == 0 || class)
        && (flags[a] & MASKED == 0 || numbered)
        && !fields
    {
        return true;
    }
    let named = run_slots::named_run(tokens, flags, a, end);
    (numbered || named || (flags[a] & MASKED == 0 && (class || capitalised(first)))) && !fields
}

/// Whether a run is a name of capitalised words (session 20): at least
/// two plain words, each opening with a capital but for short lower-case
/// words inside (`Hallway Motion at Night`), masked values after the first
/// (`Domain Controller <*>`), and a `:` after the last only (`Garage Door
/// Left Open: Already running`: the name of what the message is about, as
/// a logger's is, bounded by its `:`). Its words are of letters, digits,
/// `'` and `-` only: `Running; visibility: Unknown` holds fields, and a
/// bracket or quote frames a value of its own.
fn title_name<T: AsRef<str>>(run: &[T], flags: &[u8]) -> bool {
    let last = run.len() - 1;
    let mut words = 0;
    for (k, (t, &f)) in run.iter().zip(flags).enumerate() {
        if f & MASKED != 0 {
            if k == 0 {
                return false;
            }
            continue;
        }
        let t = t.as_ref();
        let w = if k == last {
            t.strip_suffix(':').unwrap_or(t)
        } else {
            t
        };
        if w.is_empty()
            || !w
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'\'' || b == b'-')
        {
            return false;
        }
        let connector =
            k > 0 && k < last && w.len() <= 3 && w.bytes().all(|b| b.is_ascii_lowercase());
        if !(w.as_bytes()[0].is_ascii_uppercase() || connector) {
            return false;
        }
        words += 1;
    }
    words >= 2
}

/// Where the message's text ends: before the `key=value` fields that end
/// it (`... failed to run job: context canceled job=<*> project=<*>`, the
/// fields a structured logger prints after the text, session 18), else
/// at its end.
fn message_end<T: AsRef<str>>(tokens: &[T], flags: &[u8]) -> usize {
    let fields = tokens
        .iter()
        .zip(flags)
        .rev()
        .take_while(|(t, f)| *f & KEYED != 0 && t.as_ref().contains('='))
        .count();
    if fields == tokens.len() {
        tokens.len()
    } else {
        tokens.len() - fields
    }
}

/// Whether the run from `a` to `end` follows a constant word and ends
/// right before a bare `|`, the separator of a record's fields (`Critical
/// Interrupt PCI SERR | Bus Correctable error | Asserted`): the separator
/// bounds it as brackets do, so it is one value whatever the case of its
/// words (a sensor's name), on three runs as after a label (session 17).
fn ends_field<T: AsRef<str>>(tokens: &[T], flags: &[u8], a: usize, end: usize) -> bool {
    end < tokens.len() && tokens[end].as_ref() == "|" && word_at(tokens, flags, a - 1)
}

/// A word opening with a capital letter (after an opening quote or
/// bracket).
fn capitalised(token: &str) -> bool {
    let word = token.trim_start_matches(['"', '\'', '(', '[', '<']);
    word.as_bytes().first().is_some_and(u8::is_ascii_uppercase)
}

/// A qualified class name ending in `:` (`java.io.IOException:`,
/// `org.a.RemoteException:`): packages of lower-case letters, then a
/// capitalised class, as an exception and its message print.
fn exception_class(token: &str) -> bool {
    let Some(name) = token.strip_suffix(':') else {
        return false;
    };
    let Some((package, class)) = name.rsplit_once('.') else {
        return false;
    };
    !package.is_empty()
        && package
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'_')
        && package.as_bytes()[0].is_ascii_lowercase()
        && class.as_bytes().first().is_some_and(u8::is_ascii_uppercase)
        && class
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'$' || b == b'_')
}

/// Whether a token may open a run ([`opens_value`]): a word opening with
/// a capital, or an opening bracket or quote. A message without one skips
/// the run step (one byte check per token).
fn may_open(token: &str, flags: u8) -> bool {
    let Some(&b) = token.as_bytes().first() else {
        return false;
    };
    matches!(b, b'[' | b'(' | b'"')
        || (flags & MASKED == 0
            && token
                .trim_start_matches(['\'', '<'])
                .as_bytes()
                .first()
                .is_some_and(u8::is_ascii_uppercase))
}

/// Whether a run is framed by one pair of brackets or quotes: the bracket
/// that opens its first token closes at the end of its last (`,` `.` `;`
/// `:` after it aside), nested pairs allowed inside (`(Slack Helper
/// (Renderer))`), a run of one token too (`(Xcode).`).
fn framed<T: AsRef<str>>(run: &[T]) -> bool {
    let Some(open) = run.first().and_then(|t| t.as_ref().bytes().next()) else {
        return false;
    };
    let close = match open {
        b'[' => b']',
        b'(' => b')',
        b'"' => b'"',
        _ => return false,
    };
    let last = run.len() - 1;
    let mut depth = 0usize;
    for (k, t) in run.iter().enumerate() {
        let t = t.as_ref();
        let t = if k == last {
            t.trim_end_matches([',', '.', ';', ':'])
        } else {
            t
        };
        for (i, b) in t.bytes().enumerate() {
            if b == close && (open != b'"' || depth == 1) && !(k == 0 && i == 0) {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return k == last && i + 1 == t.len();
                }
            } else if b == open {
                depth += 1;
            }
        }
    }
    false
}

/// Whether a pattern's token takes the run from `first` to `last`: a bare
/// `<*>`, or a framed one (`[<*>]`) facing a run framed alike.
fn takes_run(token: &str, flags: u8, first: &str, last: &str) -> bool {
    if flags & WILD != 0 {
        return true;
    }
    let Some((open, close)) = token.split_once(WILDCARD) else {
        return false;
    };
    let last = last.trim_end_matches([',', '.', ';', ':']);
    matches!(open, "[" | "(" | "\"")
        && close.trim_end_matches([',', '.', ';', ':']).len() == 1
        && first.starts_with(open)
        && last.ends_with(close.trim_end_matches([',', '.', ';', ':']))
}

/// A token that ends a label: `Reason:`, `=`.
fn label<T: AsRef<str>>(token: &T) -> bool {
    let t = token.as_ref();
    t.ends_with(':') || t == "="
}

/// A run with a capitalised word that is not upper-case (`PERC <*> Mini`,
/// `Set Windows RE image`: a name or a value holding an upper-case word;
/// not `GET served hit/<*>`).
fn mixed_case<T: AsRef<str>>(run: &[T], flags: &[u8]) -> bool {
    run.iter().zip(flags).any(|(t, &f)| {
        let t = t.as_ref();
        let word = t.trim_start_matches(['(', '[', '"', '\'']);
        f & MASKED == 0
            && word.as_bytes().first().is_some_and(u8::is_ascii_uppercase)
            && !shouted(t)
    })
}

/// Whether the token before position `a` is a label a run that ends the
/// message may follow: a lower-case word or a masked value after a
/// lower-case word, ending in `:`; or (session 18) a bare `-`. Not an
/// exception's class (`java.io.IOException: Filesystem closed`: its text
/// is constant, session 21, round 18; session 17 took it as a label).
fn end_label<T: AsRef<str>>(tokens: &[T], flags: &[u8], a: usize) -> bool {
    let t = tokens[a - 1].as_ref();
    // A bare ` - ` labels the words that end the message as a `:` does
    // (`failed for '<*>' (callid: <*>) - No matching endpoint found`,
    // session 18).
    if t == "-" {
        return true;
    }
    let Some(name) = t.strip_suffix(':') else {
        return false;
    };
    // The text after an exception's class is the exception's message,
    // constant words of the event (`java.io.IOException: Broken pipe` /
    // `Connection reset by peer`: one template per text, session 21,
    // round 18), no value (sessions 17 to 21 took it as one).
    if exception_class(t) {
        return false;
    }
    let lower = |w: &str| w.len() > 1 && w.bytes().all(|b| b.is_ascii_lowercase());
    // A masked label follows a lower-case word (`connect to <*>:`), not a
    // header's logger (`[Allocator] <*>:`).
    (flags[a - 1] & MASKED != 0
        && flags[a - 1] & KEYED == 0
        && a >= 2
        && flags[a - 2] & MASKED == 0
        && lower(tokens[a - 2].as_ref()))
        || (lower(name) && (field_name(name) || !sentence(&tokens[a..message_end(tokens, flags)])))
}

/// A lower-case word that names a field whose value is a reason or a
/// text (`reason:`, `error:`, `cause:`): what follows it is that field's
/// value even when it reads as a sentence (`reason: Request timed out.`).
pub(super) fn field_name(word: &str) -> bool {
    matches!(
        word,
        "reason"
            | "error"
            | "cause"
            | "status"
            | "message"
            | "msg"
            | "detail"
            | "details"
            | "description"
            | "result"
            | "response"
            | "text"
    )
}

/// Whether the words that end a message are a sentence: two or more plain
/// words, a lower-case word among them after the first, the last ending
/// in `.` (`Volume is offline.`, `session ended normally.`). After a
/// lower-case word that is no field's name (`stopped: Volume is
/// offline.`), such a sentence is the event's reason, constant words (one
/// template per reason, session 21, round 18), not a value.
fn sentence<T: AsRef<str>>(run: &[T]) -> bool {
    let plain = |t: &str| {
        let w = t.trim_end_matches(['.', ',']);
        !w.is_empty()
            && w.bytes()
                .all(|b| b.is_ascii_alphabetic() || b == b'\'' || b == b'-')
    };
    run.len() >= 2
        && run.iter().all(|t| plain(t.as_ref()))
        && run[1..]
            .iter()
            .any(|t| t.as_ref().as_bytes()[0].is_ascii_lowercase())
        && run
            .last()
            .is_some_and(|t| t.as_ref().ends_with('.') && !t.as_ref().ends_with(".."))
}

/// Whether the run at `a` is of capitalised words (a name; masked values
/// and punctuation aside) right after a plain lower-case word (`Index
/// opened for volume Macintosh HD - Data`):
/// a name that ends the message is the value of the field the word names
/// (session 16); after a capitalised word or a label it stays the event.
fn named_after_word<T: AsRef<str>>(tokens: &[T], flags: &[u8], a: usize) -> bool {
    let prev = tokens[a - 1].as_ref();
    // No lower-case word in it: `Sensor Temp temperature is within
    // range.` holds the event's prose after the name.
    let title = tokens[a..].iter().all(|t| {
        !t.as_ref()
            .as_bytes()
            .first()
            .is_some_and(u8::is_ascii_lowercase)
    });
    flags[a - 1] & MASKED == 0
        && flags[a] & MASKED == 0
        && prev.len() > 1
        && prev.bytes().all(|b| b.is_ascii_lowercase())
        && capitalised(tokens[a].as_ref())
        && title
}

/// Whether two runs share three words in a row (by key): then they are
/// two differences, not one value (`CPU1 Temp temperature is greater than
/// the upper critical` / `Inlet Temp temperature ... warning`).
fn share_inner(a: &[u64], b: &[u64]) -> bool {
    a.len() >= 3 && b.len() >= 3 && a.windows(3).any(|w| b.windows(3).any(|v| v == w))
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
    open_end: bool,
    wild: impl Fn(usize) -> bool,
) -> Option<(usize, usize)> {
    let n = tokens.len();
    let count = |range: std::ops::Range<usize>| {
        range
            .filter(|&i| word_at(tokens, flags, i) && !wild(i))
            .count()
    };
    let (before, after) = (count(0..a), count(n - b..n));
    // A device's field (`usb <*>: Product: <run>`): two words suffice.
    let object = after == 0 && before == 2 && run_slots::object_label(tokens, flags, a);
    let named = after > 0 && run_slots::names_value(tokens, flags, a, n - b);
    if before == 0 || (before + after < MIN_CONSTANTS && !object && !named) {
        return None;
    }
    // Only `key=value` fields after the run: it ends the message's text
    // (`failed to run job: context canceled job=<*> project=<*>`).
    let fields_after = after > 0 && n - b == message_end(tokens, flags);
    if after == 0 || fields_after {
        let tail = &tokens[a..if fields_after { n - b } else { n }];
        // A run that ends the message is a value only after a label that
        // is a lower-case word or a value (`completed successfully: <run>`,
        // `connect to <*>: <run>`); after a capitalised one it is the
        // event (`Hardware Error: Corrected error`). Framed whole by
        // brackets or quotes it is one value anywhere (`suspending pid <*>
        // (Docker Desktop)`, session 15), on as many runs as in the middle.
        // A capitalised label in a list of labelled fields is a field's
        // (`Wake Time: <*> Wake Source: Power Button`, session 24, round 22).
        if end_label(tokens, flags, a) || run_slots::listed_label(tokens, flags, a) || object {
            return Some((MIN_RUNS - 1, before));
        }
        // Framed after a plain word, it bounds itself on both sides:
        // three forms, as after a label (`making interface primary
        // (captive portal detected)`); since session 17 also after a
        // masked value (`client_fd <*> (Broken pipe)`), but not after a
        // field's (`status=<*> (...)`: the text tells that value's event).
        if before >= MIN_CONSTANTS && framed(tail) && flags[a - 1] & KEYED == 0 {
            return Some((MIN_RUNS - 1, before));
        }
        return (before >= MIN_CONSTANTS
            && (open_end || framed(tail) || named_after_word(tokens, flags, a)))
        .then_some((MIN_RUNS, before));
    }
    let needed = if label(&tokens[a - 1]) || tokens[n - b].as_ref() == "|" || named {
        MIN_RUNS - 1
    } else {
        MIN_RUNS
    };
    Some((needed, before + after))
}

/// Whether runs of `first` and `others` tokens are of at least two word
/// counts, none longer than [`SHORT_RUN`]: names of one word and of two or
/// three (`Scans` / `Finance Share` / `Marketing Assets <*>`) stand in one
/// slot of values, where two events that differ by capitalised words
/// differ by as many (session 23, round 21).
fn short_runs_of_two_lengths(first: usize, others: impl Iterator<Item = usize>) -> bool {
    let mut two = false;
    for len in others {
        if len > SHORT_RUN {
            return false;
        }
        two |= len != first;
    }
    two && first <= SHORT_RUN
}

/// Whether the run at `a` stands after a plain lower-case word (`for
/// service <run>,`, `connect to <run> because`): after a capitalised word
/// the run is part of a longer name, the event's (`Received Link Down
/// Event,` / `Received Roam Event,`).
fn after_lower_word<T: AsRef<str>>(tokens: &[T], flags: &[u8], a: usize) -> bool {
    let prev = tokens[a - 1].as_ref();
    flags[a - 1] & MASKED == 0 && !prev.is_empty() && prev.bytes().all(|b| b.is_ascii_lowercase())
}

/// A pattern of another shape than the message, sharing `prefix` tokens at
/// the start and `suffix` at the end with it.
struct Near {
    slot: u32,
    len: usize,
    prefix: usize,
    suffix: usize,
}

/// How pattern `p` (in `slot`) lines up with a message of `keys` from both
/// ends (a `<*>` of the pattern takes any token); `None` when their first
/// tokens differ.
fn near(p: &Pattern, slot: u32, keys: &[u64]) -> Option<Near> {
    let eq = |i: usize, j: usize| p.is_wild(j) || p.keys[j] == keys[i];
    lined_up(slot, keys.len(), p.keys.len(), eq)
}

/// How `n` tokens line up from both ends with pattern `slot`'s `m`, `eq(i,
/// j)` telling whether token `i` faces pattern token `j` as equal: [`near`]
/// for a line, `run_meet::near_either` for another pattern.
fn lined_up(slot: u32, n: usize, m: usize, eq: impl Fn(usize, usize) -> bool) -> Option<Near> {
    let most = n.min(m) - 1;
    let prefix = (0..most).take_while(|&i| eq(i, i)).count();
    let suffix = (0..most).take_while(|&k| eq(n - 1 - k, m - 1 - k)).count();
    (prefix > 0).then_some(Near {
        slot,
        len: m,
        prefix,
        suffix,
    })
}

/// Whether the run from `a` to `end` is a lower-case value of two plain
/// words (three where they end the message; a `/` inside, `branch
/// feature/login page`, since session 28) after a lower-case word or
/// label (`from awaiting transfer to`, `it is temporarily not
/// available`, `unreachable: timed out.`): taken only by a pattern's bare
/// `<*>`, which one-word values made there (`from <*> to`), never merged
/// into one by itself (lower-case prose changes the event: `was not
/// opened`). Three words before more of the message are prose and a value
/// (`for invalid user guest from`: sshd fell to 0.75 with them).
fn lower_value<T: AsRef<str>>(tokens: &[T], flags: &[u8], a: usize, end: usize) -> bool {
    // A plain lower-case word, `,` `.` `;` after it where it ends the run
    // (`unreachable: timed out.`), `:` where it is the label before.
    let plain = |i: usize, tail: &[char]| {
        let t = tokens[i].as_ref().trim_end_matches(tail);
        flags[i] & MASKED == 0
            && t.as_bytes().first().is_some_and(u8::is_ascii_lowercase)
            && t.bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'-' || (b == b'/' && i >= a))
    };
    a >= 1
        && (end - a == 2 || (end - a == 3 && end == tokens.len()))
        && plain(a - 1, &[':'])
        && (a..end - 1).all(|i| plain(i, &[]))
        && plain(end - 1, &[',', '.', ';'])
}

/// Whether a lower-case value of words may stand at `i` ([`lower_value`]):
/// a lower-case word, then two more (a byte check each).
fn may_open_lower(tokens: &[&str], flags: &[u8], i: usize) -> bool {
    let lower = |k: usize| {
        flags[k] & MASKED == 0
            && tokens[k]
                .as_bytes()
                .first()
                .is_some_and(u8::is_ascii_lowercase)
    };
    i + 1 < tokens.len() && lower(i - 1) && lower(i) && lower(i + 1)
}

/// Whether pattern `p`'s `<*>` at `w` stands right after another `<*>`
/// that faces a masked value of the message (`<*> <*> Success` facing `0
/// Automatic Updates Success`): the pattern has learnt that a field of its
/// own follows that value (tab- or space-separated records), so a run
/// there may be that field's value although no word precedes it (session
/// 16).
fn field_after_value(p: &Pattern, w: usize, flags: &[u8]) -> bool {
    w >= 1
        && p.is_wild(w)
        && p.is_wild(w - 1)
        && flags[w - 1] & MASKED != 0
        && flags[w - 1] & KEYED == 0
}

/// Whether pattern `p`, shorter than the message, has a `<*>` where the
/// message has a run that may be a value, everything else equal; returns
/// the constant words around it.
fn take_at<T: AsRef<str>>(p: &Pattern, c: &Near, tokens: &[T], flags: &[u8]) -> Option<usize> {
    let (n, m) = (tokens.len(), c.len);
    if m >= n {
        return None;
    }
    let mut best = None;
    // The `<*>` at `w`: every position before it and after it equal.
    for w in (m - 1 - c.suffix.min(m - 1))..=c.prefix.min(m - 1) {
        let after = m - 1 - w;
        if w == 0
            || c.prefix < w
            || c.suffix < after
            || !takes_run(
                &p.tokens[w],
                p.flags[w],
                tokens[w].as_ref(),
                tokens[n - after - 1].as_ref(),
            )
        {
            continue;
        }
        let lower = p.flags[w] & WILD != 0
            && lower_value(tokens, flags, w, n - after)
            && !super::reasons::failure_reason(tokens, flags, w, n - after);
        if !lower && !opens_value(tokens, flags, w, n - after, field_after_value(p, w, flags)) {
            continue;
        }
        let wild = |i: usize| p.is_wild(if i < w { i } else { m + i - n });
        if let Some((_, around)) = runs_needed(tokens, flags, w, after, lower, wild) {
            best = best.max(Some(around));
        }
    }
    best
}

impl Miner {
    /// The pattern a message that found none belongs to when it differs
    /// only by a value of several words (see the module documentation).
    pub(super) fn align_run(&mut self, tokens: &[&str], keys: &[u64], flags: &[u8]) -> Option<u32> {
        let n = keys.len();
        if n < 3 {
            return None;
        }
        let any_run = (1..n).any(|i| may_open(tokens[i], flags[i]) || tokens[i - 1].ends_with(':'))
            || run_slots::may_be_named(tokens, flags);
        // A message that may hold only a lower-case value of two or three
        // words ([`lower_value`]) is looked for in patterns one or two
        // tokens shorter, as a taker's message only: it never merges runs.
        let lower_only = !any_run && (1..n).any(|i| may_open_lower(tokens, flags, i));
        if !any_run && !lower_only {
            return None;
        }
        let lengths = if lower_only {
            n.saturating_sub(2).max(2)..=n - 1
        } else {
            n.saturating_sub(MAX_RUN - 1).max(2)..=n + MAX_RUN - 1
        };
        let mut found = Vec::new();
        for m in lengths {
            let Some(list) = self.by_len.get(&m) else {
                continue;
            };
            for &slot in list {
                let head: &Head = &self.heads[slot as usize];
                if head.flags[0] & WILD == 0 && head.keys[0] != keys[0] {
                    continue;
                }
                if let Some(c) = near(self.pattern(slot), slot, keys) {
                    found.push(c);
                }
            }
        }
        if found.is_empty() {
            return None;
        }
        if let Some(slot) = self.run_taker(tokens, flags, &found) {
            return Some(slot);
        }
        if let Some(slot) = self.take_by_wild_run(tokens, keys, flags, &found) {
            return Some(slot);
        }
        if let Some(slot) = self.take_pair(tokens, keys, flags, &found) {
            return Some(slot);
        }
        if lower_only {
            return None;
        }
        self.merge_runs(tokens, keys, flags, &found, None)
    }

    /// A pattern with one `<*>` where the message has a run of words.
    fn run_taker(&self, tokens: &[&str], flags: &[u8], near: &[Near]) -> Option<u32> {
        let mut best: Option<(usize, u64, u32)> = None;
        for c in near.iter().filter(|c| c.len < tokens.len()) {
            let p = self.pattern(c.slot);
            if let Some(around) = take_at(p, c, tokens, flags) {
                let key = (around, u64::MAX - p.first_seq, c.slot);
                if best.is_none_or(|b| key > b) {
                    best = Some(key);
                }
            }
        }
        best.map(|(_, _, slot)| slot)
    }

    /// After `slot` gained a `<*>`: its run siblings are counted again, as
    /// if its template were a new message (the `<*>` may be what made it
    /// line up with them: `Updated McAfee status successfully to <*>`).
    /// Returns the slot that holds it.
    pub(super) fn recount_runs(&mut self, slot: u32) -> u32 {
        let p = self.pattern(slot);
        let n = p.keys.len();
        if n < 3
            || !((1..n)
                .any(|i| may_open(&p.tokens[i], p.flags[i]) || p.tokens[i - 1].ends_with(':'))
                || run_slots::may_be_named(&p.tokens, &p.flags))
        {
            return slot;
        }
        let owned = p.tokens.clone();
        let (keys, flags) = (p.keys.clone(), p.flags.clone());
        let tokens: Vec<&str> = owned.iter().map(|t| &**t).collect();
        let mut found = Vec::new();
        for m in n.saturating_sub(MAX_RUN - 1).max(2)..=n + MAX_RUN - 1 {
            let Some(list) = self.by_len.get(&m) else {
                continue;
            };
            for &other in list {
                let head = &self.heads[other as usize];
                if other == slot || (head.flags[0] & WILD == 0 && head.keys[0] != keys[0]) {
                    continue;
                }
                // The pattern's own `<*>`s take the other's words too
                // (session 26, round 30: `<*> was slain by Cave Spider`
                // lines up with `carol was slain by Zombie Villager`).
                let (p, q) = (self.pattern(other), self.pattern(slot));
                if let Some(c) = run_meet::near_either(p, other, q) {
                    found.push(c);
                }
            }
        }
        self.merge_runs(&tokens, &keys, &flags, &found, Some((slot, n)))
            .unwrap_or(slot)
    }

    /// After `slot` gained a `<*>` or was created: the patterns of other
    /// lengths it takes as messages (a run of words where it has that
    /// `<*>`) merge into it, so whichever came first, the run's forms end in
    /// one pattern.
    pub(super) fn merge_taken(&mut self, slot: u32) {
        let p = self.pattern(slot);
        let m = p.keys.len();
        // Only a `<*>` (bare or framed) after the first token takes a run.
        let takes = |j: usize| {
            p.flags[j] & WILD != 0
                || p.tokens[j]
                    .split_once(WILDCARD)
                    .is_some_and(|(open, _)| matches!(open, "[" | "(" | "\""))
        };
        let Some(first_taker) = (1..m).find(|&j| takes(j)) else {
            return;
        };
        // Positions before the first `<*>` that takes a run must be equal:
        // the first two are read from the flat heads.
        let head = Head::of(p);
        let fixed: Vec<usize> = (0..first_taker.min(2))
            .filter(|&i| head.flags[i] & WILD == 0)
            .collect();
        for n in m + 1..m + MAX_RUN {
            let Some(list) = self.by_len.get(&n).cloned() else {
                continue;
            };
            for other in list {
                let other_head = &self.heads[other as usize];
                if fixed.iter().any(|&i| other_head.keys[i] != head.keys[i]) {
                    continue;
                }
                let (p, q) = (self.pattern(slot), self.pattern(other));
                let Some(c) = near(p, slot, &q.keys) else {
                    continue;
                };
                if take_at(p, &c, &q.tokens, &q.flags).is_some() {
                    self.merge_into(other, slot);
                }
            }
        }
    }

    /// Merges the patterns whose run differs from the message's at one place
    /// when there are enough of them; returns the survivor.
    fn merge_runs(
        &mut self,
        tokens: &[&str],
        keys: &[u64],
        flags: &[u8],
        near: &[Near],
        existing: Option<(u32, usize)>,
    ) -> Option<u32> {
        let n = tokens.len();
        let mut chosen: Option<(usize, usize, usize, Vec<usize>)> = None;
        for g in near {
            let a = g.prefix;
            let b = g.suffix.min(n.min(g.len) - 1 - a);
            // A run keeps the bracket it opens (session 24, round 22).
            let b = run_slots::closing_frame(tokens, a, b);
            if n - a - b > MAX_RUN || !opens_value(tokens, flags, a, n - b, false) {
                continue;
            }
            let members: Vec<usize> = (0..near.len())
                .filter(|&k| {
                    let c = &near[k];
                    c.prefix >= a && c.suffix >= b && c.len > a + b && c.len - a - b <= MAX_RUN && {
                        let p = self.pattern(c.slot);
                        opens_value(&p.tokens, &p.flags, a, c.len - b, false)
                            && !share_inner(&keys[a..n - b], &p.keys[a..c.len - b])
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
            let Some((needed, around)) = runs_needed(tokens, flags, a, b, false, |i| {
                members.iter().any(|&k| wild_at(k, i))
            }) else {
                continue;
            };
            // Runs of different word counts in the middle of the message
            // (`service Scans, path` / `service Finance Share, path` /
            // `service Marketing Assets <*>, path`): the slot holds names of
            // one word and of several, a value, on three runs (session 23,
            // round 21); and names that end the message right after a
            // lower-case word (`messages from Trash` / `from Deleted Items`,
            // [`named_after_word`], session 24, round 22).
            let needed = if needed == MIN_RUNS
                && short_runs_of_two_lengths(
                    n - a - b,
                    members.iter().map(|&k| near[k].len - a - b),
                )
                && (((n - b..message_end(tokens, flags)).any(|i| word_at(tokens, flags, i))
                    && after_lower_word(tokens, flags, a))
                    || (b == 0 && named_after_word(tokens, flags, a)))
            {
                MIN_RUNS - 1
            } else {
                needed
            };
            // Runs, not patterns: two patterns with one run count once
            // (session 26, round 30).
            let run_of = |k: usize| {
                let c = &near[k];
                &self.pattern(c.slot).keys[a..c.len - b]
            };
            if run_meet::distinct_runs(&members, run_of, &keys[a..n - b]) + 1 < needed {
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
        slots.extend(existing);
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
        self.pattern_mut(survivor).collapse(a, len - b);
        self.relength(survivor, len);
        for &(other, _) in &slots[1..] {
            self.merge_into(other, survivor);
        }
        let positions: Vec<usize> = (0..wild.len()).filter(|&i| wild[i]).collect();
        Some(self.generalise(survivor, &positions))
    }
}

#[cfg(test)]
#[path = "runs_tests.rs"]
mod tests;
