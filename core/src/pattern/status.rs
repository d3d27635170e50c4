//! An HTTP status told with its reason phrase (session 25, round 28).
//!
//! Web servers, proxies, API clients and frameworks print a response's
//! status as the code and its standard reason phrase: `502 Bad Gateway`,
//! `Completed 404 Not Found in 3ms`, `<-- 200 OK https://...`, `(403
//! Forbidden)`. The code is masked as a number, but the phrase is words
//! of one to four tokens, so one template split by the phrases a sample
//! drew (`> <*> Bad Gateway error=<*>` / `> <*> Gateway Timeout
//! error=<*>`), and the run step needs constant words on both sides that
//! such a line may lack. The phrase belongs to the code (RFC 9110 names
//! one per code): here the words after a three-digit code that are
//! exactly its phrase are taken with it, so the status is one value.
//! Only the code's own phrase is taken (`302 Found`, not `200 Found`),
//! so a number before other words (`200 files`) is left as it is.

use super::token::without_trailing;

/// The standard reason phrases (RFC 9110 and the registered extensions,
/// with nginx's 499), by code.
const PHRASES: &[(u16, &str)] = &[
    (100, "Continue"),
    (101, "Switching Protocols"),
    (200, "OK"),
    (201, "Created"),
    (202, "Accepted"),
    (203, "Non-Authoritative Information"),
    (204, "No Content"),
    (205, "Reset Content"),
    (206, "Partial Content"),
    (207, "Multi-Status"),
    (300, "Multiple Choices"),
    (301, "Moved Permanently"),
    (302, "Found"),
    (303, "See Other"),
    (304, "Not Modified"),
    (307, "Temporary Redirect"),
    (308, "Permanent Redirect"),
    (400, "Bad Request"),
    (401, "Unauthorized"),
    (402, "Payment Required"),
    (403, "Forbidden"),
    (404, "Not Found"),
    (405, "Method Not Allowed"),
    (406, "Not Acceptable"),
    (407, "Proxy Authentication Required"),
    (408, "Request Timeout"),
    (409, "Conflict"),
    (410, "Gone"),
    (411, "Length Required"),
    (412, "Precondition Failed"),
    (413, "Payload Too Large"),
    (413, "Request Entity Too Large"),
    (414, "URI Too Long"),
    (415, "Unsupported Media Type"),
    (416, "Range Not Satisfiable"),
    (417, "Expectation Failed"),
    (421, "Misdirected Request"),
    (422, "Unprocessable Entity"),
    (422, "Unprocessable Content"),
    (423, "Locked"),
    (424, "Failed Dependency"),
    (425, "Too Early"),
    (426, "Upgrade Required"),
    (428, "Precondition Required"),
    (429, "Too Many Requests"),
    (431, "Request Header Fields Too Large"),
    (451, "Unavailable For Legal Reasons"),
    (499, "Client Closed Request"),
    (500, "Internal Server Error"),
    (501, "Not Implemented"),
    (502, "Bad Gateway"),
    (503, "Service Unavailable"),
    (504, "Gateway Timeout"),
    (505, "HTTP Version Not Supported"),
    (507, "Insufficient Storage"),
    (511, "Network Authentication Required"),
];

/// When `word` is an HTTP status code (three digits, 100-599, perhaps
/// after an opening bracket, with nothing after it) and the words `ahead`
/// are its reason phrase: how many words the phrase takes and the
/// punctuation after its last word (`)` in `(404 Not Found)`).
pub(super) fn status_phrase<'a>(
    word: &str,
    ahead: impl Iterator<Item = &'a str> + Clone,
) -> Option<(usize, &'a str)> {
    // A byte check first: this runs on every masked word. (The brackets
    // are skipped by bytes: `trim_start_matches` decodes chars.)
    let b = word.as_bytes();
    let code = &b[b.iter().take_while(|&&c| c == b'(' || c == b'[').count()..];
    if code.len() != 3 || !(b'1'..=b'5').contains(&code[0]) || !code.iter().all(u8::is_ascii_digit)
    {
        return None;
    }
    let code = u16::from(code[0] - b'0') * 100
        + u16::from(code[1] - b'0') * 10
        + u16::from(code[2] - b'0');
    PHRASES
        .iter()
        .filter(|(c, _)| *c == code)
        .find_map(|(_, phrase)| phrase_ahead(phrase, ahead.clone()))
}

/// Whether the words `ahead` open with `phrase`, its last word perhaps
/// followed by closing punctuation: how many words and that punctuation.
fn phrase_ahead<'a>(
    phrase: &str,
    mut ahead: impl Iterator<Item = &'a str>,
) -> Option<(usize, &'a str)> {
    let mut parts = phrase.split(' ').peekable();
    let mut taken = 0;
    while let Some(part) = parts.next() {
        let next = ahead.next()?;
        taken += 1;
        if parts.peek().is_some() {
            if next != part {
                return None;
            }
        } else {
            let name = without_trailing(next);
            if name != part {
                return None;
            }
            return Some((taken, &next[name.len()..]));
        }
    }
    None
}
