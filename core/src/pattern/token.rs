//! Tokenisation and masking: a message becomes a sequence of tokens in which
//! the parts that are obviously variable are replaced by [`WILDCARD`].
//!
//! Tokens are the whitespace-separated words of the message. Punctuation that
//! frames a word (`(`, `[`, `{`, `<`, quotes; trailing `)`, `]`, `}`, `>`, `,`,
//! `;`, `:`, `.`, `!`, `?`) stays part of the token but is kept out of the
//! variable check, so `(uid=0),` masks to `(uid=<*>),` and `src:` stays `src:`.
//! A word before a `/` and a number stays (`hit/200` -> `hit/<*>`,
//! `TCP_MISS/404`, `HTTP/1.1`): it is a constant such as a result or a
//! protocol, the number is the value.
//! A quoted string (`"..."`, possibly over several words) is one token `"<*>"`.
//! A path whose names hold spaces is one token too (`paths.rs`).
//! Runs of bare `<*>` tokens collapse into one, so a variable that spans a
//! varying number of words (a date, a list of numbers) keeps the length stable.

/// The placeholder for a variable part of a message.
pub const WILDCARD: &str = "<*>";

use super::codes::coded_text;
use super::dn::continues_name;
use super::paths::path_words;
use super::status::status_phrase;

const LEADING: &[u8] = b"([{<\"'";
/// Closing punctuation after a word, kept out of its check.
pub(super) const TRAILING: &[u8] = b")]}>\"',;:.!?";
/// Longest quoted span (in words) collapsed into one token.
const MAX_QUOTED_WORDS: usize = 24;

const MONTHS: &[&str] = &[
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAYS: &[&str] = &["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// Masks `message` into `out`: tokens separated by single spaces. `spans`
/// receives the byte range of every token in `out`. Both are cleared first.
pub(crate) fn mask_into(message: &str, out: &mut String, spans: &mut Vec<(u32, u32)>) {
    out.clear();
    spans.clear();
    let mut words = WordIter { rest: message };
    // The previous word was a byte of a hex dump (`00`, `e2`, or a letter
    // pair after one): a run of two-digit hex words starting with a digit.
    let mut after_byte = false;
    let mut first = true;
    while let Some(word) = words.next() {
        let start = out.len();
        if !out.is_empty() {
            out.push(' ');
        }
        let token_start = out.len();
        // A word of letters only that is no variable (`letters_variable`)
        // nor a letter byte after a byte of a hex dump, the most common
        // word: the fast path below keeps it as it is, and none of the
        // checks after the branches (a bare `<*>`, a list's item) applies
        // to it, so its token is pushed at once. So is one with closing
        // punctuation (`failed,`): opening with a letter, it is no quote,
        // keyed quote nor path, and `mask_word` keeps it as it is.
        let b = word.as_bytes();
        let mut end = b.len();
        while end > 0 && TRAILING.contains(&b[end - 1]) {
            end -= 1;
        }
        let letters = letters_variable(&word[..end]);
        if end > 0 && letters == Some(false) && !(after_byte && is_hex_byte(word)) {
            out.push_str(word);
            spans.push((token_start as u32, out.len() as u32));
            first = false;
            after_byte = false;
            continue;
        }
        let letters = if end == b.len() { letters } else { None };
        // `["a",` / `('a',`: a quoted value opening a list in brackets.
        let pre = usize::from(
            matches!(word.as_bytes()[0], b'[' | b'(')
                && matches!(word.as_bytes().get(1), Some(b'"' | b'\'')),
        );
        let quote = word.as_bytes()[pre];
        // A quoted string that opens the message is the message text
        // (`"SyncLoop ADD" source="api"`), not a value: its words are
        // masked one by one.
        let at_start = std::mem::replace(&mut first, false);
        let opening = at_start && quote == b'"';
        let byte = is_hex_byte(word);
        let mut dump = byte && word.bytes().any(|c| c.is_ascii_digit());
        let quoted = !opening && (quote == b'"' || quote == b'\'');
        if byte && after_byte {
            // `ec` in `00 e2 ec 3c`: no digit, but a byte like its neighbours.
            out.push_str(WILDCARD);
            dump = true;
        } else if let Some(variable) = letters {
            // Fast path: a word of letters only opens with no quote,
            // bracket or backslash and holds no `=` or `/`, so none of the
            // branches below but the last applies (no keyed quote, no path
            // head); there `mask_word` gives `<*>` or the word (its own
            // fast path, no framing to set aside), never a `key=<*>`.
            out.push_str(if variable { WILDCARD } else { word });
        } else if at_start && is_program_tag(word) {
            // `pop3-login:` opening the message: the program's or
            // component's tag names the event's source; its digit makes no
            // value of it (`is_program_tag`).
            out.push_str(word);
        } else if quote == b'\\'
            && !at_start
            && let Some(inner) = word.strip_prefix("\\\"")
            && let Some((taken, tail)) = escaped_span_end(inner, &words)
        {
            // `\"LTO-7 Drive 1\"` in a message printed inside quotes
            // (logfmt's and logrus's `msg="..."`): an escaped quote frames a
            // value as a quote does elsewhere (session 19); one that opens
            // the message is its text, as a quote there is.
            for _ in 0..taken {
                words.next();
            }
            out.push_str("\\\"");
            out.push_str(WILDCARD);
            out.push_str(tail);
            dump = false;
        } else if quoted
            && word.len() > pre + 1
            && let Some(tail) = quote_end(&word[pre + 1..], quote)
        {
            // `"a",` -> `"<*>",`; in a list, `["a",` -> `[<*>,` (as a
            // list of several items collapses to).
            out.push_str(&word[..pre]);
            if pre == 0 {
                out.push(quote as char);
            }
            out.push_str(WILDCARD);
            out.push_str(if pre == 0 { tail } else { &tail[1..] });
            dump = false;
        } else if quoted {
            // A quoted span over several words: find its end.
            let mut ahead = words.clone();
            let mut taken = 0;
            let mut closing = None;
            while taken < MAX_QUOTED_WORDS {
                match ahead.next() {
                    Some(next) => {
                        taken += 1;
                        if let Some(tail) = quote_end(next, quote) {
                            // `'Logon failure (0xc000006d)'`: an error's
                            // text and its code keep their words (`codes.rs`).
                            closing = Some(tail).filter(|_| !coded_text(next, taken));
                            break;
                        }
                    }
                    None => break,
                }
            }
            if let Some(tail) = closing {
                for _ in 0..taken {
                    words.next();
                }
                out.push_str(&word[..pre]);
                if pre == 0 {
                    out.push(quote as char);
                }
                out.push_str(WILDCARD);
                out.push_str(if pre == 0 { tail } else { &tail[1..] });
                dump = false;
            } else {
                mask_word(word, out);
            }
        } else if let Some(eq) = open_keyed_quote(word)
            && let Some((taken, tail)) = quoted_span_end(&words, word.as_bytes()[eq + 1])
        {
            // `vehicle="Tesla Model 3"`: a quoted value of several words
            // is one value, masked as a quoted value of one word is.
            for _ in 0..taken {
                words.next();
            }
            if word.as_bytes()[eq] == b':' {
                // `Reason:"<*>"`: `mask_word` keeps a `name:value` of
                // letters.
                out.push_str(&word[..=eq + 1]);
                out.push_str(WILDCARD);
                out.push_str(tail);
            } else {
                let mut one = String::with_capacity(eq + 3 + tail.len());
                one.push_str(&word[..=eq + 1]);
                one.push('x');
                one.push_str(tail);
                mask_word(&one, out);
            }
        } else if let Some((lead, taken, tail)) = path_words(word, words.clone()) {
            // `/vmfs/volumes/<id>/Web Server 01/Web Server 01.vmx`: a path
            // whose names hold spaces is one value (session 20).
            for _ in 0..taken {
                words.next();
            }
            out.push_str(&word[..lead]);
            out.push_str(WILDCARD);
            out.push_str(tail);
        } else {
            mask_word(word, out);
            // `502 Bad Gateway`: a status code's reason phrase is the
            // code's (`status.rs`).
            if out.ends_with(WILDCARD)
                && let Some((taken, tail)) = status_phrase(word, words.clone())
            {
                for _ in 0..taken {
                    words.next();
                }
                out.push_str(tail);
            }
            // `error=dns failure retry=2`: the words up to the next key
            // are the value's (session 17). Looked for only after a
            // masked field, `key=<*>`, a 4-byte check.
            if out.ends_with("=<*>") {
                for _ in 0..unquoted_value_words(word, &words) {
                    words.next();
                }
            }
        }
        after_byte = dump;
        let token = &out[token_start..];
        // Collapse runs of bare wildcards.
        if token == WILDCARD
            && let Some(&(ps, pe)) = spans.last()
            && &out[ps as usize..pe as usize] == WILDCARD
        {
            out.truncate(start);
            continue;
        }
        // A list of values in braces separated by spaces (`{18 17 23}`)
        // is one variable whatever its length too: a masked value after a
        // bare `{<*>` joins it (session 18).
        if let Some(last) = spans.last_mut()
            && let Some(close) = spaced_list_item(&out[last.0 as usize..last.1 as usize], token)
        {
            let close = close.to_owned();
            out.truncate(last.1 as usize);
            out.push_str(&close);
            last.1 = out.len() as u32;
            continue;
        }
        // A list of values in brackets (`Set(a-1, b-2, c-3)`, `[1, 2]`,
        // `["a", "b"]`) is one variable whatever its length: a masked value
        // after `(<*>,` joins it.
        if let Some(close) = list_item(token)
            && let Some(last) = spans.last_mut()
            && let Some(keep) = list_open(&out[last.0 as usize..last.1 as usize])
        {
            let close = close.trim_start_matches(['"', '\'']).to_owned();
            out.truncate(last.0 as usize + keep);
            out.push_str(&close);
            last.1 = out.len() as u32;
            continue;
        }
        spans.push((token_start as u32, out.len() as u32));
    }
}

/// Longest unquoted value (in words after its first) read up to the next key.
const MAX_UNQUOTED_VALUE_WORDS: usize = 3;

/// How many words after `word`, a bare `key=value` field, continue its
/// value: in a bag of `key=value` fields a value printed without quotes
/// runs to the next key (`error=dns failure retry=2`, `thread=OkHttp
/// Dispatcher type=...`), so the words between two fields are the first
/// one's value, not constants around it. Only plain words (no `=`, quote
/// or framing punctuation: `key=v, then` ends the value at its comma) and
/// at most [`MAX_UNQUOTED_VALUE_WORDS`] of them, followed by a field; 0
/// otherwise (a value that ends the message is left as it is).
fn unquoted_value_words(word: &str, words: &WordIter<'_>) -> usize {
    let Some(eq) = field_key(word) else {
        return 0;
    };
    let value = &word.as_bytes()[eq + 1..];
    // Among lower-case keys an upper-case word is the event's name
    // (`conn=7 op=2 SRCH base=...`, `fd=12 ACCEPT from IP=...`), not a
    // word of the value before it; among upper-case keys it is a flag
    // like them (`ID=0 DF PROTO=TCP`, session 18).
    let lower_key = word.as_bytes()[..eq].iter().any(u8::is_ascii_lowercase);
    if value.is_empty() || LEADING.contains(&value[0]) || TRAILING.contains(&value[value.len() - 1])
    {
        return 0;
    }
    let mut ahead = words.clone();
    for taken in 0..=MAX_UNQUOTED_VALUE_WORDS {
        let Some(next) = ahead.next() else {
            return 0;
        };
        if next.contains('=') {
            // `uid=guest,ou=service accounts,dc=example`: the rest of a
            // distinguished name is the value's (`dn.rs`).
            return if field_key(next).is_some() {
                taken
            } else if continues_name(next) {
                taken + 1
            } else {
                0
            };
        }
        let b = next.as_bytes();
        if LEADING.contains(&b[0])
            || TRAILING.contains(&b[b.len() - 1])
            || (lower_key && b.len() > 1 && b.iter().all(|&c| c.is_ascii_uppercase() || c == b'_'))
        {
            return 0;
        }
    }
    0
}

/// The index of the `=` of a field `key=...` whose key is a plain name
/// that opens with a letter (`retry=`, `user_id=`, `http.status=`), not
/// logfmt's message (`msg=`, `message=`, the event's text).
fn field_key(word: &str) -> Option<usize> {
    let b = word.as_bytes();
    let eq = b.iter().position(|&c| c == b'=')?;
    let key = &word[..eq];
    (eq > 0
        && b[0].is_ascii_alphabetic()
        && key
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
        && key != "msg"
        && key != "message")
        .then_some(eq)
}

/// The index of the `=` of a `key="` that opens a quoted value not closed
/// in the same word (`vehicle="Tesla`), also as the first field in
/// brackets (`(SSID='Home`, wpa_supplicant's `(SSID='Home WiFi' freq=5180
/// MHz)`); logfmt's message (`msg=`, `message=`) is the event's text and
/// keeps its words.
fn open_keyed_quote(word: &str) -> Option<usize> {
    let b = word.as_bytes();
    // `Reason:"Half Target 60% Threshold"` (protobuf's text format, a
    // node's fee reason): a key before `:` and a quote as before `=`
    // (session 28, round 40).
    let eq = b.iter().position(|&c| c == b'=').or_else(|| {
        let colon = b.iter().position(|&c| c == b':')?;
        (b.get(colon + 1) == Some(&b'"')).then_some(colon)
    })?;
    let open = usize::from(matches!(b[0], b'(' | b'['));
    if eq <= open || !matches!(b.get(eq + 1), Some(b'"' | b'\'')) {
        return None;
    }
    let key = &word[open..eq];
    if key == "msg"
        || key == "message"
        || !key
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
        || quote_end(&word[eq + 2..], b[eq + 1]).is_some()
    {
        return None;
    }
    Some(eq)
}

/// The words taken up to the one that closes a quoted span, and what
/// follows its closing quote.
fn quoted_span_end<'a>(words: &WordIter<'a>, quote: u8) -> Option<(usize, &'a str)> {
    let mut ahead = words.clone();
    for taken in 1..=MAX_QUOTED_WORDS {
        let next = ahead.next()?;
        if let Some(tail) = quote_end(next, quote) {
            return Some((taken, tail));
        }
    }
    None
}

/// A masked list item (`<*>,`, `"<*>"]`, `<*>)`): what follows its `<*>`.
fn list_item(token: &str) -> Option<&str> {
    let rest = token.strip_prefix(['"', '\'']).unwrap_or(token);
    let close = rest.strip_prefix(WILDCARD)?;
    close
        .bytes()
        .all(|c| TRAILING.contains(&c))
        .then_some(close)
}

/// When `token` continues a list of values separated by spaces that
/// `open`, a brace and a masked value (`{<*>`), opens: what it adds to
/// `open` (nothing for a bare `<*>`, `}` for `<*>}` and what follows that
/// brace, `})`). Only braces: a value in square brackets or parentheses
/// may be a time of several words (`[22/Dec/2023:17:44:31 +0000]`), whose
/// words the header and the patterns around it count as they are.
fn spaced_list_item<'a>(open: &str, token: &'a str) -> Option<&'a str> {
    if open != "{<*>" {
        return None;
    }
    let rest = token.strip_prefix(WILDCARD)?;
    (rest.is_empty() || (rest.starts_with('}') && rest.bytes().all(|c| TRAILING.contains(&c))))
        .then_some(rest)
}

/// Whether a masked token ends an unfinished list in brackets: `(<*>,`,
/// `[<*>,`, `Set(<*>,`, `(<*>',` (a bare `<*>,` is one value of several,
/// as in `interface eth0, 10.0.0.1`). Returns the length up to its `<*>`.
fn list_open(token: &str) -> Option<usize> {
    let t = token.strip_suffix(',')?;
    let t = t.strip_suffix(['"', '\'']).unwrap_or(t);
    let key = t.strip_suffix(WILDCARD)?;
    let key_open = key.strip_suffix(['"', '\'']).unwrap_or(key);
    (key_open.ends_with(['(', '[', '{']) && !key.contains(WILDCARD)).then_some(t.len())
}

/// When `word` ends a quoted string, the closing quote and what follows it
/// (`bar",` -> `",`).
fn quote_end(word: &str, quote: u8) -> Option<&str> {
    let trimmed = word.trim_end_matches(|c: char| c.is_ascii() && b",;:.)]}".contains(&(c as u8)));
    // `\"` is an escaped quote inside the string, not its end.
    if trimmed.as_bytes().last() == Some(&quote) && !escaped(trimmed) {
        Some(&word[trimmed.len() - 1..])
    } else {
        None
    }
}

/// When a span opened by an escaped quote (`\"`) closes with one, within
/// [`MAX_QUOTED_WORDS`] words: the words taken after `inner` (the first
/// word without its `\"`) and the closing `\"` with what follows it.
fn escaped_span_end<'a>(inner: &'a str, words: &WordIter<'a>) -> Option<(usize, &'a str)> {
    if let Some(tail) = escaped_quote_end(inner) {
        return Some((0, tail));
    }
    let mut ahead = words.clone();
    for taken in 1..=MAX_QUOTED_WORDS {
        if let Some(tail) = escaped_quote_end(ahead.next()?) {
            return Some((taken, tail));
        }
    }
    None
}

/// When `word` ends with an escaped quote (`Dev\"`, `Dev\")."`), the
/// closing `\"` and what follows it.
fn escaped_quote_end(word: &str) -> Option<&str> {
    let trimmed =
        word.trim_end_matches(|c: char| c.is_ascii() && b",;:.)]}\"".contains(&(c as u8)));
    let end = word[trimmed.len()..].find('"').map(|i| trimmed.len() + i)?;
    (end == trimmed.len() && trimmed.ends_with('\\')).then(|| &word[trimmed.len() - 1..])
}

/// Whether the quote ending `trimmed` is escaped (`\\"`).
fn escaped(trimmed: &str) -> bool {
    let b = trimmed.as_bytes();
    b.len() >= 2 && b[b.len() - 2] == b'\\'
}

/// A word of exactly two hex digits (`00`, `e2`, `ff`): a byte of a dump.
fn is_hex_byte(word: &str) -> bool {
    let b = word.as_bytes();
    b.len() == 2 && b.iter().all(u8::is_ascii_hexdigit)
}

/// A tag of lower-case words joined by `-` that ends in `:`
/// (`pop3-login:`, `imap-login:`, `managed-keys-zone:`): every word opens
/// with a letter and holds letters and digits only. Opening a message it
/// names the program or component that printed the event, as a syslog
/// header's program does, so a digit inside one of its words (`pop3`)
/// makes no value of it; a host opening a message ends in a number
/// (`web-01:`, `node-114:`), a word that opens with a digit, and an
/// interface (`eth0:`) has no `-`.
pub(crate) fn is_program_tag(word: &str) -> bool {
    let b = word.as_bytes();
    b.len() >= 4
        && b[b.len() - 1] == b':'
        && b.contains(&b'-')
        && word[..b.len() - 1].split('-').all(|part| {
            part.as_bytes().first().is_some_and(u8::is_ascii_lowercase)
                && part
                    .bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

/// Whether the `key=` of a core follows values joined to it by `/` that
/// hold a digit (`TLSv1.2/ECDHE-RSA-AES256-GCM-SHA384/ECDH=X25519`: a
/// protocol, a cipher, then a field of the key exchange): the word is one
/// value, masked whole, not a key made of values (session 28, round 39).
fn values_before_key(core: &str, slash: Option<usize>, eq: usize) -> bool {
    slash.is_some_and(|s| s < eq) && core[..eq].bytes().any(|b| b.is_ascii_digit())
}

/// Appends the masked form of one word.
fn mask_word(word: &str, out: &mut String) {
    let bytes = word.as_bytes();
    let mut lead = 0;
    while lead < bytes.len() && LEADING.contains(&bytes[lead]) {
        lead += 1;
    }
    let mut end = bytes.len();
    while end > lead && TRAILING.contains(&bytes[end - 1]) {
        end -= 1;
    }
    let core = &word[lead..end];
    if core.is_empty() {
        out.push_str(word);
        return;
    }
    out.push_str(&word[..lead]);
    // Fast path: most words are letters only (`Receiving`, `block`,
    // `failed,` once framing is set aside). Every branch below but the
    // last needs a `=` or a `/` in the core, so such a core is masked
    // exactly when `is_variable` says so; `letters_variable` gives its
    // answer from one pass over the bytes.
    if let Some(variable) = letters_variable(core) {
        out.push_str(if variable { WILDCARD } else { core });
        out.push_str(&word[end..]);
        return;
    }
    // The first `=`, `/`, `:` and `(` that the rules below look for, found
    // in one pass (each scanned the core on its own; a key's `://` is
    // looked for only after a `:`); a core that opens with a digit needs
    // none (no key, word before a number, source file or name opens with
    // one).
    let marks = if core.as_bytes()[0].is_ascii_digit() {
        Marks::default()
    } else {
        Marks::of(core.as_bytes())
    };
    if let Some(rest) = core
        .strip_prefix("msg=")
        .or_else(|| core.strip_prefix("message="))
        .filter(|rest| !rest.is_empty())
    {
        // logfmt's message (`msg="Started x"`) is the text of the event,
        // not a value: its first word is masked as a word of its own.
        out.push_str(&core[..core.len() - rest.len()]);
        mask_word(rest, out);
    } else if !core.as_bytes()[0].is_ascii_digit()
        // (A key opens with no digit: `0x8007[gle=0x5]` is one value;
        // tested first, so numbers are not scanned for a `=`.)
        && let Some(eq) = marks.eq
        && eq > 0
        && !(marks.colon.is_some_and(|c| c < eq) && core[..eq].contains("://"))
        && !values_before_key(core, marks.slash, eq)
    {
        // (A URL's query, `https://h/a?id=7`, is no key: the URL is one
        // value, masked whole below.)
        // key=value: the key stays, a non-empty value is a variable. A
        // lower-case name glued before a bracketed key is a value too
        // (`by alice(uid=1000)`, session 15): `<*>(uid=<*>)`.
        let key = &core[..eq];
        match marks.paren.filter(|&open| open < eq) {
            Some(open)
                if open > 0
                    && key.as_bytes()[0].is_ascii_lowercase()
                    && key[..open].bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b)
                    }) =>
            {
                out.push_str(WILDCARD);
                out.push_str(&core[open..=eq]);
            }
            _ => out.push_str(&core[..=eq]),
        }
        if eq + 1 < core.len() {
            out.push_str(WILDCARD);
            // `subject="(private)",`: a quoted value runs to its closing
            // quote, so the `)` before it is the value's, as in
            // `subject="Dentist",` (session 19).
            if let Some(&quote) = core.as_bytes().get(eq + 1)
                && (quote == b'"' || quote == b'\'')
                && let Some(at) = word[end..].bytes().position(|c| c == quote)
            {
                end += at;
            }
        }
    } else if let Some(slash) = word_before_number(core, marks.slash) {
        // `word/number`: the word is a constant (`hit/200`, `TCP_MISS/404`,
        // `HTTP/1.1`, `DIRECT/10.0.0.1`), the number is a value.
        out.push_str(&core[..=slash]);
        out.push_str(WILDCARD);
    } else if let Some(colon) = source_file_len(core, marks.colon) {
        // A source location, `store.go:160`: the file is a constant key,
        // the line a value, a function after it (`:gf_defrag()`,
        // `(pcap_reload)`) a constant when it has no digit.
        out.push_str(&core[..=colon]);
        out.push_str(WILDCARD);
        let rest = core[colon + 1..].trim_start_matches(|c: char| c.is_ascii_digit());
        if !rest.bytes().any(|c| c.is_ascii_digit()) {
            out.push_str(rest);
        }
    } else if is_variable(core) {
        // `name:value`: the name stays.
        if let Some(colon) = marks.colon
            && colon >= 2
            && colon + 1 < core.len()
            && !core[colon..].starts_with("://")
            && !is_hex_address(core)
            && core[..colon]
                .bytes()
                .all(|b| b.is_ascii_alphabetic() || b == b'_')
        {
            out.push_str(&core[..=colon]);
        } else if !core.as_bytes()[0].is_ascii_digit()
            && let Some(open) = core.bytes().position(|c| c == b'{' || c == b'(')
            && open >= 2
            && open + 1 < core.len()
            && core[..open]
                .bytes()
                .all(|b| b.is_ascii_alphabetic() || b == b'_' || b == b'.' || b == b'$')
        {
            // `Name{value` / `call(value`: the name stays, so a value that
            // happens to have no digit (`ActivityRecord{cecedef`) is still
            // one token apart from its neighbours, not a different length.
            out.push_str(&core[..=open]);
        }
        out.push_str(WILDCARD);
    } else {
        out.push_str(core);
    }
    out.push_str(&word[end..]);
}

/// The first `=`, `/`, `:` and `(` of a core (`mask_word`'s rules).
#[derive(Default)]
struct Marks {
    eq: Option<usize>,
    slash: Option<usize>,
    colon: Option<usize>,
    paren: Option<usize>,
}

impl Marks {
    fn of(b: &[u8]) -> Marks {
        let mut marks = Marks::default();
        for (i, &c) in b.iter().enumerate() {
            let mark = match c {
                b'=' => &mut marks.eq,
                b'/' => &mut marks.slash,
                b':' => &mut marks.colon,
                b'(' => &mut marks.paren,
                _ => continue,
            };
            if mark.is_none() {
                *mark = Some(i);
            }
        }
        marks
    }
}

/// For a core of ASCII letters only (none empty): whether
/// [`is_variable`] takes it for a variable; `None` for any other core.
/// Equivalent because, with no digit, the two name checks of
/// `is_variable` fail (both need one), and its loop returns nothing (no
/// digit, backslash, `@`, `.` or `:`); what is left is its tail: a run of 8 or
/// more hex letters (`deadbeef`), a month or weekday, a boolean or null.
#[inline(always)]
fn letters_variable(core: &str) -> Option<bool> {
    let b = core.as_bytes();
    if !all_letters(b) {
        return None;
    }
    // The hex test only where it can decide: most words are shorter.
    let variable = (b.len() >= 8 && b.iter().all(u8::is_ascii_hexdigit))
        || match b.len() {
            3 if b[0].is_ascii_uppercase() => MONTHS.contains(&core) || WEEKDAYS.contains(&core),
            4 | 5 => matches!(
                core,
                "true" | "false" | "True" | "False" | "TRUE" | "FALSE" | "null" | "None"
            ),
            _ => false,
        };
    Some(variable)
}

/// Whether every byte of `b` is an ASCII letter, read eight bytes at a time
/// (every word of every message passes here): a word of 4 to 7 bytes as
/// its first and last four, a longer one by eights and its last eight
/// (the loads overlap). A byte is a letter when it is ASCII and `c | 0x20`
/// lies in `a..=z`, tested in every byte at once by two additions that
/// cannot carry into the next (ASCII bytes are below `0x80`).
fn all_letters(b: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = ONES * 0x80;
    let letters = |x: u64| {
        x & HIGH == 0 && {
            let y = x | (ONES * 0x20);
            let from_a = y + ONES * (0x80 - u64::from(b'a'));
            let past_z = y + ONES * (0x80 - u64::from(b'z') - 1);
            from_a & !past_z & HIGH == HIGH
        }
    };
    let four = |at: usize| {
        let mut w = [0; 4];
        w.copy_from_slice(&b[at..at + 4]);
        u64::from(u32::from_le_bytes(w))
    };
    let eight = |at: usize| {
        let mut w = [0; 8];
        w.copy_from_slice(&b[at..at + 8]);
        u64::from_le_bytes(w)
    };
    match b.len() {
        0..=3 => b.iter().all(u8::is_ascii_alphabetic),
        4..=7 => letters(four(0) | four(b.len() - 4) << 32),
        n => (0..n / 8).all(|k| letters(eight(8 * k))) && letters(eight(n - 8)),
    }
}

/// A MAC or IPv6 address (`ef:4f:51:af:a0:18`, `fe80::1`): hex digits
/// and two or more `:`. Its first group may be letters only (`ef:`), which
/// must not read as the name of a `name:value`.
fn is_hex_address(core: &str) -> bool {
    core.bytes().filter(|&c| c == b':').count() >= 2
        && core.bytes().all(|c| c == b':' || c.is_ascii_hexdigit())
}

/// `word` without the closing punctuation after it (`Found)` -> `Found`,
/// `/var/log/app.log,` -> `/var/log/app.log`): the [`TRAILING`] bytes
/// masking keeps out of a word's check.
pub(super) fn without_trailing(word: &str) -> &str {
    word.trim_end_matches(|c: char| c.is_ascii() && TRAILING.contains(&(c as u8)))
}

/// The extensions of source files, as in a source location.
const SOURCE_EXTS: &[&str] = &[
    "c", "cc", "cpp", "cxx", "h", "hh", "hpp", "go", "py", "java", "kt", "scala", "rs", "js", "ts",
    "rb", "php", "cs", "swift", "m", "mm", "pl", "lua", "erl", "ex",
];

/// A source location as loggers print the statement that wrote the line:
/// `file.ext:line` (glog-like and Go `log.Lshortfile` callers, `store.go:160`;
/// log4j's `%F:%L`, `Memtable.java:412`; C daemons' `__FILE__:__LINE__`,
/// `bsock.c:612`), also with directories or a function after it
/// (`db/db_impl_write.cc:1431`, `client.c:1150:ptlrpc_expire()`). The
/// position of its `:` when the core opens with a source file name (a
/// source-code extension) followed by `:` and a digit. The file stays, as
/// the name of a `name:value` does (`store.go:<*>`): masked whole, the
/// locations of two statements read as one value, and two short messages
/// that differ in a name besides (`GetObjectHandler` / `PutObjectHandler`)
/// merged. A location is still a masked token, so one message printed from
/// several callers (a logger's caller field) still merges. `colon` is the
/// core's first `:` ([`Marks`]).
fn source_file_len(core: &str, colon: Option<usize>) -> Option<usize> {
    let b = core.as_bytes();
    // Byte checks first, as `is_source_file` would fail them: this runs on
    // every word with a digit or punctuation that reaches it (numbers,
    // addresses), and the shortest location, `a.c:1`, has 5 bytes and
    // opens with a letter or `_`.
    if b.len() < 5 || !(b[0].is_ascii_alphabetic() || b[0] == b'_') {
        return None;
    }
    let colon = colon?;
    (b.get(colon + 1).is_some_and(u8::is_ascii_digit) && is_source_file(&core[..colon]))
        .then_some(colon)
}

/// A source file name (`store.go`, `db/db_impl_write.cc`): letters, digits,
/// `_ - . /`, opening with a letter (a path from the root or from `..`,
/// `/etc/app/auth.lua:12`, is a value), a letter before a source-code
/// extension.
fn is_source_file(name: &str) -> bool {
    name.bytes()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
        && name.rsplit_once('.').is_some_and(|(stem, ext)| {
            SOURCE_EXTS.contains(&ext)
                && stem
                    .bytes()
                    .last()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
                && stem.bytes().any(|c| c.is_ascii_alphabetic())
                && stem
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || b"_-./".contains(&c))
        })
}

/// The position of the `/` in `word/number` (`hit/200`, `TCP_MISS/404`,
/// `HTTP/1.1`, `HIER_DIRECT/10.0.0.1`): a word of two or more letters (`_`
/// and `-` inside), a `/`, then a digit. After a word with a lower-case
/// letter the value must be a number (digits, at most one `.`): a lower-case
/// word before an address (`alice/203.0.113.5:51234`, a VPN client's name
/// and address) is one value, an identity, not a constant key before one.
/// `slash` is the core's first `/` ([`Marks`]).
fn word_before_number(core: &str, slash: Option<usize>) -> Option<usize> {
    let b = core.as_bytes();
    // Byte checks first, as below (a word of two letters, `/`, a digit):
    // numbers, the most common core here, leave without a scan.
    if b.len() < 4 || !b[0].is_ascii_alphabetic() {
        return None;
    }
    let slash = slash?;
    let word = &b[..slash];
    let value = &b[slash + 1..];
    let number = value.iter().all(|&c| c.is_ascii_digit() || c == b'.')
        && value.iter().filter(|&&c| c == b'.').count() <= 1;
    (slash >= 2
        && b[0].is_ascii_alphabetic()
        && word
            .iter()
            .all(|&c| c.is_ascii_alphabetic() || c == b'_' || c == b'-')
        && value.first().is_some_and(u8::is_ascii_digit)
        && (number || !word.iter().any(u8::is_ascii_lowercase)))
    .then_some(slash)
}

/// Whether a word (without framing punctuation) is a variable on its own:
/// numbers, ids with digits, IPs, hex, paths, URLs, e-mail addresses, UUIDs,
/// durations and sizes with units, dates and times, booleans.
pub(crate) fn is_variable(core: &str) -> bool {
    // One pass over the bytes: this runs on every word of every message.
    let b = core.as_bytes();
    if is_upper_name_with_number(b) || is_name_with_small_number(b) {
        return false;
    }
    let mut hex = true;
    let mut at = false;
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'0'..=b'9' | b'\\' => return true,
            b'@' if i > 0 => at = true,
            b'.' if at => return true,
            b':' if b[i + 1..].starts_with(b"//") => return true,
            _ => {}
        }
        hex &= c.is_ascii_hexdigit();
    }
    if (b[0] == b'/' && b.len() > 1 && b[1] != b'/') || (hex && b.len() >= 8) {
        return true;
    }
    match b.len() {
        3 if b[0].is_ascii_uppercase() => MONTHS.contains(&core) || WEEKDAYS.contains(&core),
        4 | 5 => matches!(
            core,
            "true" | "false" | "True" | "False" | "TRUE" | "FALSE" | "null" | "None"
        ),
        _ => false,
    }
}

/// An upper-case name ending in a short number (`SOCKS5`, `MD5`, `SHA256`,
/// `HTTP2`): a constant, not a numeric variable.
fn is_upper_name_with_number(b: &[u8]) -> bool {
    let letters = b.iter().take_while(|c| c.is_ascii_uppercase()).count();
    let digits = b.len() - letters;
    letters >= 2 && (1..=3).contains(&digits) && b[letters..].iter().all(u8::is_ascii_digit)
}

/// A mixed-case word of letters with a small number in it (`IPv6LL`,
/// `DHCPv4`, `TLSv1`, `Vlan10`): a protocol or interface name, often a
/// constant. It is not masked but taken as a name: two such names in one
/// position are values of one variable, a name and a word of prose are not.
/// Lower-case ones (`eth0`, `sda1`, `ext4`, `user42`) are ids and stay
/// masked.
fn is_name_with_small_number(b: &[u8]) -> bool {
    // Longer words of mixed case and digits are ids (base64, keys).
    if !(3..=16).contains(&b.len()) || !b[0].is_ascii_alphabetic() {
        return false;
    }
    let (mut digits, mut upper, mut lower) = (0, 0, 0);
    for &c in b {
        match c {
            b'0'..=b'9' => digits += 1,
            b'A'..=b'Z' => upper += 1,
            b'a'..=b'z' => lower += 1,
            _ => return false,
        }
    }
    (1..=3).contains(&digits) && upper >= 1 && lower >= 1
}

/// The range of a token without its framing punctuation ([`LEADING`] before,
/// [`TRAILING`] after; ASCII, so the bounds are character boundaries).
fn unframed(b: &[u8]) -> (usize, usize) {
    let mut lead = 0;
    while lead < b.len() && LEADING.contains(&b[lead]) {
        lead += 1;
    }
    let mut end = b.len();
    while end > lead && TRAILING.contains(&b[end - 1]) {
        end -= 1;
    }
    (lead, end)
}

/// Whether a token that is not masked still looks like a name rather than a
/// word of prose: it has inner punctuation (`nginx.service`, `www-data`,
/// `com.foo.Bar`, `a_b`), mixed case after the first letter (`camelCase`),
/// or it is an upper-case constant (`RUNNING`).
/// Two such tokens differing in one position are most likely values of one
/// variable.
pub(crate) fn looks_like_name(token: &str) -> bool {
    let b = token.as_bytes();
    let (lead, end) = unframed(b);
    let core = &b[lead..end];
    // `msg="Started`: logfmt's message text, kept whole, is prose.
    if core.len() < 2 || core.contains(&b'=') {
        return false;
    }
    let inner = &core[1..core.len() - 1];
    if inner
        .iter()
        .any(|c| matches!(c, b'.' | b'_' | b'-' | b'/' | b':' | b'@' | b'$' | b'#'))
    {
        return true;
    }
    // camelCase, or an upper-case constant name (`RUNNING`, `CAP_CHANGED`).
    (core[1..].iter().any(u8::is_ascii_uppercase) && core.iter().any(u8::is_ascii_lowercase))
        || core.iter().all(|c| c.is_ascii_uppercase() || *c == b'_')
        || is_upper_name_with_number(core)
        || is_name_with_small_number(core)
}

/// Lower-case words that are values of a state or protocol field rather
/// than words of prose: on/off switches (`changed state to up`, `link down`,
/// `Write cache: enabled`, `Reboot required: no`) and transport protocols
/// (`denied tcp`, `udp`), and the two sides of a connection or a sync
/// (`keeping local` / `remote`, session 24, round 24) and two sizes of
/// one kind (`Completed minor` / `major compaction`). Like `true` /
/// `false`, two of them in one position
/// are two values of one variable; unlike those they are not masked, so a
/// template whose value never varies keeps its word. Upper-case ones are
/// names already ([`looks_like_name`]); capitalised ones (`On`, `Disabled`)
/// are state values too.
const STATE_VALUES: &[&str] = &[
    "up", "down", "on", "off", "yes", "no", "enabled", "disabled", "online", "offline", "tcp",
    "udp", "icmp", "sctp", "local", "remote", "minor", "major",
];

/// Whether a token (framing punctuation aside) is one of [`STATE_VALUES`].
pub(crate) fn is_state_value(token: &str) -> bool {
    let (lead, end) = unframed(token.as_bytes());
    if !(2..=8).contains(&(end - lead)) {
        return false;
    }
    let word = &token[lead..end];
    // Also capitalised, as prose prints them (`scanner Powered On`).
    let title = word.as_bytes()[0].is_ascii_uppercase()
        && word.as_bytes()[1..].iter().all(u8::is_ascii_lowercase);
    STATE_VALUES
        .iter()
        .any(|v| *v == word || (title && v.eq_ignore_ascii_case(word)))
}

/// Whitespace-separated words.
#[derive(Clone)]
struct WordIter<'a> {
    rest: &'a str,
}

impl<'a> Iterator for WordIter<'a> {
    type Item = &'a str;

    #[inline(always)]
    fn next(&mut self) -> Option<&'a str> {
        let b = self.rest.as_bytes();
        let start = b
            .iter()
            .position(|c| !c.is_ascii_whitespace())
            .unwrap_or(b.len());
        let len = word_len(&b[start..]);
        // Both ends are at ASCII bytes, so they are char boundaries.
        let (word, rest) = self.rest[start..].split_at(len);
        self.rest = rest;
        (!word.is_empty()).then_some(word)
    }
}

/// The length of the word that opens `b`: the bytes before its first
/// ASCII whitespace, all of `b` when it has none. Read eight bytes at a
/// time (every word of every message passes here, a byte loop was a
/// seventh of the warm pass): one subtraction flags the bytes below `!`,
/// the whitespace among them (`\t`, `\n`, `\x0c`, `\r`, the space); the
/// lowest flag is exact (a borrow only runs upwards, from a flagged
/// byte), and a control byte that is no whitespace sends the rest to the
/// byte loop.
fn word_len(b: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut i = 0;
    while let Some(chunk) = b.get(i..i + 8)
        && let Ok(eight) = <[u8; 8]>::try_from(chunk)
    {
        let x = u64::from_le_bytes(eight);
        let low = x.wrapping_sub(ONES * u64::from(b'!')) & !x & HIGH;
        if low != 0 {
            let at = i + (low.trailing_zeros() / 8) as usize;
            if b[at].is_ascii_whitespace() {
                return at;
            }
            i = at + 1;
            break;
        }
        i += 8;
    }
    b[i..]
        .iter()
        .position(u8::is_ascii_whitespace)
        .map_or(b.len(), |k| i + k)
}

#[cfg(test)]
#[path = "token_tests.rs"]
mod tests;
