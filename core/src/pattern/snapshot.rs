//! Saving and restoring a [`Miner`]: [`MinerSnapshot`], and the upgrade of
//! a snapshot written by another [`MINER_VERSION`].

use serde::{Deserialize, Serialize};

use super::{
    Miner, MinerConfig, MinerStats, Pattern, PatternId, PatternSnapshot, token_keys, tokens_flags,
};

/// The version of the mining rules (masking, header stripping, merging).
/// A snapshot saved by another version is upgraded by [`Miner::upgrade`]
/// rather than restored. 1: the snapshots before versions were recorded;
/// 2: session 8 (padded and bracketed levels, `Name{value`, a placement
/// cache that never decides); 3: session 9 (`word/<*>` keys, mixed-case
/// names with a number such as `IPv6LL` unmasked, a device's own clock
/// stripped, sibling evidence counting words and keys); 4: session 9,
/// round 2 (state and protocol values such as `up` / `down`, `tcp` / `udp`
/// are values of one variable; a list of values in brackets is one token;
/// a variable spanning one word more or less joins its pattern); 5:
/// session 10 (a MAC or IPv6 address whose first group is letters is masked
/// whole; a lower-case name before an address, `alice/10.0.0.1:1194`, is one
/// value; capitalised state values such as `On` / `Off`; a pattern
/// shortened by the span step merges what it covers); 6: session 11 (a
/// pattern that gains a `<*>` merges the patterns one token longer or
/// shorter that now align with it by a span; a lower-case word that ends a
/// labelled field, `check: reachable,`, is that field's value); 7:
/// session 12 (a URL with a query is masked whole; siblings never make a
/// variable of a word whose neighbours are all bare `<*>`); 8: session 12,
/// round 2 (an upper-case word right after a capitalised one, `Link UP`,
/// or opening the message, `DHCPOFFER on`, merges by siblings only;
/// siblings with different keys have no `<*>` where the message has a
/// word); 9: session 13 (a value of several capitalised words, `Windows
/// Defender`, is one `<*>`: `pattern/runs.rs`); 10: session 14 (header
/// fields of new kinds: a `|` header glued to the time, a hex thread id, a
/// host name without a digit or `Ok` before a level; `key="a b"` is one
/// value; a key opens with no digit; runs that end the message after a
/// lower-case label, of any case after a lower-case word label, runs of
/// mixed case holding upper-case words, and no run that shares three words
/// with the other); 11: session 15 (a one-letter level in brackets after
/// a time; a run framed by brackets that ends the message, also after a
/// value; an exception's class opening a run; a value after a label that
/// opens with a number; a word between a `<*>` and a masked value spans
/// with it; `alice(uid=0)` masks its name); 12: session 16 (a run right
/// after a masked value joins a pattern's `<*> <*>`; a lower-case value
/// of two or three words joins a bare `<*>` after a lower-case word; a
/// name that ends the message after a lower-case word is a value; the host
/// and program after rsyslog's ISO time are header; a framed run that ends
/// the message after a word is a value on three runs); 13: session 17 (an
/// unquoted `key=value` runs over the words up to the next key; a run
/// never spans a bare `|` field separator, and one that ends at it is a
/// value on three runs; a framed run that ends the message after a bare
/// masked value is a value on three runs, and so is an exception's text
/// after its class); 14: session 18 (a one-letter level before a
/// bracketed time and a bracketed thread after a `Mon DD, YYYY` time are
/// header; a list of values in braces separated by spaces is one value;
/// an upper-case word after a lower-case key's value ends that value; a
/// run before the `key=value` fields that end a message ends its text; a
/// bare `-` labels the run that ends the message); 15: session 19 (an
/// escaped quote, `\"`, frames a value as a quote does; a day and month
/// joined by `-`, `24-Feb`, is a date before a syslog-like host; a quoted
/// `key="..."` value runs to its closing quote); 16: session 19, round 15
/// (a capitalised camelCase word ending in `:` right after a label names
/// the event, `serf: EventMemberJoin:`, no value that merges at once);
/// 17: session 20, round 16 (a name of capitalised words before more of
/// the message, after a word or a value, is a value of several words, its
/// `:` too: `<*> Garage Door Left Open: Already running`); 18: session 20,
/// round 16 (a path whose names hold spaces is one value:
/// `/vmfs/volumes/<id>/Web Server 01/Web Server 01.vmx`); 19: session 21,
/// round 17 (a bracketed thread after a time is header before an
/// Android-like `I/Tag:`, digits in its name or not); 20: session 21,
/// round 18 (the text after an exception's class that ends the message
/// is constant, no value); 21: session 21, round 18 (a sentence that
/// ends the message after a lower-case word that names no field,
/// `stopped: Volume is offline.`, is constant, no value); 22: session 22,
/// round 19 (after Ruby's `--`, a `progname:` is header before a message
/// of one word too: `INFO -- puma: OK`); 23: session 22, round 19 (a
/// token without a letter or digit, `-`, is no constant word around a
/// sibling position: `- [info] Started flows` needs four verbs); 24:
/// session 22, round 19 (an upper-case tag of words joined by `_` ending
/// in `:` that opens the message, `SNMP_TRAP_LINK_DOWN:`, is its type);
/// 25: session 23, round 20 (a name right before a lone `:` is a padded
/// field's label, `Request-URI     :  /index.html`, no value that merges
/// at once); 26: session 23, round 21 (names of one word and of two or
/// three between a lower-case word and more of the message, `for share
/// Scans,` / `for share Finance Share,`, are one value on three runs);
/// 27: session 24, rounds 22 and 23 (round 22: names of two word counts of up to four
/// tokens, and names that end the message after a lower-case word, are one
/// value on three runs; upper-case names that end at a bare `|` are values,
/// and runs that end the message after a capitalised label in a list of
/// labelled fields or after a sentence; a run keeps the closing bracket the
/// runs share; round 23: a failure's reason in prose is constant words, a
/// phrasal verb's particle and an upper-case operation after a lower-case
/// key's field are event words, GlusterFS's one-letter level is header);
/// 28: session 24, round 24 (a padded field's value after a lone `=` or
/// `:`, `Disposition = Set,`, is a state value that merges at once,
/// and a label's value with an inner `-`, `to: keep-alive`, and the word
/// after `state to` or `status is`, `setting node state to suspect`, and
/// the word after a preposition and a noun that ends the message or goes
/// on with a preposition, `in context sales`, `for user root by`, the word
/// before a lone `->`, `local` / `remote` / `minor` / `major` as state
/// values, a word in brackets after a masked value, `signal 15
/// (Terminated),`, a label's value before a padded field, `info: Source ts
/// = <*>`, a word between a capitalised noun and a participle that ends
/// the message, `Profile dev activated.`, a capitalised word after a
/// preposition that ends the message, `in Metadata.`, and a
/// command-line option that ends the message after a label, an open value);
/// 29: session 25, round 26 (a source location keeps its file,
/// `store.go:160` -> `store.go:<*>`, as the name of a `name:value` does;
/// a keyed quoted value of several words that opens a bracketed list,
/// `(SSID='Home WiFi' freq=...`, is one value);
/// 30: session 25, round 25 (a pattern that changes shape merges with a
/// pattern of its length that differs from it only where values vary,
/// `a <*> c d` / `a b c <*>`, whichever generalised first; a lower-case
/// word before `state` or `mode`, `entered the running state.`, is a state
/// value that merges at once);
/// 31: session 25, round 27 (a unit word after a masked number, `12 GB`
/// / `2 TB`, `250 ms` / `2 s`, merges with a unit of its kind at once; a
/// device's field, `usb <*>: Product: Ultra USB 3.0`, and a name in round
/// brackets after a bare masked value, `Device <*> (MX Master 3)
/// connected`, are values on three runs);
/// 32: session 25, round 28 (an HTTP status code and its reason phrase,
/// `502 Bad Gateway`, are one value);
/// 33: session 25, round 29 (the words of a bracketed group that opens
/// the message, `[ID 107833 kern.warning]`, `[main]`, must be equal but
/// count as no shared constant word in step 3 and when patterns meet);
/// 34: session 26, round 32 (the text of a quoted logfmt `msg="..."` that
/// ends the line is unescaped, `\"` read back as `"`, before mining; a
/// bracketed tag glued to a `:`, `[node:event.name:severity]:`, ends the
/// header whatever its words hold);
/// 35: session 26, round 30 (a pattern that changes shape merges with a
/// pattern of another length that the run step lines up with it, a run
/// of words facing a `<*>`, `<*> has reached the goal [The Next
/// Generation]` / `nobody has reached the goal [<*>]`);
/// 36: session 27, round 35 (an exception's class right after another
/// exception's class that ends in `:`, its cause, is no name that merges
/// at once: `java.lang.RuntimeException: java.lang.OutOfMemoryError:`;
/// an upper-case tag joined by `_` with no `:` that opens a message of
/// three tokens or more, `AS_REQ (2 etypes ...)`, is its type; a
/// magnitude prefix printed apart from its unit, `<*> K Bytes/second`,
/// takes the unit's kind).
/// 37: session 27, round 34 (a pattern's run of `<*>`s facing fewer
/// words, `for <*> <*> firmware.` / `for BIOS firmware.`, is read as one
/// `<*>`: the run becomes one `<*>` and takes the message or the other
/// pattern; two patterns of one length, or a pattern and a message, that
/// differ by two adjacent words that are a value on each side, `for Boot
/// Configuration returned` / `for Image Apply returned`, become one
/// pattern with one `<*>` there).
/// 38: session 27, round 37 (a lower-case tag of words joined by `-` that
/// ends in `:` and opens the message, `pop3-login:`, is kept by the
/// masking though a word holds a digit, and is no name that merges at
/// once: the program that printed the event).
/// 39: session 27, round 36 (a message that a known pattern of fewer
/// tokens takes by several runs or spans at once goes to it instead of
/// starting a pattern that a later line merges into it).
/// 40: session 28, round 40 (a distinguished name printed without quotes
/// whose part holds a space, `uid=a,ou=service accounts,dc=x`, is one
/// value: `dn.rs`; a run that holds a bare `=`, `[bob/<via Auth-Type =
/// eap>]`, is no one value even framed by brackets; a lower-case value of
/// two words may hold a `/`, `branch feature/login page`; a quoted value
/// of several words after a key's `:`, `Reason:"Half Target"`, is one;
/// a reason code after a failure's label, `was not accepted:
/// txn-mempool-conflict`, is constant: `codes.rs`; a command's arguments
/// after its name, holding an option, `git cat-file --batch`, are a value;
/// a lower-case word that ends a field in brackets, `name: admin]`, is a
/// state value; a quoted error text that ends with its code in brackets,
/// `'Logon failure (0xc000006d)'`, keeps its words; a capitalised word
/// that opens the message before a lower-case word needs six siblings).
/// 41: session 28, round 39 (a reason after `because:` is constant words,
/// also with a code in brackets at its end; the upper-case words that open
/// a message before a lower-case word need six siblings; a plain word
/// after a `<*>` is a span; `<*>/ECDH=` after values joined by `/` is one
/// value; a word after `mode` / `state` that ends the message, and the
/// words of `changed from <old> to <new>`, are state values; lower-case
/// names after the noun that opens the text are a value on the runs'
/// evidence).
pub const MINER_VERSION: u32 = 41;

fn first_version() -> u32 {
    1
}

/// The whole state of a [`Miner`], to persist between runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinerSnapshot {
    /// [`MINER_VERSION`] of the miner that saved it.
    #[serde(default = "first_version")]
    pub version: u32,
    /// When its service's miner was last upgraded (the event time of the
    /// first message mined after it, or its arrival when earlier):
    /// new-pattern detection warms up again from there. Carried, never read,
    /// by the miner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relearning_since: Option<chrono::DateTime<chrono::Utc>>,
    pub service: String,
    pub seq: u64,
    pub stats: MinerStats,
    pub patterns: Vec<PatternSnapshot>,
    /// `(merged id, id it merged into)`, oldest first.
    pub aliases: Vec<(PatternId, PatternId)>,
}

impl Miner {
    /// The whole state, to persist.
    pub fn snapshot(&self) -> MinerSnapshot {
        MinerSnapshot {
            version: MINER_VERSION,
            relearning_since: self.relearning_since,
            service: self.service.clone(),
            seq: self.seq,
            stats: self.stats,
            patterns: self.patterns(),
            aliases: self
                .alias_order
                .iter()
                .filter_map(|from| self.aliases.get(from).map(|to| (*from, *to)))
                .collect(),
        }
    }

    /// A miner that continues from a snapshot: the same messages afterwards
    /// get the same ids as if it had never stopped (the exact-hit cache
    /// starts empty, which changes speed, not results: see `generation`).
    ///
    /// A snapshot of another [`MINER_VERSION`] is [upgraded](Miner::upgrade).
    pub fn restore(snapshot: MinerSnapshot, config: MinerConfig) -> Miner {
        if snapshot.version != MINER_VERSION {
            return Miner::upgrade(snapshot, config);
        }
        let mut miner = Miner::new(&snapshot.service, config);
        miner.relearning_since = snapshot.relearning_since;
        miner.seq = snapshot.seq;
        miner.stats = snapshot.stats;
        for p in snapshot.patterns {
            let tokens: Vec<Box<str>> = p.template.split(' ').map(Box::from).collect();
            miner.insert(Pattern {
                id: p.id,
                flags: tokens_flags(&tokens),
                keys: token_keys(&tokens),
                tokens,
                count: p.count,
                first_seq: p.first_seq,
                last_seq: p.last_seq,
            });
        }
        for (from, to) in snapshot.aliases {
            miner.add_alias(from, to);
        }
        miner
    }

    /// A miner of this version from a snapshot of another: each stored
    /// pattern's template is mined again, oldest first, by the current rules.
    /// A template that makes a new pattern gives it the stored id (and its
    /// counts), so ids already stored stay the same; one that lands in an
    /// earlier pattern becomes its alias. Messages whose new form differs
    /// from every re-mined template make new patterns later: callers warm
    /// new-pattern detection up again ([`Miner::set_relearning_since`]).
    pub fn upgrade(snapshot: MinerSnapshot, config: MinerConfig) -> Miner {
        let mut miner = Miner::new(&snapshot.service, config);
        miner.relearning_since = snapshot.relearning_since;
        let mut patterns = snapshot.patterns;
        patterns.sort_by_key(|p| (p.first_seq, p.id));
        for p in patterns {
            let mined = miner.mine(&p.template);
            let Some(slot) = miner.slot_of(mined.id) else {
                continue;
            };
            if mined.new && !miner.by_id.contains_key(&p.id) {
                let old = miner.pattern(slot).id;
                miner.by_id.remove(&old);
                miner.by_id.insert(p.id, slot);
                // The pattern may have taken others, or been taken, while
                // the template was mined: ids already pointing at it keep
                // resolving.
                if old != p.id {
                    miner.add_alias(old, p.id);
                }
                let q = miner.pattern_mut(slot);
                q.id = p.id;
                q.count = p.count;
                q.first_seq = p.first_seq;
                q.last_seq = p.last_seq;
            } else {
                let q = miner.pattern_mut(slot);
                q.count = q.count.saturating_sub(1).saturating_add(p.count);
                q.first_seq = q.first_seq.min(p.first_seq);
                q.last_seq = q.last_seq.max(p.last_seq);
                let to = q.id;
                if to != p.id {
                    miner.add_alias(p.id, to);
                }
            }
        }
        for (from, to) in snapshot.aliases {
            if !miner.by_id.contains_key(&from) {
                miner.add_alias(from, to);
            }
        }
        miner.cache.clear();
        miner.seq = snapshot.seq;
        miner.stats = snapshot.stats;
        miner
    }

    /// Marks the miner as re-learning since `at` (see
    /// [`MinerSnapshot::relearning_since`]).
    pub fn set_relearning_since(&mut self, at: chrono::DateTime<chrono::Utc>) {
        self.relearning_since = Some(at);
    }
}
