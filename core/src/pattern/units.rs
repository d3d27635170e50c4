//! Unit words after a masked number (session 25, round 27).
//!
//! Loggers print a size, a rate or a duration with a unit chosen by its
//! magnitude, as humanize-like formatters do (`512 bytes`, `1.2 KB`, `30.8
//! GB`, `1.00 TB`; `250 ms`, `1.5 s`, `3 min`; `54 Mbps`, `1.2 Gbps`) or
//! with its plural (`1 second`, `2 seconds`): the unit word after the
//! number belongs to the value. Two such words of one kind in one place are
//! values of one variable and merge at once, as two state values do; a
//! unit printed always the same way is a constant word as before. Only
//! units of one kind: a size never becomes a duration, so `<*> ms` and `<*>
//! MB` stay apart. A unit glued to its number (`12ms`, `4.5KB`) is masked
//! with it already.

use super::flags::{KEYED, MASKED};
use super::token::WILDCARD;

/// A unit of data size (`bytes`, `KB`, `GiB`) after a masked number.
pub(super) const SIZE_UNIT: u8 = 32;
/// A unit of duration (`ms`, `s`, `seconds`, `min`) after a masked number.
pub(super) const TIME_UNIT: u8 = 64;
/// A unit of rate or frequency, a quantity per second (`Mbps`, `MB/s`,
/// `MHz`), after a masked number.
pub(super) const RATE_UNIT: u8 = SIZE_UNIT | TIME_UNIT;
/// The bits of a unit's kind.
pub(super) const UNIT: u8 = SIZE_UNIT | TIME_UNIT;

/// Data sizes, in bytes and bits, decimal and binary prefixes.
const SIZES: &[&str] = &[
    "B", "bytes", "byte", "Bytes", "KB", "kB", "kb", "MB", "mb", "GB", "gb", "TB", "tb", "PB",
    "EB", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "bits", "Kb", "Mb", "Gb",
];

/// Durations, abbreviated and spelt out, singular and plural.
const TIMES: &[&str] = &[
    "ns",
    "us",
    "µs",
    "ms",
    "s",
    "nsec",
    "usec",
    "msec",
    "msecs",
    "sec",
    "secs",
    "second",
    "seconds",
    "millisecond",
    "milliseconds",
    "microseconds",
    "nanoseconds",
    "min",
    "mins",
    "minute",
    "minutes",
    "h",
    "hr",
    "hrs",
    "hour",
    "hours",
    "day",
    "days",
];

/// Rates and frequencies.
const RATES: &[&str] = &[
    "bps", "kbps", "Kbps", "Mbps", "Gbps", "kbit/s", "Kbit/s", "Mbit/s", "Gbit/s", "b/s", "Kb/s",
    "Mb/s", "Gb/s", "B/s", "KB/s", "kB/s", "MB/s", "GB/s", "KiB/s", "MiB/s", "GiB/s", "Hz", "kHz",
    "MHz", "GHz",
];

/// The kind of unit ([`SIZE_UNIT`], [`TIME_UNIT`], [`RATE_UNIT`]) a token
/// is, or 0: a unit word (a `,` `;` `.` `)` `]` or `}` after it aside),
/// also as the key of a masked `unit/<*>` (`GB/<*>` in the kernel's `(30.8
/// GB/28.6 GiB)`, a size in two units).
fn unit_kind(token: &str) -> u8 {
    let word = token.strip_suffix("/<*>").unwrap_or(token);
    let word = word.trim_end_matches([',', ';', '.', ')', ']', '}']);
    if word.is_empty() || word.len() > 12 {
        0
    } else if SIZES.contains(&word) {
        SIZE_UNIT
    } else if TIMES.contains(&word) {
        TIME_UNIT
    } else if RATES.contains(&word) {
        RATE_UNIT
    } else {
        0
    }
}

/// Marks the unit word right after a masked number (a token that ends in
/// `<*>`: `<*>`, `(<*>`, `size=<*>`) with its kind: `12 GB` / `2 TB`, `(30.8
/// GB/28.6 GiB)` / `(1.00 TB/932 GiB)`, `in 250 ms` / `in 2 s`. Only a
/// plain word or a `unit/<*>` key; a word in brackets (`limit=<*> (KB)`) is
/// a label.
pub(super) fn mark_units<T: AsRef<str>>(tokens: &[T], flags: &mut [u8]) {
    for i in 1..tokens.len() {
        let f = flags[i];
        if (f & MASKED == 0 || f == MASKED | KEYED)
            && flags[i - 1] & MASKED != 0
            && tokens[i - 1].as_ref().ends_with(WILDCARD)
        {
            flags[i] |= unit_kind(tokens[i].as_ref());
        }
    }
    mark_prefixes(tokens, flags);
}

/// Marks a magnitude prefix printed apart from its unit, a letter between
/// a masked number and a unit of size or rate (`<*> K Bytes/second` /
/// `<*> M Bytes/second`, a backup job's transfer rate; `<*> M bytes`):
/// chosen by the value's magnitude as a unit word is, it takes the kind
/// of the unit after it, so two prefixes merge at once (session 27, round
/// 35).
fn mark_prefixes<T: AsRef<str>>(tokens: &[T], flags: &mut [u8]) {
    for i in 1..tokens.len().saturating_sub(1) {
        if matches!(tokens[i].as_ref(), "K" | "k" | "M" | "G" | "T")
            && flags[i - 1] & MASKED != 0
            && tokens[i - 1].as_ref().ends_with(WILDCARD)
        {
            flags[i] |= prefixed_unit_kind(tokens[i + 1].as_ref());
        }
    }
}

/// The kind of a unit printed after a prefix: a size (`bytes`, `B`), or a
/// size per time (`Bytes/second`, `B/s`), a rate; 0 otherwise.
fn prefixed_unit_kind(token: &str) -> u8 {
    let word = token.trim_end_matches([',', ';', '.', ')', ']', '}']);
    let (size, time) = match word.split_once('/') {
        Some((size, time)) => (size, Some(time)),
        None => (word, None),
    };
    if !SIZES.contains(&size) {
        return 0;
    }
    match time {
        None => SIZE_UNIT,
        Some(time) if TIMES.contains(&time) => RATE_UNIT,
        Some(_) => 0,
    }
}

/// Whether two differing tokens are units of one kind after a number.
#[inline]
pub(super) fn same_unit(a: u8, b: u8) -> bool {
    a & UNIT != 0 && a & UNIT == b & UNIT
}

#[cfg(test)]
mod tests {
    use super::super::flags::tokens_flags;
    use super::*;

    fn kinds(text: &str) -> Vec<u8> {
        let tokens: Vec<&str> = text.split(' ').collect();
        tokens_flags(&tokens).iter().map(|f| f & UNIT).collect()
    }

    #[test]
    fn a_unit_after_a_masked_number_has_its_kind() {
        assert_eq!(kinds("size <*> GB, free <*> bytes"), [0, 0, 32, 0, 0, 32]);
        assert_eq!(kinds("took <*> ms"), [0, 0, 64]);
        assert_eq!(kinds("took <*> seconds."), [0, 0, 64]);
        assert_eq!(kinds("freq=<*> MHz)"), [0, 96]);
        assert_eq!(kinds("blocks: (<*> GB/<*> GiB)"), [0, 0, 32, 32]);
        // Not after a word, not in brackets, not a word that is no unit.
        assert_eq!(kinds("size of GB"), [0, 0, 0]);
        assert_eq!(kinds("limit=<*> (KB)"), [0, 0]);
        assert_eq!(kinds("<*> blocks"), [0, 0]);
        assert_eq!(kinds("<*>, GB"), [0, 0]);
        // A magnitude prefix printed apart takes its unit's kind.
        assert_eq!(kinds("rate=<*> K Bytes/second"), [0, 96, 0]);
        assert_eq!(kinds("<*> M bytes"), [0, 32, 0]);
        assert_eq!(kinds("<*> M Bytes/blocks"), [0, 0, 0]);
        assert_eq!(kinds("Plan M Bytes/second"), [0, 0, 0]);
    }

    #[test]
    fn units_merge_with_units_of_their_kind_only() {
        assert!(same_unit(SIZE_UNIT, SIZE_UNIT | MASKED | KEYED));
        assert!(same_unit(RATE_UNIT, RATE_UNIT));
        assert!(!same_unit(SIZE_UNIT, TIME_UNIT));
        assert!(!same_unit(SIZE_UNIT, RATE_UNIT));
        assert!(!same_unit(0, 0));
    }
}
