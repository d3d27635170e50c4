//! A detector's long queues of numbers saved as one little-endian byte
//! string each rather than as a sequence of numbers: the same bytes for
//! postcard's fixed-width floats, read and written a slice at a time instead
//! of a value at a time (decoding and encoding saved states was a fifth of a
//! warm detect pass).

use std::collections::VecDeque;

use serde::{Deserialize, Deserializer, Serializer};

/// Writes `values`, each as its `N` little-endian bytes, as one byte string.
fn save<S: Serializer, T: Copy, const N: usize>(
    values: &VecDeque<T>,
    to_bytes: impl Fn(T) -> [u8; N],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut out = Vec::with_capacity(values.len() * N);
    for &v in values {
        out.extend_from_slice(&to_bytes(v));
    }
    serializer.serialize_bytes(&out)
}

/// Reads a byte string written by [`save`].
fn load<'de, D: Deserializer<'de>, T, const N: usize>(
    deserializer: D,
    from_bytes: impl Fn([u8; N]) -> T,
) -> Result<VecDeque<T>, D::Error> {
    let bytes = serde_bytes::ByteBuf::deserialize(deserializer)?;
    if bytes.len() % N != 0 {
        return Err(serde::de::Error::invalid_length(
            bytes.len(),
            &"a whole number of values",
        ));
    }
    Ok(bytes
        .chunks_exact(N)
        .map(|c| {
            let mut a = [0u8; N];
            a.copy_from_slice(c);
            from_bytes(a)
        })
        .collect())
}

/// `#[serde(with = "packed::f32s")]` for a `VecDeque<f32>`.
pub(super) mod f32s {
    use super::*;

    pub fn serialize<S: Serializer>(values: &VecDeque<f32>, s: S) -> Result<S::Ok, S::Error> {
        save(values, f32::to_le_bytes, s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<VecDeque<f32>, D::Error> {
        load(d, f32::from_le_bytes)
    }
}

/// `#[serde(with = "packed::f64s")]` for a `VecDeque<f64>`.
pub(super) mod f64s {
    use super::*;

    pub fn serialize<S: Serializer>(values: &VecDeque<f64>, s: S) -> Result<S::Ok, S::Error> {
        save(values, f64::to_le_bytes, s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<VecDeque<f64>, D::Error> {
        load(d, f64::from_le_bytes)
    }
}

#[cfg(test)]
mod tests {
    use serde::Serialize;

    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Both {
        #[serde(with = "f32s")]
        narrow: VecDeque<f32>,
        #[serde(with = "f64s")]
        wide: VecDeque<f64>,
    }

    #[test]
    fn queues_of_floats_come_back_bit_for_bit() {
        let both = Both {
            narrow: VecDeque::from([0.0, -1.5, f32::MAX, f32::MIN_POSITIVE, 3.25e-7]),
            wide: VecDeque::from([1e300, -0.0, 2.5, f64::EPSILON]),
        };
        let bytes = postcard::to_allocvec(&both).unwrap();
        // One length and the raw bytes per queue.
        assert_eq!(bytes.len(), 1 + 5 * 4 + 1 + 4 * 8);
        let back: Both = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back, both);
        let nan = Both {
            narrow: VecDeque::from([f32::NAN]),
            wide: VecDeque::new(),
        };
        let back: Both = postcard::from_bytes(&postcard::to_allocvec(&nan).unwrap()).unwrap();
        assert!(back.narrow[0].is_nan());
    }

    #[test]
    fn a_byte_string_of_a_partial_value_is_refused() {
        // A narrow queue of 3 bytes, then an empty wide one.
        let bytes = [3u8, 1, 2, 3, 0];
        assert!(postcard::from_bytes::<Both>(&bytes).is_err());
    }
}
