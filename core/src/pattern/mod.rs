//! Log patterns: a streaming template miner.
//!
//! A [`Miner`] (one per service) maps every message to a pattern: the message
//! with its variable parts replaced by `<*>` (`user <*> logged in via <*>`).
//! It is pure and deterministic: the same messages in the same order give the
//! same ids and templates, whatever the machine or the time.
//!
//! # How a message finds its pattern
//! 1. **Masking** ([`token`]): the message is cut into whitespace tokens and
//!    the obvious variables are masked (anything with a digit but a mixed-case
//!    name such as `IPv6LL` or `DHCPv4`, so numbers, ids,
//!    IPs with ports, hex, UUIDs, timestamps, durations and sizes with units;
//!    paths, URLs, e-mail addresses, quoted strings, `key=value` values, month
//!    and weekday names, booleans). Punctuation around a word stays in the
//!    token but out of the check, so `(uid=0),` masks to `(uid=<*>),`; a key
//!    stays before its value (`key=<*>`, `name:<*>`, `hit/<*>`). A run of
//!    masked words is one `<*>`, and so is a list of values in brackets
//!    (`Set(a-1, b-2)` -> `Set(<*>)`).
//! 2. **Exact hit**: the masked text is looked up in a bounded cache of texts
//!    already placed, valid until any pattern changes shape (so the cache
//!    never decides a placement that step 3 would decide otherwise). Most
//!    lines end here (the miner's speed comes from this).
//! 3. **Similar pattern**: otherwise the patterns with as many tokens are
//!    compared position by position. A pattern whose differing positions are
//!    all variable-like (one side masked, or both sides names such as
//!    `nginx.service` / `cron.service`, `www-data` / `root-admin`, or both
//!    state values such as `up` / `down`, `tcp` / `udp`; not an upper-case
//!    word right after a capitalised one, `Link UP` / `Link DOWN`, or one
//!    that opens the message, `DHCPOFFER on`: the event's name), with at
//!    least as many equal constant tokens as differences, takes the message and
//!    turns those positions into `<*>`. Two positions that hold different words
//!    of prose (`opened` / `closed`) never merge here.
//! 4. **Siblings**: patterns that differ from the new message in exactly one
//!    word position are counted per position. When enough distinct words have
//!    been seen there (3 when three or more constant words or keys, not the
//!    punctuation around a masked value nor a token without a letter or
//!    digit such as `-` (session 22), remain around it, 4
//!    with two, 6 with fewer: short messages need more evidence; 6 too where
//!    the words are different keys, `user=<*>` / `uid=<*>`, and such a
//!    sibling has no `<*>` where the message has a word, and where a
//!    capitalised word opens the message before a lower-case one, `Zabbix`
//!    / `SNMP agent item` (session 28); words count
//!    only where no sibling has a `<*>`, and a word among bare `<*>` only,
//!    `DHCPACK(<*>) <*>`, never varies), that
//!    position is a variable: the siblings merge into the oldest of them,
//!    which keeps every `<*>` any of them had. A pattern's `<*>` matches any
//!    word here, so once `INSERT INTO users (id, <*>` and `INSERT INTO orders
//!    (id, <*>` exist, a line for a third table is a sibling of both.
//! 5. **Spans** ([`span`]): a message one token longer or shorter than a
//!    pattern, where a word and a `<*>` on one side face one `<*>` on the
//!    other and everything else is equal, belongs to it (`with combo <*>` /
//!    `with <*>`: a host without a digit, then one with a digit collapsed
//!    with the interface after it).
//! 6. **Runs** ([`runs`], session 13): a message that differs from
//!    patterns of any length by one run of words opening with a capital
//!    (`Updated Windows Defender status ...` / `Updated McAfee status ...`)
//!    or framed by brackets (`[Abandoned connection cleanup thread]`)
//!    joins a pattern with one `<*>` there, or, when four such runs are
//!    known (three after a label, `Reason: Unknown user name ...`), merges
//!    them into one pattern with one `<*>` for the run. A pattern that
//!    gains or is created with such a `<*>` takes the longer patterns
//!    that have a run there.
//!    A message that a known pattern of fewer tokens takes by several
//!    runs or spans at once (`run_known.rs`) goes to it.
//! 7. Otherwise the message starts a new pattern.
//!
//! Whenever a pattern gains a `<*>`, every pattern it now covers is merged
//! into it, its siblings are counted again, and a pattern of its length
//! that differs from it only where values vary merges with it ([`meet`]:
//! `a <*> c d` / `a b c <*>`, each of which gained its `<*>` from lines the
//! other never saw), and so does a pattern of another length that step 6
//! lines up with it, a run of words facing its `<*>` or theirs (`runs.rs`'s
//! `run_meet`): the streaming form of a final regrouping pass.
//! Positions compare by 64-bit token hashes.
//!
//! # Stable ids
//! A pattern's [`PatternId`] is a hash of the service and the template's first
//! form. Merging never renumbers: the absorbed pattern's id becomes an alias
//! of the survivor ([`Miner::resolve`]), so ids already stored stay valid. An
//! evicted pattern that comes back gets its old id again.
//!
//! # Bounds
//! At most [`MinerConfig::max_patterns`] live patterns: creating one more
//! evicts the least used (lowest count, then least recently seen), counted in
//! [`MinerStats::evicted`]. The exact-hit cache and the alias table are bounded
//! too. A [`MinerSnapshot`] (serde) saves and restores the whole state.

mod codes;
mod dn;
mod flags;
pub mod header;
pub mod judge;
mod meet;
mod paths;
mod prefix;
mod reasons;
mod runs;
mod snapshot;
mod span;
mod status;
mod token;
mod units;

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use flags::{KEYED, MASKED, WILD, token_keys, tokens_flags, variable_like};
pub use snapshot::{MINER_VERSION, MinerSnapshot};
pub use token::WILDCARD;
use token::mask_into;

/// Stable identifier of a pattern within a service: 16 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct PatternId(pub u64);

impl PatternId {
    /// The id of a template first seen in `service`.
    pub fn of(service: &str, template: &str) -> PatternId {
        let mut hasher = Sha256::new();
        hasher.update(service.as_bytes());
        hasher.update([0]);
        hasher.update(template.as_bytes());
        let digest = hasher.finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        PatternId(u64::from_be_bytes(first))
    }
}

impl fmt::Display for PatternId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// A pattern id that is not 16 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("pattern id must be 16 hex digits, got {0:?}")]
pub struct BadPatternId(String);

impl FromStr for PatternId {
    type Err = BadPatternId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != 16 {
            return Err(BadPatternId(s.chars().take(32).collect()));
        }
        u64::from_str_radix(s, 16)
            .map(PatternId)
            .map_err(|_| BadPatternId(s.to_owned()))
    }
}

impl From<PatternId> for String {
    fn from(id: PatternId) -> String {
        id.to_string()
    }
}

impl TryFrom<String> for PatternId {
    type Error = BadPatternId;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

/// Bounds of one service's miner. There is no similarity threshold to tune:
/// the same rules serve every kind of log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinerConfig {
    /// Most live patterns; one more evicts the least used.
    pub max_patterns: usize,
    /// Most masked texts remembered for exact hits (cleared when full).
    pub max_cache: usize,
}

impl Default for MinerConfig {
    fn default() -> Self {
        MinerConfig {
            max_patterns: 2000,
            max_cache: 50_000,
        }
    }
}

/// What [`Miner::mine`] found for one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mined {
    /// The pattern's id at this moment (later merges make it an alias, never
    /// invalid).
    pub id: PatternId,
    /// The message started a new pattern.
    pub new: bool,
}

/// Counters of one miner.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinerStats {
    /// Messages mined.
    pub lines: u64,
    /// Patterns created.
    pub created: u64,
    /// Patterns merged into another (their ids became aliases).
    pub merged: u64,
    /// Patterns evicted to stay within `max_patterns`.
    pub evicted: u64,
    /// Times the exact-hit cache was full and cleared.
    pub cache_resets: u64,
}

/// A pattern as the miner currently knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatternSnapshot {
    pub id: PatternId,
    /// Tokens joined by single spaces; `<*>` marks variables.
    pub template: String,
    /// Messages that mapped to it (including merged patterns).
    pub count: u64,
    /// Sequence numbers (the miner's message counter) of its first and last
    /// message.
    pub first_seq: u64,
    pub last_seq: u64,
}

#[derive(Clone)]
struct Pattern {
    id: PatternId,
    tokens: Vec<Box<str>>,
    /// [`flags::tokens_flags`] of the tokens.
    flags: Vec<u8>,
    /// [`hash_bytes`] of each token: positions compare by these.
    keys: Vec<u64>,
    count: u64,
    first_seq: u64,
    last_seq: u64,
}

impl Pattern {
    fn is_wild(&self, i: usize) -> bool {
        self.flags[i] & WILD != 0
    }

    fn template(&self) -> String {
        self.tokens.join(" ")
    }

    /// Makes its tokens from `w` to `e` one `<*>` (a run of words, or of
    /// `<*>`s, read as one value).
    fn collapse(&mut self, w: usize, e: usize) {
        self.tokens.splice(w..e, [Box::from(WILDCARD)]);
        self.flags.splice(w..e, [MASKED | WILD]);
        self.keys.splice(w..e, [hash_bytes(WILDCARD.as_bytes())]);
    }
}

/// Hasher for keys that already are hashes.
#[derive(Default)]
struct PreHashed(u64);

impl Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0 = hash_bytes(bytes);
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type PreHashedMap<V> = HashMap<u64, V, BuildHasherDefault<PreHashed>>;

/// A fast non-cryptographic hash of the masked text (FxHash-style words).
fn hash_bytes(bytes: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h: u64 = bytes.len() as u64;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        let mut word = [0u8; 8];
        word[..tail.len()].copy_from_slice(tail);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
    }
    h ^ (h >> 29)
}

/// The first two positions of a pattern (keys and flags; a missing position
/// is a wildcard).
#[derive(Clone, Copy)]
struct Head {
    keys: [u64; 2],
    flags: [u8; 2],
}

impl Head {
    fn of(p: &Pattern) -> Head {
        let mut head = Head {
            keys: [0; 2],
            flags: [MASKED | WILD; 2],
        };
        for i in 0..p.keys.len().min(2) {
            head.keys[i] = p.keys[i];
            head.flags[i] = p.flags[i];
        }
        head
    }

    /// False when [`compare`] would surely refuse the message: one of the
    /// first two positions holds two different words.
    fn may_take(&self, keys: &[u64], flags: &[u8]) -> bool {
        (0..keys.len().min(2)).all(|i| {
            let (a, b) = (self.flags[i], flags[i]);
            a & WILD != 0 || self.keys[i] == keys[i] || variable_like(a, b)
        })
    }

    /// Both of the first two positions differ from `keys` (a wildcard
    /// differs from nothing), so the pattern is no sibling (siblings differ
    /// in one position).
    fn differs_twice(&self, keys: &[u64]) -> bool {
        let differs = |i: usize| self.flags[i] & WILD == 0 && self.keys[i] != keys[i];
        keys.len() >= 2 && differs(0) && differs(1)
    }
}

/// How a pattern compares with a masked message of the same length.
struct Comparison {
    /// Equal non-wildcard positions.
    matched: usize,
    /// Differing positions where the difference looks like a variable.
    variable: Vec<usize>,
}

/// The streaming template miner of one service. See the module documentation.
pub struct Miner {
    service: String,
    config: MinerConfig,
    slots: Vec<Option<Pattern>>,
    /// The first two positions of each slot's pattern, stored flat so that
    /// scanning many candidates rejects most without touching them.
    heads: Vec<Head>,
    free: Vec<u32>,
    live: usize,
    /// The live slots by token count; hashed by [`PreHashed`] (a length
    /// through [`hash_bytes`]): looked up for every length the run, span
    /// and meeting steps try, SipHash cost more than their scans.
    by_len: HashMap<usize, Vec<u32>, BuildHasherDefault<PreHashed>>,
    by_id: HashMap<PatternId, u32, BuildHasherDefault<PreHashed>>,
    aliases: HashMap<PatternId, PatternId, BuildHasherDefault<PreHashed>>,
    alias_order: VecDeque<PatternId>,
    /// Masked text -> (text, its slot, the generation it was placed in).
    cache: PreHashedMap<(Box<str>, u32, u64)>,
    /// See [`MinerSnapshot::relearning_since`].
    relearning_since: Option<chrono::DateTime<chrono::Utc>>,
    /// Bumped by every change of the patterns' shapes (a pattern created,
    /// generalised, merged or evicted). A cached placement is used only in
    /// the generation that made it, so the cache never decides where a
    /// message goes: [`Miner::place`] would choose the same, and a restored
    /// miner (empty cache) or a cleared cache gives the same ids.
    generation: u64,
    seq: u64,
    stats: MinerStats,
    masked: String,
    spans: Vec<(u32, u32)>,
}

impl fmt::Debug for Miner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Miner")
            .field("service", &self.service)
            .field("patterns", &self.live)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Miner {
    /// An empty miner for `service` (part of every pattern id).
    pub fn new(service: &str, config: MinerConfig) -> Miner {
        Miner {
            service: service.to_owned(),
            config,
            slots: Vec::new(),
            heads: Vec::new(),
            free: Vec::new(),
            live: 0,
            by_len: HashMap::default(),
            by_id: HashMap::default(),
            aliases: HashMap::default(),
            alias_order: VecDeque::new(),
            cache: PreHashedMap::default(),
            relearning_since: None,
            generation: 0,
            seq: 0,
            stats: MinerStats::default(),
            masked: String::new(),
            spans: Vec::new(),
        }
    }

    /// The service this miner belongs to.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// Counters since the miner was created (kept across snapshots).
    pub fn stats(&self) -> MinerStats {
        self.stats
    }

    /// Live patterns.
    pub fn len(&self) -> usize {
        self.live
    }

    /// No pattern yet.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Maps one message to its pattern.
    pub fn mine(&mut self, message: &str) -> Mined {
        self.seq += 1;
        self.stats.lines += 1;
        mask_into(message, &mut self.masked, &mut self.spans);
        let key = hash_bytes(self.masked.as_bytes());
        if let Some((text, slot, generation)) = self.cache.get(&key)
            && *generation == self.generation
            && **text == *self.masked
        {
            let slot = *slot;
            return self.hit(slot, false);
        }
        let masked = std::mem::take(&mut self.masked);
        let tokens: Vec<&str> = self
            .spans
            .iter()
            .map(|&(a, b)| &masked[a as usize..b as usize])
            .collect();
        let (slot, new) = self.place(&tokens);
        if self.cache.len() >= self.config.max_cache {
            self.cache.clear();
            self.stats.cache_resets += 1;
        }
        self.cache
            .insert(key, (masked.as_str().into(), slot, self.generation));
        self.masked = masked;
        self.hit(slot, new)
    }

    /// The current id of a pattern id handed out earlier (itself, or the
    /// pattern it merged into); `None` once evicted.
    pub fn resolve(&self, id: PatternId) -> Option<PatternId> {
        self.slot_of(id).map(|slot| self.pattern(slot).id)
    }

    /// The current template of a pattern id handed out earlier.
    pub fn template(&self, id: PatternId) -> Option<String> {
        self.slot_of(id).map(|slot| self.pattern(slot).template())
    }

    /// Messages counted for the current pattern of a pattern id handed out
    /// earlier (merged patterns included); `None` once evicted.
    pub fn count(&self, id: PatternId) -> Option<u64> {
        self.slot_of(id).map(|slot| self.pattern(slot).count)
    }

    /// The live patterns, oldest first.
    pub fn patterns(&self) -> Vec<PatternSnapshot> {
        let mut all: Vec<PatternSnapshot> = self
            .slots
            .iter()
            .flatten()
            .map(|p| PatternSnapshot {
                id: p.id,
                template: p.template(),
                count: p.count,
                first_seq: p.first_seq,
                last_seq: p.last_seq,
            })
            .collect();
        all.sort_by_key(|p| (p.first_seq, p.id));
        all
    }

    fn pattern(&self, slot: u32) -> &Pattern {
        match &self.slots[slot as usize] {
            Some(p) => p,
            None => unreachable!("slot {slot} is indexed but empty"),
        }
    }

    fn pattern_mut(&mut self, slot: u32) -> &mut Pattern {
        match &mut self.slots[slot as usize] {
            Some(p) => p,
            None => unreachable!("slot {slot} is indexed but empty"),
        }
    }

    fn hit(&mut self, slot: u32, new: bool) -> Mined {
        let seq = self.seq;
        let p = self.pattern_mut(slot);
        p.count += 1;
        p.last_seq = seq;
        Mined { id: p.id, new }
    }

    fn slot_of(&self, mut id: PatternId) -> Option<u32> {
        for _ in 0..64 {
            if let Some(&slot) = self.by_id.get(&id) {
                return Some(slot);
            }
            id = *self.aliases.get(&id)?;
        }
        None
    }

    /// Finds or creates the pattern of a masked message (not yet counted).
    fn place(&mut self, tokens: &[&str]) -> (u32, bool) {
        let candidates = self.by_len.get(&tokens.len()).cloned().unwrap_or_default();
        let flags = tokens_flags(tokens);
        let keys = token_keys(tokens);

        // 3. A pattern that differs only where values vary.
        let mut best: Option<(u32, Comparison)> = None;
        for &slot in &candidates {
            if !self.heads[slot as usize].may_take(&keys, &flags) {
                continue;
            }
            let Some(cmp) = compare(self.pattern(slot), &keys, &flags) else {
                continue;
            };
            let better = match &best {
                None => true,
                Some((b, bc)) => {
                    let (p, q) = (self.pattern(slot), self.pattern(*b));
                    (
                        cmp.variable.len(),
                        std::cmp::Reverse(cmp.matched),
                        p.first_seq,
                    ) < (
                        bc.variable.len(),
                        std::cmp::Reverse(bc.matched),
                        q.first_seq,
                    )
                }
            };
            if better {
                best = Some((slot, cmp));
            }
        }
        if let Some((slot, cmp)) = best {
            if cmp.variable.is_empty() {
                return (slot, false);
            }
            return (self.generalise(slot, &cmp.variable), false);
        }

        // 4. Siblings differing in one word position.
        if let Some(slot) = self.merge_siblings(&keys, &flags, &candidates, None) {
            return (slot, false);
        }

        // 5. A variable spanning one word more or less than in a pattern.
        if let Some(slot) = self.align_span(&keys, &flags) {
            return (slot, false);
        }

        // 6. A value of several words where a pattern has one `<*>` or
        // enough patterns have other words (`runs`).
        if let Some(slot) = self.align_run(tokens, &keys, &flags) {
            return (slot, false);
        }

        // A known pattern that takes the message by several runs or
        // spans at once (`run_known.rs`): it would merge the new one.
        if let Some(slot) = self.known_taker(tokens, &keys, &flags) {
            return (slot, false);
        }

        // 7. A new pattern.
        if self.live >= self.config.max_patterns.max(1) {
            self.evict_least_used();
        }
        let template = tokens.join(" ");
        let mut id = PatternId::of(&self.service, &template);
        let mut salt = 0u32;
        while self.by_id.contains_key(&id) {
            salt += 1;
            id = PatternId::of(&self.service, &format!("{template}\0{salt}"));
        }
        // The id may have been merged away earlier: it is a pattern again,
        // so its alias goes, from the eviction order too (a stale entry there
        // would list the alias twice in a snapshot once it is aliased again,
        // and evict its newer alias early).
        if self.aliases.remove(&id).is_some() {
            self.alias_order.retain(|from| *from != id);
        }
        self.stats.created += 1;
        let slot = self.insert(Pattern {
            id,
            tokens: tokens.iter().map(|t| Box::from(*t)).collect(),
            flags,
            keys,
            count: 0,
            first_seq: self.seq,
            last_seq: self.seq,
        });
        self.merge_taken(slot);
        // A pattern of another length it meets by a run (`run_meet.rs`).
        let survivor = self.merge_run_met(slot);
        (survivor, survivor == slot)
    }

    /// When enough patterns differ from `tokens` in one word position only,
    /// makes that position a variable and returns the survivor.
    fn merge_siblings(
        &mut self,
        keys: &[u64],
        flags: &[u8],
        candidates: &[u32],
        existing: Option<u32>,
    ) -> Option<u32> {
        let mut by_position: HashMap<usize, Vec<u32>> = HashMap::new();
        for &slot in candidates {
            if Some(slot) == existing || self.heads[slot as usize].differs_twice(keys) {
                continue;
            }
            let p = self.pattern(slot);
            let mut differing = None;
            let mut count = 0;
            for (i, key) in keys.iter().enumerate() {
                // A wildcard of the pattern takes any word.
                if !p.is_wild(i) && p.keys[i] != *key {
                    count += 1;
                    differing = Some(i);
                    if count > 1 {
                        break;
                    }
                }
            }
            // Different keys (`hit/<*>` / `miss/<*>`) count a pattern as a
            // sibling only where it has no `<*>` that the message fills
            // with a word: the `<*>` may be younger than the pattern's
            // other lines, so whether it counted would depend on the order
            // the lines came in.
            if count == 1
                && let Some(i) = differing
                && (flags[i] & KEYED == 0
                    || (0..keys.len()).all(|j| !p.is_wild(j) || flags[j] & WILD != 0))
            {
                by_position.entry(i).or_default().push(slot);
            }
        }
        // Words around the position: plain words and keys (`pid=<*>`), not
        // the punctuation around a masked value (`<*>]:`, `(<*>)`) nor a
        // token without a letter or digit (`-`, `|`: no word of the event,
        // session 22, round 19; `- [info] Started flows` / `Stopping
        // flows` / `Starting flows` are three events), and
        // only where no sibling has a `<*>`: the words the merged pattern
        // keeps. (Counted on the message alone, `reply gateway is
        // NXDOMAIN` had four words, so `config <*> is <*>` and `cached <*>
        // is <*>` were enough siblings to make `<*> <*> is <*>`, which a
        // message with a host of digits would have needed six for.)
        let constant = |f: u8| f & MASKED == 0 || f & KEYED != 0;
        let mut chosen: Option<(usize, Vec<u32>)> = None;
        for (i, slots) in by_position {
            let around = (0..flags.len())
                .filter(|&j| {
                    j != i
                        && constant(flags[j])
                        && slots.iter().all(|&s| !self.pattern(s).is_wild(j))
                        && slots.first().is_some_and(|&s| {
                            self.pattern(s).tokens[j]
                                .bytes()
                                .any(|b| b.is_ascii_alphanumeric())
                        })
                })
                .count();
            // A word whose neighbours are all bare `<*>` (`LEADING`,
            // `DHCPACK(<*>) <*>`) is what the event is: no number of
            // siblings makes it a value, the pattern `<*> <*>` would take
            // every such message.
            if (0..flags.len()).all(|j| j == i || flags[j] & WILD != 0) {
                continue;
            }
            // Different keys (`user=<*>` / `uid=<*>`, `hit/<*>` / `miss/<*>`)
            // name different fields or outcomes more often than they are
            // values of one variable: they need the most evidence.
            let opening_name = slots
                .first()
                .is_some_and(|&s| flags::in_opening_name(&self.pattern(s).tokens, i));
            let needed = match around {
                _ if flags[i] & KEYED != 0 || opening_name => 6,
                // A capitalised or upper-case word that opens the message
                // before a lower-case word is the event's verb or its
                // subject's kind more often than a value (`Attach` /
                // `Detach volume completed`, `Zabbix` / `SNMP` / `IPMI
                // agent item`), where a request's method opens a path
                // (`GET <*> user=<*>`): it needs the evidence keys need
                // (session 28, round 40).
                _ if i == 0 && slots.iter().all(|&s| opens_phrase(&self.pattern(s).tokens)) => 6,
                0 | 1 => 6,
                2 => 4,
                _ => 3,
            };
            if slots.len() + 1 < needed {
                continue;
            }
            let better = match &chosen {
                None => true,
                Some((ci, cs)) => {
                    (slots.len(), std::cmp::Reverse(i)) > (cs.len(), std::cmp::Reverse(*ci))
                }
            };
            if better {
                chosen = Some((i, slots));
            }
        }
        let (position, mut slots) = chosen?;
        slots.extend(existing);
        slots.sort_by_key(|&s| (self.pattern(s).first_seq, self.pattern(s).id));
        // The survivor keeps every variable position of the merged ones, so
        // it still covers all of their lines.
        let mut positions = vec![position];
        for &s in &slots {
            let p = self.pattern(s);
            positions.extend((0..keys.len()).filter(|&i| p.is_wild(i)));
        }
        positions.sort_unstable();
        positions.dedup();
        let survivor = slots[0];
        for &other in &slots[1..] {
            self.merge_into(other, survivor);
        }
        Some(self.generalise(survivor, &positions))
    }

    /// Turns `positions` of a pattern into variables, merges every pattern it
    /// now covers, then looks for siblings of the new form. Returns the slot
    /// of the pattern that holds the result.
    fn generalise(&mut self, slot: u32, positions: &[usize]) -> u32 {
        self.generation += 1;
        let p = self.pattern_mut(slot);
        for &i in positions {
            p.tokens[i] = Box::from(WILDCARD);
            p.flags[i] = MASKED | WILD;
            p.keys[i] = hash_bytes(WILDCARD.as_bytes());
        }
        let len = p.tokens.len();
        self.heads[slot as usize] = Head::of(self.pattern(slot));
        let others = self.by_len.get(&len).cloned().unwrap_or_default();
        for other in others {
            if other == slot {
                continue;
            }
            let (p, q) = (self.pattern(slot), self.pattern(other));
            let covered = (0..len).all(|i| p.is_wild(i) || p.keys[i] == q.keys[i]);
            if covered {
                self.merge_into(other, slot);
            }
        }
        // A pattern one token longer or shorter that differs only by a
        // variable spanning a word more (`svchost.exe <*>` facing `<*>`)
        // now aligns with this one: the shorter takes the longer.
        let slot = self.merge_spanned(slot);
        self.merge_taken(slot);
        let slot = self.recount_runs(slot);
        let len = self.pattern(slot).tokens.len();
        let (keys, flags) = {
            let p = self.pattern(slot);
            (p.keys.clone(), p.flags.clone())
        };
        let candidates = self.by_len.get(&len).cloned().unwrap_or_default();
        let slot = self
            .merge_siblings(&keys, &flags, &candidates, Some(slot))
            .unwrap_or(slot);
        // A pattern of its length that gained its `<*>`s elsewhere now
        // meets it (`meet.rs`): the two merge whichever came first; so
        // does one of another length that it meets by a run
        // (`run_meet.rs`).
        let slot = self.merge_met(slot);
        self.merge_run_met(slot)
    }

    fn merge_into(&mut self, from: u32, into: u32) {
        let Some(gone) = self.remove(from) else {
            return;
        };
        let p = self.pattern_mut(into);
        p.count += gone.count;
        p.first_seq = p.first_seq.min(gone.first_seq);
        p.last_seq = p.last_seq.max(gone.last_seq);
        let to = p.id;
        self.add_alias(gone.id, to);
        self.stats.merged += 1;
    }

    fn add_alias(&mut self, from: PatternId, to: PatternId) {
        if self.aliases.insert(from, to).is_none() {
            self.alias_order.push_back(from);
        }
        let max = self.config.max_patterns.max(1) * 4;
        while self.alias_order.len() > max {
            if let Some(old) = self.alias_order.pop_front() {
                self.aliases.remove(&old);
            }
        }
    }

    fn evict_least_used(&mut self) {
        let victim = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.as_ref().map(|p| (p.count, p.last_seq, i)))
            .min();
        if let Some((_, _, slot)) = victim {
            self.remove(slot as u32);
            self.stats.evicted += 1;
        }
    }

    fn insert(&mut self, pattern: Pattern) -> u32 {
        self.generation += 1;
        let len = pattern.tokens.len();
        let id = pattern.id;
        let head = Head::of(&pattern);
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some(pattern);
                self.heads[slot as usize] = head;
                slot
            }
            None => {
                self.slots.push(Some(pattern));
                self.heads.push(head);
                (self.slots.len() - 1) as u32
            }
        };
        self.by_len.entry(len).or_default().push(slot);
        self.by_id.insert(id, slot);
        self.live += 1;
        slot
    }

    /// Pattern `slot` takes `shape`'s tokens (its id and counts stay), and
    /// moves to its new length's list ([`Miner::relength`]).
    fn take_shape(&mut self, slot: u32, shape: Pattern) {
        let old_len = self.pattern(slot).tokens.len();
        let p = self.pattern_mut(slot);
        p.tokens = shape.tokens;
        p.flags = shape.flags;
        p.keys = shape.keys;
        self.relength(slot, old_len);
    }

    /// After pattern `slot`'s tokens changed from `old_len` in number: it
    /// moves to its new length's list, and its head is read again.
    fn relength(&mut self, slot: u32, old_len: usize) {
        let len = self.pattern(slot).tokens.len();
        if len != old_len {
            if let Some(list) = self.by_len.get_mut(&old_len) {
                list.retain(|&s| s != slot);
            }
            self.by_len.entry(len).or_default().push(slot);
        }
        self.heads[slot as usize] = Head::of(self.pattern(slot));
    }

    fn remove(&mut self, slot: u32) -> Option<Pattern> {
        let p = self.slots.get_mut(slot as usize)?.take()?;
        self.generation += 1;
        if let Some(list) = self.by_len.get_mut(&p.tokens.len()) {
            list.retain(|&s| s != slot);
        }
        self.by_id.remove(&p.id);
        self.free.push(slot);
        self.live -= 1;
        Some(p)
    }
}

/// Compares a pattern with a masked message of the same length: `None` when
/// a position holds two different words, or when the differences outnumber
/// the equal constant tokens.
fn compare(p: &Pattern, keys: &[u64], flags: &[u8]) -> Option<Comparison> {
    let mut matched = 0;
    let mut variable = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        if p.is_wild(i) {
            continue;
        }
        if p.keys[i] == *key {
            matched += 1;
            continue;
        }
        let (a, b) = (p.flags[i], flags[i]);
        if !variable_like(a, b) {
            return None;
        }
        variable.push(i);
    }
    if !variable.is_empty() {
        if variable.len() > matched {
            return None;
        }
        // Equal words of an opening bracketed group are no evidence
        // (`prefix`): looked for only here, where they could decide, not on
        // every comparison.
        let in_group = prefix::opening_group(&p.tokens)
            .filter(|&i| !p.is_wild(i) && p.keys[i] == keys[i])
            .count();
        if variable.len() > matched - in_group {
            return None;
        }
    }
    // A pattern of variables only takes messages of variables only.
    if matched == 0 && flags.iter().any(|f| f & MASKED == 0) {
        return None;
    }
    Some(Comparison { matched, variable })
}

/// Whether a pattern opens with a word of letters that opens with a
/// capital (`Zabbix`, `SNMP`) and a plain lower-case word after it.
fn opens_phrase(tokens: &[Box<str>]) -> bool {
    let [first, second, ..] = tokens else {
        return false;
    };
    first.as_bytes().first().is_some_and(u8::is_ascii_uppercase)
        && first.bytes().all(|b| b.is_ascii_alphabetic())
        && second
            .as_bytes()
            .first()
            .is_some_and(u8::is_ascii_lowercase)
        && second.bytes().all(|b| b.is_ascii_lowercase())
}

#[cfg(test)]
mod tests;
