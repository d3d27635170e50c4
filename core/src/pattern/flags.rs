//! What the miner knows of a token besides its text: flags computed once
//! per token, and which differing tokens may be values of one variable.

use super::hash_bytes;
use super::token::{WILDCARD, is_program_tag, is_state_value, looks_like_name};
use super::units::{mark_units, same_unit};

/// A token holds a masked variable.
pub(super) const MASKED: u8 = 1;
/// A token looks like a name ([`looks_like_name`]).
pub(super) const NAME: u8 = 2;
/// A token is exactly `<*>`.
pub(super) const WILD: u8 = 4;
/// A masked token is `key=<*>` or `word/<*>`: its key is constant, so it is told apart
/// from a token with another key or from a plain word.
pub(super) const KEYED: u8 = 8;
/// A plain word that is a value of a state or protocol field (`up`,
/// `disabled`, `udp`: [`is_state_value`]).
pub(super) const STATE: u8 = 16;

/// Whether two differing tokens (by their flags) may be values of one
/// variable: one side holds a masked variable that is not a `key=` value,
/// both sides look like names, or both are state values (`up` / `down`),
/// or units of one kind after a number (`GB` / `TB`, `ms` / `s`).
#[inline]
pub(super) fn variable_like(a: u8, b: u8) -> bool {
    let open = |f: u8| f & MASKED != 0 && f & KEYED == 0;
    open(a) || open(b) || a & b & (NAME | STATE) != 0 || same_unit(a, b)
}

/// The keys of tokens (64-bit hashes: equal keys are taken as equal tokens).
pub(super) fn token_keys<T: AsRef<str>>(tokens: &[T]) -> Vec<u64> {
    tokens
        .iter()
        .map(|t| hash_bytes(t.as_ref().as_bytes()))
        .collect()
}

/// [`token_flags`] of each token of a message, then rules that read a
/// token's place or neighbour:
/// - a plain lower-case word that follows a field label (`check:`,
///   `parallelism:`) and ends the field (a `,`, `;` or `)` after it, or the
///   end of the message) is that field's value, as a state value is:
///   `check: reachable,` / `check: unreachable,`;
/// - an upper-case word of letters that opens the message (`DHCPOFFER on
///   ...`, `DHCPACK on ...`), or an upper-case tag of words joined by `_`
///   that ends in `:` (`SNMP_TRAP_LINK_DOWN:`, session 22; also after a
///   first `label:`, `mib2d[1234]: SNMP_TRAP_LINK_DOWN:`), is its message
///   type, the verb of the event; so is a lower-case tag of words joined
///   by `-` that ends in `:` (`imap-login:`, `pop3-login:`: the program or
///   component that printed it, session 27, round 37),
///   and an upper-case word of letters right after a capitalised word (`Link
///   UP`, `"SyncLoop ADD"`, `[UFW BLOCK]`) is the second word of the event's
///   name, no name that merges at once: a state field's upper-case value
///   follows lower-case words (`is now DOWN`, `transition to PRIMARY`) or a
///   label (`password: YES`). It still becomes a variable by siblings
///   (`Started GET` / `POST` / `PATCH`);
/// - a capitalised camelCase word of letters that ends in `:` right after
///   a label and before more words (`serf: EventMemberJoin: web-1 ...`,
///   `serf: EventMemberLeave: ...`) labels what follows under the
///   component's label: it names the event, no value that merges at once.
///   After a value (`<*>) DataStore: The database ...`) it may be an
///   instance's name, so it stays one there. It too still becomes a
///   variable by siblings;
/// - a name right before a lone `:` (`Request-URI     :  /index.html`) is
///   a padded field's label, its key, no name that merges at once (it
///   still becomes a variable by siblings).
pub(super) fn tokens_flags<T: AsRef<str>>(tokens: &[T]) -> Vec<u8> {
    let mut flags: Vec<u8> = tokens.iter().map(|t| token_flags(t.as_ref())).collect();
    if let Some(first) = tokens.first()
        && flags[0] == NAME
        && (is_upper_word(first.as_ref())
            || is_event_tag(first.as_ref())
            || is_program_tag(first.as_ref()))
    {
        flags[0] = 0;
    }
    // A tag after the program's or a logger's label that opens the
    // message (`rpd[1234]: BGP_IO_ERROR_CLOSE_SESSION:`, where no syslog
    // header took the program away) names the event as well.
    if tokens.len() > 1
        && flags[1] == NAME
        && tokens[0].as_ref().ends_with(':')
        && is_event_tag(tokens[1].as_ref())
    {
        flags[1] = 0;
    }
    mark_opening_type(tokens, &mut flags);
    for i in 1..tokens.len() {
        // A field's value with an inner `-` (`to: keep-alive`) looks like
        // a name: it is a state value as well, so it merges with a plain
        // one (`to: close`, session 24, round 24).
        if (flags[i] == 0 || flags[i] == NAME)
            && is_field_label(tokens[i - 1].as_ref())
            && is_field_value(tokens[i].as_ref(), i + 1 == tokens.len())
        {
            flags[i] |= STATE;
        }
        if flags[i] == NAME
            && i + 1 < tokens.len()
            && is_camel_label(tokens[i].as_ref())
            && is_field_label(tokens[i - 1].as_ref())
        {
            flags[i] = 0;
        }
        if flags[i] == NAME
            && flags[i - 1] & MASKED == 0
            && is_upper_word(tokens[i].as_ref())
            && is_capital_word(tokens[i - 1].as_ref())
        {
            flags[i] = 0;
        }
    }
    // A name right before a lone `:` is the label of a padded field
    // (`Request-URI     :  /index.html`, `URI-scheme      :  http`): the
    // field's key, no value that merges at once (session 23, round 20).
    for i in 0..tokens.len().saturating_sub(1) {
        if flags[i] == NAME && tokens[i + 1].as_ref() == ":" {
            flags[i] = 0;
        }
    }
    // A word right after a lone `=` or `:` between a key and its value
    // (`Disposition = Detect,`, `URI-scheme      :  https`) is the value
    // of a padded field: a state value that merges at once (session 24,
    // round 24).
    for i in 2..tokens.len() {
        if (flags[i] == 0 || flags[i] == NAME)
            && matches!(tokens[i - 1].as_ref(), "=" | ":")
            && flags[i - 2] & MASKED == 0
            && is_padded_value(tokens[i].as_ref())
        {
            flags[i] |= STATE;
        }
    }
    // A word right after `state to`, `status is` or `mode is` (`setting
    // node state to admindown`, `status is Pending job=...`) is the state
    // the noun names: a state value that merges at once (session 24,
    // round 24).
    for i in 2..tokens.len() {
        if (flags[i] == 0 || flags[i] == NAME)
            && matches!(tokens[i - 2].as_ref(), "state" | "status" | "mode")
            && matches!(tokens[i - 1].as_ref(), "to" | "is")
            && is_padded_value(tokens[i].as_ref().trim_end_matches('.'))
        {
            flags[i] |= STATE;
        }
    }
    mark_mode_value(tokens, &mut flags);
    mark_change_values(tokens, &mut flags);
    // A word right after a preposition and a lower-case noun (`in context
    // default`, `for user root by`, `in mailbox INBOX`), ending the
    // message or before another preposition, names which one: the noun's
    // value, a state value that merges at once (session 24, round 24). A
    // participle there is the event after a value (`session for alice
    // opened` / `closed`).
    for i in 2..tokens.len() {
        if (flags[i] == 0 || flags[i] == NAME)
            && flags[i - 1] == 0
            && points_at(tokens[i - 2].as_ref())
            && is_field_noun(tokens[i - 1].as_ref())
            && is_padded_value(tokens[i].as_ref().trim_end_matches('.'))
            && !is_participle(tokens[i].as_ref())
            && tokens
                .get(i + 1)
                .is_none_or(|next| is_preposition(next.as_ref()))
        {
            flags[i] |= STATE;
        }
    }
    // A word right before a lone `->` or `=>` (`state unknown -> down`,
    // `state change Active -> Idle`) is the state a transition leaves: a
    // state value that merges at once (session 24, round 24).
    for i in 0..tokens.len().saturating_sub(1) {
        if (flags[i] == 0 || flags[i] == NAME)
            && matches!(tokens[i + 1].as_ref(), "->" | "=>")
            && is_padded_value(tokens[i].as_ref())
        {
            flags[i] |= STATE;
        }
    }
    // A word after a field label that another padded field follows
    // (`info: Source ts = <*>,`) ends its field: the label's value, a
    // state value that merges at once; and a lower-case word between a
    // capitalised noun and a participle that ends the message (`Profile
    // dev activated.`) names which one (session 24, round 24).
    for i in 1..tokens.len() {
        if (flags[i] == 0 || flags[i] == NAME)
            && is_padded_value(tokens[i].as_ref())
            && ((is_field_label(tokens[i - 1].as_ref())
                && tokens
                    .get(i + 2)
                    .is_some_and(|t| matches!(t.as_ref(), "=" | ":")))
                || (i + 2 == tokens.len()
                    && flags[i] == 0
                    && is_capital_word(tokens[i - 1].as_ref())
                    && is_field_noun(tokens[i].as_ref())
                    && is_participle(tokens[i + 1].as_ref())))
        {
            flags[i] |= STATE;
        }
    }
    // A capitalised word after a preposition that ends the message
    // (`Cleaned 3 old bundles in Metadata.`) is a proper name, the place
    // or thing the preposition points at: a state value that merges at
    // once (session 24, round 24).
    if let [.., prep, last] = tokens
        && flags[tokens.len() - 1] & !NAME == 0
        && points_at(prep.as_ref())
        && is_capital_word(last.as_ref().trim_end_matches('.'))
    {
        flags[tokens.len() - 1] |= STATE;
    }
    // A word in brackets right after a masked value (`got signal 15
    // (Terminated),`, `exit code 2 (failure)`) names that value: it
    // varies with it, a state value that merges at once (session 24,
    // round 24).
    for i in 1..tokens.len() {
        if (flags[i] == 0 || flags[i] == NAME)
            && flags[i - 1] & MASKED != 0
            && flags[i - 1] & KEYED == 0
            && is_framed_word(tokens[i].as_ref())
        {
            flags[i] |= STATE;
        }
    }
    // A command-line option with a value (`-Dcatalina.base=<*>`,
    // `--config=<*>`) that ends the message after a label (`Command line
    // argument:`) is the label's value whole, its option name too: an
    // open value, no key that needs six siblings (session 24, round 24).
    if let [.., label, last] = tokens
        && flags[tokens.len() - 1] == MASKED | KEYED
        && last.as_ref().starts_with('-')
        && label.as_ref().ends_with(':')
    {
        flags[tokens.len() - 1] = MASKED;
    }
    // A lower-case word right before `state` or `mode` (`entered the
    // running state.`, `in serial mode`) names which state or mode: the
    // value of an attribute the noun after it names, a state value that
    // merges at once, as `up` / `down` do (session 24, round 24; kept in
    // session 25, round 25, once patterns that generalised apart meet:
    // behind another header the service names reached their `<*>` in the
    // running and the stopped pattern apart, and the two never merged).
    for i in 0..tokens.len().saturating_sub(1) {
        if flags[i] == 0 && is_state_of(tokens[i].as_ref(), tokens[i + 1].as_ref()) {
            flags[i] = STATE;
        }
    }
    // `on` / `off` / `up` / `down` right after a lower-case past
    // participle (`is powered on`, `Manager 'admin' logged off from`) is
    // the particle of a phrasal verb, a word of the event, no state
    // value that merges at once (session 24).
    for i in 1..tokens.len() {
        if flags[i] == STATE && is_particle(tokens[i - 1].as_ref(), tokens[i].as_ref()) {
            flags[i] = 0;
        }
        // An upper-case word right after a field of a lower-case key
        // (`conn=1042 op=3 UNBIND`, `op=2 SRCH base=...`) is the
        // operation the fields open, as `DHCPOFFER` opening a message is
        // the event: no name that merges at once (session 24).
        if flags[i] == NAME
            && is_upper_word(tokens[i].as_ref())
            && flags[i - 1] & KEYED != 0
            && is_lower_key_field(tokens[i - 1].as_ref())
        {
            flags[i] = 0;
        }
    }
    // A unit word after a masked number (`12 GB` / `2 TB`, `250 ms` / `2
    // s`) is the value's, chosen by its magnitude: units of one kind merge
    // at once (`units.rs`, session 25, round 27).
    mark_units(tokens, &mut flags);
    mark_exception_causes(tokens, &mut flags);
    super::codes::mark_reason_code(tokens, &mut flags);
    flags
}

/// An exception's class right after another exception's class that ends
/// in `:` (`java.lang.RuntimeException: java.lang.ClassNotFoundException:
/// org.x.Listener`, `java.io.IOException: java.io.EOFException: ...`) is
/// the first one's text, its cause: the corpus convention holds an
/// exception's text constant, one template per cause, so two causes are
/// no names that merge at once (session 27, round 35). A keyed class
/// (`type=java.lang.X`) is masked and stays a value.
fn mark_exception_causes<T: AsRef<str>>(tokens: &[T], flags: &mut [u8]) {
    for i in 1..tokens.len() {
        if flags[i] == NAME
            && tokens[i - 1].as_ref().ends_with(':')
            && is_exception_class(tokens[i - 1].as_ref())
            && is_exception_class(tokens[i].as_ref())
        {
            flags[i] = 0;
        }
    }
}

/// A dotted class name whose last part is capitalised and ends in
/// `Exception` or `Error` (`java.lang.OutOfMemoryError:`,
/// `org.apache.thrift.transport.TTransportException`), a `:` after it
/// aside.
fn is_exception_class(token: &str) -> bool {
    let word = token.strip_suffix(':').unwrap_or(token);
    let Some((package, class)) = word.rsplit_once('.') else {
        return false;
    };
    !package.is_empty()
        && class.as_bytes().first().is_some_and(u8::is_ascii_uppercase)
        && (class.ends_with("Exception") || class.ends_with("Error"))
        && word
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'$'))
}

/// A `key=<*>` field of a lower-case key that no `,` or `;` ends
/// (`op=<*>`, not `region=<*>,` in a list of fields).
fn is_lower_key_field(token: &str) -> bool {
    token.split_once('=').is_some_and(|(key, value)| {
        !key.is_empty()
            && key.bytes().all(|b| b.is_ascii_lowercase())
            && !value.ends_with([',', ';'])
    })
}

/// Whether `word` after `participle` is a phrasal verb's particle: a
/// lower-case `on`, `off`, `up` or `down` (`,` `.` `;` after it aside)
/// after a lower-case word of letters ending in `ed` (`powered`, `logged`,
/// `turned`). A capitalised pair (`scanner Powered On`) is a status as a
/// display prints it, a value.
fn is_particle(participle: &str, word: &str) -> bool {
    let word = word.trim_end_matches([',', '.', ';']);
    participle.len() > 4
        && participle.ends_with("ed")
        && participle.bytes().all(|b| b.is_ascii_lowercase())
        && matches!(word, "on" | "off" | "up" | "down")
}

/// A word of letters (`-` and `_` inside) that a `,` or `;` may end
/// (`Detect,`, `https`, `keep-alive`): a padded field's value.
fn is_padded_value(token: &str) -> bool {
    let word = token.trim_end_matches([',', ';']);
    (2..=24).contains(&word.len())
        && word.as_bytes()[0].is_ascii_alphabetic()
        && word
            .bytes()
            .all(|c| c.is_ascii_alphabetic() || c == b'-' || c == b'_')
}

/// A word of letters in round brackets (`(Terminated),`, `(failure)`).
fn is_framed_word(token: &str) -> bool {
    token
        .trim_end_matches([',', ';', '.'])
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .is_some_and(|w| w.len() >= 2 && w.bytes().all(|c| c.is_ascii_alphabetic()))
}

/// A lower-case past participle that may end a sentence (`activated.`).
fn is_participle(token: &str) -> bool {
    let word = token.trim_end_matches('.');
    word.len() > 4 && word.ends_with("ed") && word.bytes().all(|c| c.is_ascii_lowercase())
}

/// A lower-case word of letters only, at least three (`context`, `user`).
fn is_field_noun(token: &str) -> bool {
    token.len() >= 3 && token.bytes().all(|c| c.is_ascii_lowercase())
}

/// A preposition that points at a place or a thing a word after it names
/// (`in context sales`, `old bundles in Metadata.`).
fn points_at(token: &str) -> bool {
    matches!(token, "in" | "for" | "on" | "at" | "from" | "with")
}

/// A preposition that opens the next part of a sentence (`by`, `in`).
fn is_preposition(token: &str) -> bool {
    matches!(
        token,
        "by" | "in" | "on" | "at" | "for" | "from" | "to" | "with" | "via"
    )
}

/// Whether `word` before `noun` names a state or a mode: a plain
/// lower-case word of letters (`-` inside: `power-save`) before `state` or
/// `mode` that ends the sentence or goes on (`state.`, `mode,`), not a
/// label (`Quota mode:` keys a field). A word of negation (`unavailable`,
/// `unknown`, `non-operational`) is no such name: a state and its negation
/// are whether the thing works, a fault and its recovery, two events as
/// `passed` / `failed` are (`is in the available state` / `is in the
/// unavailable state`).
fn is_state_of(word: &str, noun: &str) -> bool {
    // A byte check first: this runs on every pair of words of a line the
    // cache has not seen.
    if !matches!(noun.as_bytes().first(), Some(b's' | b'm')) {
        return false;
    }
    let noun = noun.trim_end_matches([',', '.', ';', ')']);
    (2..=16).contains(&word.len())
        && word.as_bytes()[0].is_ascii_lowercase()
        && !word.starts_with("un")
        && !word.starts_with("non")
        && word.bytes().all(|c| c.is_ascii_lowercase() || c == b'-')
        && matches!(noun, "state" | "mode")
}

/// A lower-case word that ends the message right after a lower-case word
/// and `mode` or `state` (`Stopping service <*>, shutdown mode hard` /
/// `soft`) is the mode the noun names, as after `mode is`: a state value
/// that merges at once (session 28, round 39). After a capitalised word
/// (`Synchronizing state complete`) the three words tell the event.
fn mark_mode_value<T: AsRef<str>>(tokens: &[T], flags: &mut [u8]) {
    let n = tokens.len();
    if n < 3 || (flags[n - 1] != 0 && flags[n - 1] != NAME) {
        return;
    }
    let word = tokens[n - 1].as_ref();
    let before = tokens[n - 3].as_ref();
    if flags[n - 2] == 0
        && flags[n - 3] == 0
        && !before.is_empty()
        && before.bytes().all(|c| c.is_ascii_lowercase())
        && matches!(tokens[n - 2].as_ref(), "mode" | "state")
        && is_state_of(word, tokens[n - 2].as_ref())
    {
        flags[n - 1] |= STATE;
    }
}

/// The two words of `changed from <old> to <new>` (`Host <*> role changed
/// from master to slave`) are the values a change leaves and takes: state
/// values that merge at once, as after `state to` (session 28, round 39).
fn mark_change_values<T: AsRef<str>>(tokens: &[T], flags: &mut [u8]) {
    for i in 2..tokens.len().saturating_sub(2) {
        if tokens[i - 1].as_ref() != "from" || tokens[i - 2].as_ref() != "changed" {
            continue;
        }
        for k in [i, i + 2] {
            if (flags[k] == 0 || flags[k] == NAME)
                && (k == i || tokens[i + 1].as_ref() == "to")
                && is_padded_value(tokens[k].as_ref().trim_end_matches('.'))
            {
                flags[k] |= STATE;
            }
        }
    }
}

/// An upper-case tag of words joined by `_` that ends in `:`
/// (`SNMP_TRAP_LINK_DOWN:`, `UI_COMMIT:`, a router's event tags): opening
/// the message, it names the event as `DHCPOFFER` does (session 22,
/// round 19).
fn is_event_tag(token: &str) -> bool {
    token.strip_suffix(':').is_some_and(is_upper_tag)
}

/// An upper-case tag of words joined by `_` with no `:` after it that
/// opens a message of three tokens or more (`AS_REQ (2 etypes {18 17})
/// ...`, `TGS_REQ ...`, a KDC's request types) is its message type as
/// `DHCPOFFER` and `SNMP_TRAP_LINK_DOWN:` are: no name that merges at once
/// (it still becomes a variable by siblings; session 27, round 35). After
/// a label (`smbd_exit_server_cleanly: NT_STATUS_IO_TIMEOUT`) it is the
/// label's value, and a tag and one word (`BODY_SENSORS granted`, whose
/// `Permission:` the header took) are too short to tell.
fn mark_opening_type<T: AsRef<str>>(tokens: &[T], flags: &mut [u8]) {
    if tokens.len() >= 3 && flags[0] == NAME && is_upper_tag(tokens[0].as_ref()) {
        flags[0] = 0;
    }
}

/// Upper-case words (digits inside) joined by `_`, at least four bytes,
/// no `_` at either end (`AS_REQ`, `TGS_REQ`, `LINK_DOWN`).
fn is_upper_tag(word: &str) -> bool {
    word.len() >= 4
        && word.contains('_')
        && word.as_bytes()[0].is_ascii_uppercase()
        && !word.ends_with('_')
        && word
            .bytes()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_')
}

/// A capitalised camelCase word of letters only that ends in one `:`
/// (`EventMemberJoin:`, `SyncLoop:`), no upper-case constant (`ERROR:`).
fn is_camel_label(token: &str) -> bool {
    let Some(word) = token.strip_suffix(':') else {
        return false;
    };
    let b = word.as_bytes();
    b.len() >= 4
        && b[0].is_ascii_uppercase()
        && b.iter().all(u8::is_ascii_alphabetic)
        && b[1..].iter().any(u8::is_ascii_uppercase)
        && b.iter().any(u8::is_ascii_lowercase)
}

/// An upper-case word of letters only (`UP`, `BLOCK]`, `ADD"`), no opening
/// bracket or quote before it.
fn is_upper_word(token: &str) -> bool {
    let word = token.trim_end_matches([',', ';', ')', ']', '}', '"', '\'', '.', '!', '>']);
    word.len() >= 2 && word.bytes().all(|c| c.is_ascii_uppercase())
}

/// Whether the word at `i` stands in the upper-case words of letters that
/// open the message (`DHCPOFFER on ...`, `LOG PAUSE command issued`, a
/// level the header left in front of it) before a plain lower-case word:
/// the event's name, the command or message type, told in words after it,
/// not one value among others. Siblings make it a variable on the most
/// evidence only (session 28, round 39: `PAUSE` / `RESUME` / `RELOAD` /
/// `SUSPEND command issued` are four events). Before a value it is one
/// itself, a request's method (`GET /orders user=<*>` / `POST ...`).
pub(super) fn in_opening_name<T: AsRef<str>>(tokens: &[T], i: usize) -> bool {
    i < 3
        && tokens.get(i + 1).is_some_and(|t| {
            let t = t.as_ref();
            !t.is_empty() && t.bytes().all(|c| c.is_ascii_lowercase())
        })
        && tokens[..=i].iter().all(|t| {
            let t = t.as_ref();
            t.len() >= 2 && t.bytes().all(|c| c.is_ascii_uppercase())
        })
}

/// A word of letters that starts with a capital (`Link`, `SyncLoop`,
/// `[UFW`), an opening bracket or quote allowed before it.
fn is_capital_word(token: &str) -> bool {
    let word = token.trim_start_matches(['(', '[', '{', '"', '\'', '<']);
    word.len() >= 2
        && word.as_bytes()[0].is_ascii_uppercase()
        && word.bytes().all(|c| c.is_ascii_alphabetic())
}

/// A word (letters, `_`, `-`, at least two) ending in `:`, perhaps after
/// an opening bracket (`(parallelism:`): a field's label.
fn is_field_label(token: &str) -> bool {
    let token = token.trim_start_matches(['(', '[', '{']);
    token.strip_suffix(':').is_some_and(|label| {
        label.len() >= 2
            && label
                .bytes()
                .all(|c| c.is_ascii_alphabetic() || c == b'_' || c == b'-')
    })
}

/// A lower-case word (`-` inside) that ends a field: followed by `,` `;`
/// `)` or (since session 28, round 40) `]`, `[uid: 12, name: admin]`, or
/// last in the message.
fn is_field_value(token: &str, last: bool) -> bool {
    let word = token.trim_end_matches([',', ';', ')', ']', '.']);
    let ends = last || token.ends_with([',', ';', ')', ']']);
    ends && (2..=16).contains(&word.len())
        && word.as_bytes()[0].is_ascii_lowercase()
        && word.bytes().all(|c| c.is_ascii_lowercase() || c == b'-')
}

/// What [`super::compare`] needs to know of a token, computed once per token.
pub(super) fn token_flags(token: &str) -> u8 {
    if token == WILDCARD {
        MASKED | WILD
    } else if token.as_bytes().contains(&b'*') && token.contains(WILDCARD) {
        // (A byte test first: this runs on every token of every line the
        // cache misses, and a string search costs more than the rest.)
        // `key=<*>` or `word/<*>`: a constant key before the value.
        match token.find(WILDCARD) {
            Some(at)
                if at > 1
                    && matches!(token.as_bytes()[at - 1], b'=' | b'/')
                    && !token[..at].contains(WILDCARD) =>
            {
                MASKED | KEYED
            }
            _ => MASKED,
        }
    } else if looks_like_name(token) {
        NAME
    } else if is_state_value(token) {
        STATE
    } else {
        0
    }
}
