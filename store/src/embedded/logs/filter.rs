//! The text filter of a block: which byte trigrams of its ASCII-lowercased
//! messages it holds, so a text search skips a block that lacks one of its
//! needle's trigrams without reading it.
//!
//! New blocks get a Bloom filter ([`Kind::Bloom`]); blocks written by
//! earlier versions keep the binary fuse filter (xorf's `BinaryFuse8`) they
//! were written with, and still read. The Bloom filter is built in one pass
//! over the distinct trigrams (a sustained run's profile put building the
//! fuse filter, which peels a hypergraph, at 5% of the CPU) and its layout
//! is this module's own: it is stored, so its hashing must never change with
//! a dependency's version.

use std::cell::RefCell;

use xorf::{BinaryFuse8, BinaryFuse8Ref, DmaSerializable, Filter, FilterRef};

use crate::StoreError;

/// What a stored filter is (`log_block_filters.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// xorf's `BinaryFuse8` (descriptor, then fingerprints): blocks of
    /// earlier versions.
    Fuse = 0,
    /// [`bloom`]: blocks of this version.
    Bloom = 1,
}

impl Kind {
    pub fn of(stored: i64) -> Result<Kind, StoreError> {
        match stored {
            0 => Ok(Kind::Fuse),
            1 => Ok(Kind::Bloom),
            other => Err(StoreError::Corrupt(format!(
                "block filter: unknown kind {other}"
            ))),
        }
    }
}

/// Fewer distinct trigrams than this get no filter (reading the block is as
/// cheap as reading a filter).
const MIN_FILTER_KEYS: usize = 64;

/// Bits of a Bloom filter per distinct trigram, and bits set per trigram:
/// a false positive rate of about 1.7% per trigram, so a needle with a few
/// trigrams the block lacks almost never reads it.
const BITS_PER_KEY: usize = 10;
const HASHES: u64 = 3;

/// The trigram of three bytes, ASCII-lowercased.
fn trigram(w: &[u8]) -> u32 {
    u32::from(w[0].to_ascii_lowercase()) << 16
        | u32::from(w[1].to_ascii_lowercase()) << 8
        | u32::from(w[2].to_ascii_lowercase())
}

/// The distinct trigrams of texts, collected in a bitmap of every possible
/// trigram (2 MiB, one per thread, reused from block to block).
struct Trigrams {
    bits: Vec<u64>,
    touched: Vec<u32>,
}

impl Default for Trigrams {
    fn default() -> Self {
        Trigrams {
            bits: vec![0; (1 << 24) / 64],
            touched: Vec::new(),
        }
    }
}

impl Trigrams {
    fn add(&mut self, text: &[u8]) {
        let [a, b, rest @ ..] = text else {
            return;
        };
        // The trigram ending at each byte, rolled in one byte at a time.
        let mut t = u32::from(a.to_ascii_lowercase()) << 8 | u32::from(b.to_ascii_lowercase());
        for &c in rest {
            t = (t << 8 | u32::from(c.to_ascii_lowercase())) & 0xFF_FFFF;
            let word = (t / 64) as usize;
            if self.bits[word] == 0 {
                self.touched.push(t / 64);
            }
            self.bits[word] |= 1 << (t % 64);
        }
    }

    /// The distinct trigrams added since the last `take`; leaves the set
    /// empty.
    fn take(&mut self) -> Vec<u32> {
        let mut keys = Vec::new();
        for &word in &self.touched {
            let mut bits = std::mem::take(&mut self.bits[word as usize]);
            while bits != 0 {
                keys.push(word * 64 + bits.trailing_zeros());
                bits &= bits - 1;
            }
        }
        self.touched.clear();
        keys
    }
}

thread_local! {
    /// This thread's trigram set (a 2 MiB bitmap, zeroed once: a persist
    /// or a merge of small blocks used to allocate and zero one each).
    static TRIGRAMS: RefCell<Trigrams> = RefCell::new(Trigrams::default());
}

/// The Bloom filter of the trigrams of `texts` (`None` for too few to be
/// worth one).
pub(super) fn build<'a>(texts: impl IntoIterator<Item = &'a str>) -> Option<Vec<u8>> {
    let keys = TRIGRAMS.with_borrow_mut(|scratch| {
        for text in texts {
            scratch.add(text.as_bytes());
        }
        scratch.take()
    });
    (keys.len() >= MIN_FILTER_KEYS).then(|| bloom(&keys))
}

/// Two 32-bit hashes of a trigram (splitmix64's finaliser): the Bloom
/// filter's positions are `h1 + i * h2` (double hashing).
fn hashes(key: u32) -> (u64, u64) {
    let mut z = u64::from(key).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z & 0xFFFF_FFFF, (z >> 32) | 1)
}

/// The `i`-th bit of a key of hashes `(h1, h2)` in a filter of `bits` bits
/// (a 32-bit position scaled to the filter, below `bits` < 2^32).
fn bit_of((h1, h2): (u64, u64), i: u64, bits: u64) -> u64 {
    ((h1.wrapping_add(i * h2) & 0xFFFF_FFFF) * bits) >> 32
}

/// A Bloom filter of `keys`: the number of bits as a little-endian u32, then
/// the bits in little-endian u64 words.
fn bloom(keys: &[u32]) -> Vec<u8> {
    let words = (keys.len() * BITS_PER_KEY).div_ceil(64).max(1);
    let bits = words as u64 * 64;
    let mut filter = vec![0u64; words];
    for &key in keys {
        let h = hashes(key);
        for i in 0..HASHES {
            let bit = bit_of(h, i, bits);
            filter[(bit / 64) as usize] |= 1 << (bit % 64);
        }
    }
    let mut out = Vec::with_capacity(4 + words * 8);
    out.extend_from_slice(&u32::try_from(bits).unwrap_or(u32::MAX).to_le_bytes());
    for word in filter {
        out.extend_from_slice(&word.to_le_bytes());
    }
    out
}

/// The distinct trigrams of an already lowercased needle (empty when it is
/// shorter than 3 bytes).
pub(super) fn needle_trigrams(needle: &str) -> Vec<u32> {
    let mut keys: Vec<u32> = needle.as_bytes().windows(3).map(trigram).collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("block filter: {what}"))
}

/// Whether a block whose filter of `kind` is `filter` may hold every
/// trigram of `needle` (from [`needle_trigrams`]).
pub(super) fn may_contain(kind: Kind, filter: &[u8], needle: &[u32]) -> Result<bool, StoreError> {
    match kind {
        Kind::Bloom => bloom_contains(filter, needle),
        Kind::Fuse => fuse_contains(filter, needle),
    }
}

fn bloom_contains(filter: &[u8], needle: &[u32]) -> Result<bool, StoreError> {
    let (Some(head), Some(body)) = (filter.get(..4), filter.get(4..)) else {
        return Err(corrupt("too short"));
    };
    let bits = u64::from(u32::from_le_bytes([head[0], head[1], head[2], head[3]]));
    if bits == 0 || bits % 64 != 0 || body.len() as u64 * 8 != bits {
        return Err(corrupt("inconsistent lengths"));
    }
    let set = |bit: u64| {
        let at = (bit / 64) as usize * 8;
        let word = u64::from_le_bytes([
            body[at],
            body[at + 1],
            body[at + 2],
            body[at + 3],
            body[at + 4],
            body[at + 5],
            body[at + 6],
            body[at + 7],
        ]);
        word & (1 << (bit % 64)) != 0
    };
    Ok(needle.iter().all(|&key| {
        let h = hashes(key);
        (0..HASHES).all(|i| set(bit_of(h, i, bits)))
    }))
}

fn fuse_contains(filter: &[u8], needle: &[u32]) -> Result<bool, StoreError> {
    let d = BinaryFuse8::DESCRIPTOR_LEN;
    if filter.len() < d || d < 20 {
        return Err(corrupt("inconsistent lengths"));
    }
    let (descriptor, fingerprints) = filter.split_at(d);
    // A lookup indexes below segment_count_length + 2 * segment_length
    // (descriptor bytes 16..20 and 8..12; the count is a multiple of the
    // length): a corrupt descriptor must not index past the fingerprints.
    let word = |at: usize| {
        u64::from(u32::from_le_bytes([
            descriptor[at],
            descriptor[at + 1],
            descriptor[at + 2],
            descriptor[at + 3],
        ]))
    };
    let (length, mask, count) = (word(8), word(12), word(16));
    let consistent = length.is_power_of_two()
        && mask == length - 1
        && count % length == 0
        && count + 2 * length <= fingerprints.len() as u64;
    if !consistent {
        return Err(corrupt("inconsistent lengths"));
    }
    let filter = BinaryFuse8Ref::from_dma(descriptor, fingerprints);
    Ok(needle.iter().all(|&key| filter.contains(&u64::from(key))))
}

/// The filter an earlier version stored for `texts` (a fuse filter of
/// their lowercased trigrams).
#[cfg(test)]
pub(super) fn fuse_of(texts: &[String]) -> Vec<u8> {
    let mut keys: Vec<u64> = texts
        .iter()
        .flat_map(|t| t.as_bytes().windows(3).map(|w| u64::from(trigram(w))))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    let filter = BinaryFuse8::try_from(&keys).expect("a fuse filter of distinct keys");
    let mut out = vec![0; BinaryFuse8::DESCRIPTOR_LEN];
    filter.dma_copy_descriptor_to(&mut out);
    out.extend_from_slice(filter.dma_fingerprints());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages() -> Vec<String> {
        (0..200)
            .map(|i| format!("GET /api/v1/orders/{i} answered 200 in {}ms", i * 7))
            .collect()
    }

    fn check_keeps_substrings_and_skips_others(kind: Kind, filter: &[u8]) {
        for present in ["get /API", "orders/199 ans", "1393ms", "in 7ms"] {
            let keys = needle_trigrams(&present.to_ascii_lowercase());
            assert!(
                may_contain(kind, filter, &keys).unwrap(),
                "{kind:?} {present}"
            );
        }
        let absent = ["timeout", "payments-gateway", "connection refused", "zzz"];
        let skipped = absent
            .iter()
            .filter(|n| !may_contain(kind, filter, &needle_trigrams(n)).unwrap())
            .count();
        assert!(
            skipped >= 3,
            "{kind:?}: only {skipped} absent needles skipped"
        );
    }

    #[test]
    fn the_filter_keeps_every_substring_and_skips_most_others() {
        let messages = messages();
        let filter = build(messages.iter().map(String::as_str)).expect("enough trigrams");
        check_keeps_substrings_and_skips_others(Kind::Bloom, &filter);
        // Every trigram of every message is in it.
        for m in &messages {
            let keys = needle_trigrams(&m.to_ascii_lowercase());
            assert!(may_contain(Kind::Bloom, &filter, &keys).unwrap(), "{m}");
        }
        // Ten bits per distinct trigram, rounded up to a word.
        let keys = needle_trigrams(&messages.concat().to_ascii_lowercase()).len();
        assert!(
            filter.len() <= 4 + (keys * 10).div_ceil(64) * 8 + 8,
            "{}",
            filter.len()
        );
    }

    #[test]
    fn the_filters_of_earlier_versions_still_read() {
        check_keeps_substrings_and_skips_others(Kind::Fuse, &fuse_of(&messages()));
    }

    #[test]
    fn rolled_trigrams_are_the_windows_of_the_text() {
        let mut set = Trigrams::default();
        set.add(b"AbCd");
        set.add(b"x");
        set.add(b"");
        let mut keys = set.take();
        keys.sort_unstable();
        assert_eq!(keys, vec![trigram(b"abc"), trigram(b"bcd")]);
        assert!(set.take().is_empty(), "take leaves the set empty");
        assert!(build(["short"]).is_none(), "too few trigrams for a filter");
    }

    #[test]
    fn a_corrupt_filter_is_an_error_not_a_panic() {
        let filter = build(messages().iter().map(String::as_str)).unwrap();
        let fuse = fuse_of(&messages());
        let mut cut = filter.clone();
        cut.truncate(filter.len() - 1);
        let mut cut_fuse = fuse.clone();
        cut_fuse.truncate(fuse.len() - 1);
        for (kind, bad) in [
            (Kind::Bloom, &b"ab"[..]),
            (Kind::Bloom, &[0, 0, 0, 0][..]),
            (Kind::Bloom, &cut[..]),
            (Kind::Fuse, &b"junk"[..]),
            (Kind::Fuse, &cut_fuse[..]),
        ] {
            assert!(
                matches!(may_contain(kind, bad, &[1]), Err(StoreError::Corrupt(_))),
                "{kind:?} {bad:?}"
            );
        }
        assert!(matches!(Kind::of(7), Err(StoreError::Corrupt(_))));
    }
}
