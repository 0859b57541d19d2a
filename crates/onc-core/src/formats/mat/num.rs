//! Conversion of MAT numeric data elements into the class the array declares.
//!
//! MATLAB may store an array's values in a smaller type than its class (integer-valued doubles
//! as `miUINT8`, for instance), so any numeric storage type is accepted for any numeric class,
//! as long as every value converts without loss; otherwise the read fails with `Unsupported`.

#![expect(
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss,
    reason = "codec and container arithmetic: sample, frame and byte counts are range-checked against the format's limits before these casts"
)]

use super::mi;
use super::read::Input;
use crate::formats::error::{FormatError, FormatKind};

const KIND: FormatKind = FormatKind::Mat;

/// A value type that numeric MAT data can be converted into without loss.
pub(super) trait Num: Sized {
    fn from_f64(v: f64) -> Option<Self>;
    fn from_i64(v: i64) -> Option<Self>;
    fn from_u64(v: u64) -> Option<Self>;
}

impl Num for f64 {
    fn from_f64(v: f64) -> Option<Self> {
        Some(v)
    }
    fn from_i64(v: i64) -> Option<Self> {
        Some(v as f64)
    }
    fn from_u64(v: u64) -> Option<Self> {
        Some(v as f64)
    }
}

impl Num for f32 {
    fn from_f64(v: f64) -> Option<Self> {
        Some(v as f32)
    }
    fn from_i64(v: i64) -> Option<Self> {
        Some(v as f32)
    }
    fn from_u64(v: u64) -> Option<Self> {
        Some(v as f32)
    }
}

impl Num for i64 {
    fn from_f64(v: f64) -> Option<Self> {
        (v.fract() == 0.0 && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&v))
            .then_some(v as i64)
    }
    fn from_i64(v: i64) -> Option<Self> {
        Some(v)
    }
    fn from_u64(v: u64) -> Option<Self> {
        i64::try_from(v).ok()
    }
}

impl Num for bool {
    fn from_f64(v: f64) -> Option<Self> {
        Some(v != 0.0)
    }
    fn from_i64(v: i64) -> Option<Self> {
        Some(v != 0)
    }
    fn from_u64(v: u64) -> Option<Self> {
        Some(v != 0)
    }
}

/// Reads the real-part data element and converts it to `T`, checking the element count.
pub(super) fn numbers<T: Num>(m: &mut Input<'_>, count: usize) -> Result<Vec<T>, FormatError> {
    if count == 0 && m.remaining() == 0 {
        return Ok(Vec::new());
    }
    let (ty, data) = m.element()?;
    let be = data.big_endian;
    let b = data.bytes;
    let size = match ty {
        mi::INT8 | mi::UINT8 => 1,
        mi::INT16 | mi::UINT16 => 2,
        mi::INT32 | mi::UINT32 | mi::SINGLE => 4,
        mi::INT64 | mi::UINT64 | mi::DOUBLE => 8,
        other => {
            return Err(FormatError::invalid(
                KIND,
                format!("numeric data of type {other} at {}", data.base),
            ));
        }
    };
    if b.len() != count.saturating_mul(size) {
        return Err(FormatError::invalid(
            KIND,
            format!(
                "numeric data at {} holds {} bytes, dims need {count} values of {size} bytes",
                data.base,
                b.len()
            ),
        ));
    }
    macro_rules! conv {
        ($t:ty, $n:literal, $via:ident, $wide:ty) => {
            b.chunks_exact($n)
                .map(|c| {
                    let mut a = [0u8; $n];
                    a.copy_from_slice(c);
                    let v = if be {
                        <$t>::from_be_bytes(a)
                    } else {
                        <$t>::from_le_bytes(a)
                    };
                    T::$via(<$wide>::from(v))
                })
                .collect::<Option<Vec<T>>>()
        };
    }
    let out = match ty {
        mi::INT8 => conv!(i8, 1, from_i64, i64),
        mi::UINT8 => conv!(u8, 1, from_i64, i64),
        mi::INT16 => conv!(i16, 2, from_i64, i64),
        mi::UINT16 => conv!(u16, 2, from_i64, i64),
        mi::INT32 => conv!(i32, 4, from_i64, i64),
        mi::UINT32 => conv!(u32, 4, from_i64, i64),
        mi::INT64 => conv!(i64, 8, from_i64, i64),
        mi::UINT64 => conv!(u64, 8, from_u64, u64),
        mi::SINGLE => conv!(f32, 4, from_f64, f64),
        _ => conv!(f64, 8, from_f64, f64),
    };
    out.ok_or_else(|| {
        FormatError::unsupported(
            KIND,
            format!(
                "numeric data at {} not representable in its class",
                data.base
            ),
        )
    })
}
