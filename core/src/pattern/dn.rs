//! A distinguished name whose value holds a space (session 28, round 40).
//!
//! An LDAP DN or a certificate's subject is one value: a comma-joined list
//! of `key=value` parts (`uid=jdoe,ou=people,dc=example,dc=com`,
//! `CN=web01,O=Acme`). Printed without quotes, a part's value of several
//! words cuts it at whitespace: `uid=guest,ou=service accounts,dc=example`
//! is the field `uid=<*>` and a word `accounts,dc=example`, whose key
//! (`accounts,dc`) is no plain name, so the value stopped there and the
//! template split by the names a sample draws (`Bind with uid=<*> to` /
//! `Bind with uid=<*> accounts,dc=<*> to`). A word that opens with the
//! rest of a part's value and goes on with `,key=` is the rest of the
//! name: the value runs through it.

/// Whether `word` continues a DN cut at a space: the end of a part's value
/// (letters, digits, `-`, `_`, `.`), a `,` and a key of letters (`ou`,
/// `dc`, `O`) with its `=` (`accounts,dc=example,dc=com`, `Smith,OU=Sales`),
/// no closing punctuation after it (the value's words are dropped from
/// the masked text, as a field's plain words are).
pub(super) fn continues_name(word: &str) -> bool {
    let b = word.as_bytes();
    if b.last().is_none_or(|c| super::token::TRAILING.contains(c)) {
        return false;
    }
    let Some(eq) = b.iter().position(|&c| c == b'=') else {
        return false;
    };
    let Some(comma) = b[..eq].iter().rposition(|&c| c == b',') else {
        return false;
    };
    comma > 0
        && eq > comma + 1
        && b[..comma]
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        && b[comma + 1..eq].iter().all(u8::is_ascii_alphabetic)
}
