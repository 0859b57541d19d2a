//! MAT v5 reader: bounded, panic-free parsing of untrusted bytes.
//!
//! Every length field is checked against the bytes that remain before anything is sliced or
//! allocated, so a garbled length yields `Truncated`, never a huge allocation. Element counts
//! come from the data actually present and must match the declared dimensions. Nesting is
//! capped at [`MAX_DEPTH`] so a crafted file cannot exhaust the stack. Decompression of an
//! `miCOMPRESSED` element reads the inner tag, then at most the announced length; deflate's
//! maximum ratio (~1032:1) bounds the output by the compressed input.

#![expect(
    clippy::cast_possible_wrap,
    reason = "codec and container arithmetic: sample, frame and byte counts are range-checked against the format's limits before these casts"
)]

use super::num::numbers;
use super::{FLAG_COMPLEX, FLAG_LOGICAL, IntClass, MatValue, mi, mx};
use crate::formats::error::{FormatError, FormatKind};
use flate2::read::ZlibDecoder;
use std::io::Read;

const KIND: FormatKind = FormatKind::Mat;

/// Deepest nesting of structs and cells accepted.
pub(crate) const MAX_DEPTH: usize = 64;

/// A bounds-checked view of MAT bytes.
#[derive(Clone, Copy)]
pub(super) struct Input<'a> {
    pub(super) bytes: &'a [u8],
    pub(super) pos: usize,
    /// Offset of `bytes[0]` in the stream, for error messages.
    pub(super) base: u64,
    pub(super) big_endian: bool,
}

impl<'a> Input<'a> {
    pub(super) fn at(&self) -> u64 {
        self.base + self.pos as u64
    }

    pub(super) fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }

    pub(super) fn take(&mut self, n: usize) -> Result<&'a [u8], FormatError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        match end {
            Some(end) => {
                let s = &self.bytes[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => Err(FormatError::Truncated {
                format: KIND,
                offset: self.at(),
                needed: (n - self.remaining()) as u64,
            }),
        }
    }

    pub(super) fn u32(&mut self) -> Result<u32, FormatError> {
        let b = self.take(4)?;
        let a = [b[0], b[1], b[2], b[3]];
        Ok(if self.big_endian {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        })
    }

    fn skip_padding(&mut self, n: usize) {
        let padded = n.div_ceil(8) * 8;
        self.pos = self.pos.saturating_add(padded - n).min(self.bytes.len());
    }

    /// Reads one data element: `(type, payload)`, handling the packed small-element form.
    pub(super) fn element(&mut self) -> Result<(u32, Input<'a>), FormatError> {
        let first = self.u32()?;
        let (ty, payload) = if first >> 16 != 0 {
            // Small element: type in the low half, size in the high half, data in 4 bytes.
            let n = (first >> 16) as usize;
            if n > 4 {
                return Err(FormatError::invalid(
                    KIND,
                    format!("small element of {n} bytes at {}", self.at() - 4),
                ));
            }
            let base = self.at();
            let data = self.take(4)?;
            (
                first & 0xffff,
                Input {
                    bytes: &data[..n],
                    pos: 0,
                    base,
                    big_endian: self.big_endian,
                },
            )
        } else {
            let n = self.u32()? as usize;
            let base = self.at();
            let data = self.take(n)?;
            if first != mi::COMPRESSED {
                self.skip_padding(n);
            }
            (
                first,
                Input {
                    bytes: data,
                    pos: 0,
                    base,
                    big_endian: self.big_endian,
                },
            )
        };
        Ok((ty, payload))
    }
}

/// Decodes a MAT v5 file held in memory.
pub fn decode_mat(bytes: &[u8]) -> Result<Vec<(String, MatValue)>, FormatError> {
    if bytes.len() < 128 {
        return Err(if bytes.starts_with(b"MATLAB") || bytes.is_empty() {
            FormatError::Truncated {
                format: KIND,
                offset: bytes.len() as u64,
                needed: (128 - bytes.len()) as u64,
            }
        } else {
            FormatError::BadMagic { expected: KIND }
        });
    }
    let big_endian = match &bytes[126..128] {
        b"IM" => false,
        b"MI" => true,
        _ => return Err(FormatError::BadMagic { expected: KIND }),
    };
    let v = [bytes[124], bytes[125]];
    let version = if big_endian {
        u16::from_be_bytes(v)
    } else {
        u16::from_le_bytes(v)
    };
    if version == 0x0200 {
        return Err(FormatError::unsupported(KIND, "mat v7.3 (hdf5) files"));
    }
    if version != 0x0100 {
        return Err(FormatError::unsupported(
            KIND,
            format!("mat version {version:#06x}"),
        ));
    }
    let mut input = Input {
        bytes,
        pos: 128,
        base: 0,
        big_endian,
    };
    let mut vars = Vec::new();
    while input.remaining() > 0 {
        let (ty, payload) = input.element()?;
        let (name, value) = match ty {
            mi::MATRIX => matrix(payload, 0)?,
            mi::COMPRESSED => compressed(payload)?,
            other => {
                return Err(FormatError::invalid(
                    KIND,
                    format!("top-level element of type {other} at {}", payload.base),
                ));
            }
        };
        vars.push((name, value));
    }
    Ok(vars)
}

fn compressed(payload: Input<'_>) -> Result<(String, MatValue), FormatError> {
    let zerr = |e: std::io::Error| FormatError::codec(KIND, e);
    let mut z = ZlibDecoder::new(payload.bytes);
    let mut head = [0u8; 8];
    z.read_exact(&mut head).map_err(zerr)?;
    let word = |b: [u8; 4]| {
        if payload.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    };
    let ty = word([head[0], head[1], head[2], head[3]]);
    let n = word([head[4], head[5], head[6], head[7]]);
    if ty != mi::MATRIX {
        return Err(FormatError::invalid(
            KIND,
            format!("compressed element of type {ty} at {}", payload.base),
        ));
    }
    let mut body = Vec::new();
    z.take(u64::from(n)).read_to_end(&mut body).map_err(zerr)?;
    if body.len() != n as usize {
        return Err(FormatError::Truncated {
            format: KIND,
            offset: payload.base,
            needed: u64::from(n) - body.len() as u64,
        });
    }
    // Offsets inside a compressed element count from the start of its decompressed matrix.
    matrix(
        Input {
            bytes: &body,
            pos: 0,
            base: 0,
            big_endian: payload.big_endian,
        },
        0,
    )
}

/// Parses the payload of an `miMATRIX` element.
#[expect(
    clippy::too_many_lines,
    reason = "one pass over a matrix element's sub-elements, in the order the format lays them out"
)]
fn matrix(mut m: Input<'_>, depth: usize) -> Result<(String, MatValue), FormatError> {
    if depth > MAX_DEPTH {
        return Err(FormatError::unsupported(
            KIND,
            format!("nesting deeper than {MAX_DEPTH}"),
        ));
    }
    if m.bytes.is_empty() {
        // MATLAB writes an empty `[]` struct field as a matrix element with no payload.
        return Ok((
            String::new(),
            MatValue::Double {
                dims: vec![0, 0],
                data: Vec::new(),
            },
        ));
    }
    let (ty, mut flags) = m.element()?;
    if ty != mi::UINT32 || flags.bytes.len() != 8 {
        return Err(FormatError::invalid(
            KIND,
            format!("array flags of type {ty} at {}", flags.base),
        ));
    }
    let word = flags.u32()?;
    let class = (word & 0xff) as u8;
    let bits = ((word >> 8) & 0xff) as u8;
    let (ty, mut d) = m.element()?;
    if ty != mi::INT32 || d.bytes.len() < 8 || d.bytes.len() % 4 != 0 {
        return Err(FormatError::invalid(
            KIND,
            format!("dimensions element at {}", d.base),
        ));
    }
    let mut dims = Vec::with_capacity(d.bytes.len() / 4);
    while d.remaining() > 0 {
        let v = d.u32()? as i32;
        dims.push(
            usize::try_from(v)
                .map_err(|_| FormatError::invalid(KIND, format!("negative dimension {v}")))?,
        );
    }
    let (ty, name) = m.element()?;
    if ty != mi::INT8 && ty != mi::UINT8 && ty != mi::UTF8 {
        return Err(FormatError::invalid(
            KIND,
            format!("array name of type {ty} at {}", name.base),
        ));
    }
    let name = String::from_utf8(name.bytes.to_vec()).map_err(|_| {
        FormatError::invalid(KIND, format!("array name at {} is not utf-8", name.base))
    })?;
    let count = dims.iter().try_fold(1usize, |a, &b| a.checked_mul(b));
    let count =
        count.ok_or_else(|| FormatError::invalid(KIND, format!("dims {dims:?} overflow")))?;
    if bits & FLAG_COMPLEX != 0 {
        return Err(FormatError::unsupported(
            KIND,
            format!("complex array {name:?}"),
        ));
    }
    let value = match class {
        mx::DOUBLE => MatValue::Double {
            data: numbers(&mut m, count)?,
            dims,
        },
        mx::SINGLE => MatValue::Single {
            data: numbers(&mut m, count)?,
            dims,
        },
        mx::UINT8 if bits & FLAG_LOGICAL != 0 => MatValue::Logical {
            data: numbers(&mut m, count)?,
            dims,
        },
        mx::CHAR => chars(&mut m, &dims)?,
        mx::STRUCT => structure(&mut m, &dims, depth)?,
        mx::CELL => {
            // Each element needs at least an 8-byte tag: bound the count by what is left.
            if count > m.remaining() / 8 + 1 {
                return Err(FormatError::Truncated {
                    format: KIND,
                    offset: m.at(),
                    needed: (count * 8) as u64,
                });
            }
            let mut data = Vec::with_capacity(count);
            for _ in 0..count {
                data.push(child(&mut m, depth)?);
            }
            MatValue::Cell { dims, data }
        }
        c => match IntClass::from_mx(c) {
            Some(class) => {
                let data: Vec<i64> = numbers(&mut m, count)?;
                let (lo, hi) = class.range();
                if let Some(bad) = data.iter().find(|&&v| v < lo || v > hi) {
                    return Err(FormatError::invalid(
                        KIND,
                        format!("value {bad} outside {} in {name:?}", class.name()),
                    ));
                }
                MatValue::Int { class, dims, data }
            }
            None => {
                return Err(FormatError::unsupported(
                    KIND,
                    format!("array class {} ({name:?})", class_label(c)),
                ));
            }
        },
    };
    Ok((name, value))
}

fn class_label(c: u8) -> String {
    match c {
        3 => "object".into(),
        5 => "sparse".into(),
        16 => "function handle".into(),
        17 => "opaque".into(),
        other => format!("#{other}"),
    }
}

fn child(m: &mut Input<'_>, depth: usize) -> Result<MatValue, FormatError> {
    let (ty, payload) = m.element()?;
    if ty != mi::MATRIX {
        return Err(FormatError::invalid(
            KIND,
            format!("nested element of type {ty} at {}", payload.base),
        ));
    }
    Ok(matrix(payload, depth + 1)?.1)
}

fn structure(m: &mut Input<'_>, dims: &[usize], depth: usize) -> Result<MatValue, FormatError> {
    let (ty, mut len) = m.element()?;
    if ty != mi::INT32 || len.bytes.len() != 4 {
        return Err(FormatError::invalid(
            KIND,
            format!("field name length element at {}", len.base),
        ));
    }
    let slot = len.u32()? as usize;
    let (ty, names) = m.element()?;
    if ty != mi::INT8 && ty != mi::UINT8 {
        return Err(FormatError::invalid(
            KIND,
            format!("field names of type {ty} at {}", names.base),
        ));
    }
    if slot == 0 && !names.bytes.is_empty() || slot != 0 && names.bytes.len() % slot != 0 {
        return Err(FormatError::invalid(
            KIND,
            format!(
                "field names of {} bytes in slots of {slot}",
                names.bytes.len()
            ),
        ));
    }
    if dims.iter().product::<usize>() != 1 || dims.len() != 2 {
        return Err(FormatError::unsupported(
            KIND,
            format!("struct array of dims {dims:?} (only 1x1)"),
        ));
    }
    let mut fields = Vec::new();
    for raw in names.bytes.chunks(slot.max(1)) {
        let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
        let name = std::str::from_utf8(&raw[..end])
            .map_err(|_| {
                FormatError::invalid(KIND, format!("field name at {} is not utf-8", names.base))
            })?
            .to_owned();
        fields.push((name, MatValue::Char(String::new())));
    }
    for field in &mut fields {
        field.1 = child(m, depth)?;
    }
    Ok(MatValue::Struct(fields))
}

fn chars(m: &mut Input<'_>, dims: &[usize]) -> Result<MatValue, FormatError> {
    let rows = dims.first().copied().unwrap_or(0);
    let count: usize = dims.iter().product();
    if dims.len() > 2 || (rows > 1 && count > 0) {
        return Err(FormatError::unsupported(
            KIND,
            format!("char array of dims {dims:?} (only 1xN)"),
        ));
    }
    if count == 0 && m.remaining() == 0 {
        return Ok(MatValue::Char(String::new()));
    }
    let (ty, mut data) = m.element()?;
    let at = data.base;
    let bad = || {
        FormatError::invalid(
            KIND,
            format!("char data of type {ty} at {at} is not valid text"),
        )
    };
    let text = match ty {
        mi::UTF8 => String::from_utf8(data.bytes.to_vec()).map_err(|_| bad())?,
        mi::UINT16 | mi::UTF16 | mi::INT16 => {
            let mut units = Vec::with_capacity(data.bytes.len() / 2);
            for c in data.bytes.chunks_exact(2) {
                let a = [c[0], c[1]];
                units.push(if data.big_endian {
                    u16::from_be_bytes(a)
                } else {
                    u16::from_le_bytes(a)
                });
            }
            String::from_utf16(&units).map_err(|_| bad())?
        }
        mi::UINT8 | mi::INT8 => data.bytes.iter().map(|&b| char::from(b)).collect(),
        mi::UTF32 | mi::UINT32 | mi::INT32 => {
            let mut s = String::with_capacity(data.bytes.len() / 4);
            while data.remaining() >= 4 {
                s.push(char::from_u32(data.u32()?).ok_or_else(bad)?);
            }
            s
        }
        other => {
            return Err(FormatError::invalid(
                KIND,
                format!("char data of type {other}"),
            ));
        }
    };
    Ok(MatValue::Char(text))
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::pedantic,
        clippy::print_stderr,
        reason = "test code: casts and formatting on small fixed inputs"
    )]
    use super::*;

    /// Builds a one-variable file by hand: `x = [1.5 -2]` (1×2 double) named with a packed
    /// small element, in either byte order, as MATLAB on a big-endian machine would write it.
    fn hand_made(big_endian: bool) -> Vec<u8> {
        let w = |v: u32| {
            if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let mut body = Vec::new();
        for v in [mi::UINT32, 8, u32::from(mx::DOUBLE), 0, mi::INT32, 8, 1, 2] {
            body.extend_from_slice(&w(v));
        }
        // Small element: 1 byte of miINT8 name "x", packed into the tag.
        body.extend_from_slice(&w((1 << 16) | mi::INT8));
        body.extend_from_slice(b"x\0\0\0");
        body.extend_from_slice(&w(mi::DOUBLE));
        body.extend_from_slice(&w(16));
        for v in [1.5f64, -2.0] {
            body.extend_from_slice(&if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            });
        }
        let mut file = vec![b' '; 116];
        file.extend_from_slice(&[0; 8]);
        file.extend_from_slice(&if big_endian {
            0x0100u16.to_be_bytes()
        } else {
            0x0100u16.to_le_bytes()
        });
        file.extend_from_slice(if big_endian { b"MI" } else { b"IM" });
        file.extend_from_slice(&w(mi::MATRIX));
        file.extend_from_slice(&w(body.len() as u32));
        file.extend_from_slice(&body);
        file
    }

    #[test]
    fn reads_both_byte_orders_and_small_elements() {
        for be in [false, true] {
            let vars = decode_mat(&hand_made(be)).unwrap();
            assert_eq!(
                vars,
                vec![(
                    "x".to_string(),
                    MatValue::Double {
                        dims: vec![1, 2],
                        data: vec![1.5, -2.0]
                    }
                )]
            );
        }
    }

    #[test]
    fn data_count_must_match_dims() {
        let mut f = hand_made(false);
        // Claim 1×3 while holding two values.
        let dims_at = 128 + 8 + 16 + 12;
        f[dims_at..dims_at + 4].copy_from_slice(&3u32.to_le_bytes());
        assert!(matches!(decode_mat(&f), Err(FormatError::Invalid { .. })));
    }

    #[test]
    fn empty_matrix_element_is_empty_double() {
        let (name, v) = matrix(
            Input {
                bytes: &[],
                pos: 0,
                base: 0,
                big_endian: false,
            },
            0,
        )
        .unwrap();
        assert_eq!(
            (name.as_str(), v),
            (
                "",
                MatValue::Double {
                    dims: vec![0, 0],
                    data: vec![]
                }
            )
        );
    }
}
