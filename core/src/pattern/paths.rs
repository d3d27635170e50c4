//! A path whose names hold spaces (session 20).
//!
//! A virtual machine's `.vmx` under a datastore, a database file on
//! Windows: `/vmfs/volumes/<id>/Web Server 01/Web Server 01.vmx`,
//! `[D:\Data\Sales Archive.mdf]`. Cut at whitespace, such a path is a
//! masked head and words without a digit (`Server`, `Archive.mdf]`), which
//! split one template by the names a sample draws. Here a path that is
//! not closed by punctuation takes the words after it that continue it:
//! names that open with a capital or a digit, up to the last that holds
//! a separator (`01/Web`) or ends in a file's extension (`Archive.mdf`).
//! A lower-case word, a `key=value` or any other punctuation ends it, so
//! `/var/log/messages Started Session 3 of user root.` keeps its words.

use super::token::{TRAILING, without_trailing};

/// Most words after a path's head taken as its own.
const MAX_PATH_WORDS: usize = 6;

/// Whether `word` opens a path that may go on after a space: `/a/b` or
/// `C:\a`, after `[` or `(`, with no punctuation after it; and the length
/// of its opening brackets.
fn path_head(word: &str) -> Option<usize> {
    // A byte check first: this runs on every word that masking reaches.
    let lead = word
        .bytes()
        .take_while(|b| matches!(b, b'[' | b'('))
        .count();
    let core = &word.as_bytes()[lead..];
    let unix = core.len() > 2 && core[0] == b'/' && core[1] != b'/';
    let windows = core.len() > 3 && core[1..3] == *b":\\" && core[0].is_ascii_alphabetic();
    if !(unix || windows) || core.last().is_some_and(|b| TRAILING.contains(b)) {
        return None;
    }
    let plain = core
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || b"/\\:._-'".contains(&b));
    (plain && (windows || core[1..].contains(&b'/'))).then_some(lead)
}

/// Whether a name (punctuation after it removed) continues a path: it
/// holds a separator, or ends in an extension that opens with a letter
/// (`Archive.mdf`, not the `1.2` of a version).
fn path_piece(name: &str) -> bool {
    if name.contains(['/', '\\']) {
        return true;
    }
    name.rsplit_once('.').is_some_and(|(stem, ext)| {
        !stem.is_empty()
            && (1..=5).contains(&ext.len())
            && ext.as_bytes()[0].is_ascii_alphabetic()
            && ext.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

/// When `word` opens a path whose names hold spaces, the opening brackets
/// to keep, the number of the following words (`ahead`) that are the
/// path's, and the punctuation after its last (`]`).
pub(super) fn path_words<'a>(
    word: &str,
    ahead: impl Iterator<Item = &'a str>,
) -> Option<(usize, usize, &'a str)> {
    let lead = path_head(word)?;
    let mut best = None;
    for (k, next) in ahead.take(MAX_PATH_WORDS).enumerate() {
        let name = without_trailing(next);
        let tail = &next[name.len()..];
        let plain = name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/\\._-'".contains(&b));
        let opens = name
            .as_bytes()
            .first()
            .is_some_and(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if !plain || !opens {
            break;
        }
        if path_piece(name) {
            best = Some((lead, k + 1, tail));
        }
        if !tail.is_empty() {
            break;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::super::token::mask_into;

    fn mask(s: &str) -> String {
        let (mut out, mut spans) = (String::new(), Vec::new());
        mask_into(s, &mut out, &mut spans);
        out
    }

    #[test]
    fn a_path_whose_names_hold_spaces_is_one_value() {
        assert_eq!(
            mask("Vm /vmfs/volumes/5f1e-2a/Web Server 01/Web Server 01.vmx curPowerState=on"),
            "Vm <*> curPowerState=<*>"
        );
        assert_eq!(
            mask("Failed to get vm config for /vmfs/volumes/ds1/SQL Prod/SQL Prod.vmx"),
            "Failed to get vm config for <*>"
        );
        assert_eq!(
            mask(r"complete on file [D:\MSSQL\Data\Sales Archive.mdf] in database id 7."),
            "complete on file [<*>] in database id <*>."
        );
        assert_eq!(
            mask(r"complete on file [D:\MSSQL\Data\tempdb.mdf] in database id 7."),
            "complete on file [<*>] in database id <*>."
        );
    }

    #[test]
    fn words_after_a_path_stay_words() {
        // Capitalised words with no separator or extension after them.
        assert_eq!(
            mask("/var/log/messages Started Session 3 of user root."),
            "<*> Started Session <*> of user root."
        );
        // A version is no extension; a lower-case word ends the path.
        assert_eq!(mask("/usr/bin/app Version 1.2.3"), "<*> Version <*>");
        assert_eq!(
            mask("/srv/my files/report.txt removed"),
            "<*> files/report.txt removed"
        );
        // A path closed by punctuation takes nothing.
        assert_eq!(
            mask("opened /a/b, Next Step/Done"),
            "opened <*>, Next Step/Done"
        );
    }
}
