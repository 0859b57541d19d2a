//! MATLAB Level 5 MAT-files (v5/v7 with zlib): the subset ONC spectrogram files use.
//!
//! Decision: hand-written rather than `matrw` 0.1.4. matrw rejects SciPy-written headers and
//! `expect`s on metadata, so it would need both a shim and a fork to meet our "typed error,
//! never panic" rule; the v5 layout we need (numeric, logical, char, 1×1 struct, cell, zlib
//! `miCOMPRESSED`) is small, and owning it lets the reader bound every allocation by the bytes
//! actually present. `flate2` does the zlib part.
//!
//! What is supported:
//! - Reading: double, single, all integer classes, logical, char (UTF-8, UTF-16, Latin-1,
//!   UTF-32 storage), 1×1 structs (nested), cell arrays, any numeric storage type for any
//!   numeric class (MATLAB stores integer-valued doubles as small ints), both byte orders,
//!   `miCOMPRESSED` elements. Not supported (typed `Unsupported` error): complex, sparse,
//!   objects, function handles, struct arrays other than 1×1, char matrices with several rows,
//!   `uint64` values above `i64::MAX`, v7.3 (HDF5) files.
//! - Writing: little-endian, a fixed header text (no date, so equal input gives equal bytes),
//!   every variable optionally wrapped in its own zlib `miCOMPRESSED` element like MATLAB's
//!   `-v7`. Chars are stored as UTF-8 (`miUTF8`) with dims 1×(number of characters), as SciPy
//!   does: SciPy decodes `miUINT16` char data with the system codec, not UTF-16, so non-ASCII
//!   text written as MATLAB-style UTF-16 comes back garbled there; MATLAB reads `miUTF8` too.
//!   (For characters outside the BMP, MATLAB would count UTF-16 units; such text is not expected
//!   in ONC files.)
//!
//! Semantics are MATLAB's: every array has at least two dimensions and data is column-major.

mod num;
mod read;
mod write;

use super::error::FormatError;
use crate::atomic::write_atomic;
use std::path::Path;

pub use read::decode_mat;
pub use write::encode_mat;

/// Integer classes of MATLAB numeric arrays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntClass {
    /// `int8`.
    Int8,
    /// `uint8`.
    UInt8,
    /// `int16`.
    Int16,
    /// `uint16`.
    UInt16,
    /// `int32`.
    Int32,
    /// `uint32`.
    UInt32,
    /// `int64`.
    Int64,
    /// `uint64` (values above `i64::MAX` are not supported).
    UInt64,
}

impl IntClass {
    /// The MATLAB class name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Int8 => "int8",
            Self::UInt8 => "uint8",
            Self::Int16 => "int16",
            Self::UInt16 => "uint16",
            Self::Int32 => "int32",
            Self::UInt32 => "uint32",
            Self::Int64 => "int64",
            Self::UInt64 => "uint64",
        }
    }

    /// The inclusive range of values the class holds (as `i64`).
    #[must_use]
    pub fn range(self) -> (i64, i64) {
        match self {
            Self::Int8 => (i64::from(i8::MIN), i64::from(i8::MAX)),
            Self::UInt8 => (0, i64::from(u8::MAX)),
            Self::Int16 => (i64::from(i16::MIN), i64::from(i16::MAX)),
            Self::UInt16 => (0, i64::from(u16::MAX)),
            Self::Int32 => (i64::from(i32::MIN), i64::from(i32::MAX)),
            Self::UInt32 => (0, i64::from(u32::MAX)),
            Self::Int64 => (i64::MIN, i64::MAX),
            Self::UInt64 => (0, i64::MAX),
        }
    }
}

/// One MATLAB value.
#[derive(Debug, Clone, PartialEq)]
pub enum MatValue {
    /// `double` array; `data` is column-major, `dims` has at least two entries.
    Double {
        /// Dimensions (rows, columns, ...).
        dims: Vec<usize>,
        /// Values, column-major.
        data: Vec<f64>,
    },
    /// `single` array.
    Single {
        /// Dimensions.
        dims: Vec<usize>,
        /// Values, column-major.
        data: Vec<f32>,
    },
    /// Integer array of any integer class.
    Int {
        /// The MATLAB class.
        class: IntClass,
        /// Dimensions.
        dims: Vec<usize>,
        /// Values, column-major, within `class.range()`.
        data: Vec<i64>,
    },
    /// `logical` array.
    Logical {
        /// Dimensions.
        dims: Vec<usize>,
        /// Values, column-major.
        data: Vec<bool>,
    },
    /// A 1×N char array (a string). Written as 1×N (0×0 when empty).
    Char(String),
    /// A 1×1 struct: fields in order, values nestable.
    Struct(Vec<(String, MatValue)>),
    /// A cell array.
    Cell {
        /// Dimensions.
        dims: Vec<usize>,
        /// Elements, column-major.
        data: Vec<MatValue>,
    },
}

impl MatValue {
    /// A column-major `double` matrix.
    #[must_use]
    pub fn matrix(rows: usize, cols: usize, data: Vec<f64>) -> Self {
        Self::Double {
            dims: vec![rows, cols],
            data,
        }
    }

    /// A 1×N row vector of doubles.
    #[must_use]
    pub fn row(data: Vec<f64>) -> Self {
        Self::Double {
            dims: vec![1, data.len()],
            data,
        }
    }

    /// A 1×1 double.
    #[must_use]
    pub fn scalar(v: f64) -> Self {
        Self::Double {
            dims: vec![1, 1],
            data: vec![v],
        }
    }

    /// The MATLAB class name (`double`, `char`, `struct`, ...).
    #[must_use]
    pub fn class_name(&self) -> &'static str {
        match self {
            Self::Double { .. } => "double",
            Self::Single { .. } => "single",
            Self::Int { class, .. } => class.name(),
            Self::Logical { .. } => "logical",
            Self::Char(_) => "char",
            Self::Struct(_) => "struct",
            Self::Cell { .. } => "cell",
        }
    }

    /// The MATLAB dimensions of the value.
    #[must_use]
    pub fn dims(&self) -> Vec<usize> {
        match self {
            Self::Double { dims, .. }
            | Self::Single { dims, .. }
            | Self::Int { dims, .. }
            | Self::Logical { dims, .. }
            | Self::Cell { dims, .. } => dims.clone(),
            Self::Char(s) => {
                let n = s.chars().count();
                if n == 0 { vec![0, 0] } else { vec![1, n] }
            }
            Self::Struct(_) => vec![1, 1],
        }
    }

    /// A struct field by name.
    #[must_use]
    pub fn field(&self, name: &str) -> Option<&MatValue> {
        match self {
            Self::Struct(fields) => fields.iter().find(|(n, _)| n == name).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Looks a variable up by name in a decoded file.
#[must_use]
pub fn find_var<'a>(vars: &'a [(String, MatValue)], name: &str) -> Option<&'a MatValue> {
    vars.iter().find(|(n, _)| n == name).map(|(_, v)| v)
}

/// Writes variables as a MAT v5 file, atomically; `compress` wraps each in zlib.
pub fn write_mat(
    path: &Path,
    vars: &[(String, MatValue)],
    compress: bool,
) -> Result<(), FormatError> {
    let bytes = encode_mat(vars, compress)?;
    write_atomic(path, &bytes).map_err(|e| FormatError::io(path, e))
}

/// Reads every variable of a MAT v5 file.
pub fn read_mat(path: &Path) -> Result<Vec<(String, MatValue)>, FormatError> {
    let bytes = std::fs::read(path).map_err(|e| FormatError::io(path, e))?;
    decode_mat(&bytes)
}

/// MAT v5 data types (`mi*`).
pub(crate) mod mi {
    pub(crate) const INT8: u32 = 1;
    pub(crate) const UINT8: u32 = 2;
    pub(crate) const INT16: u32 = 3;
    pub(crate) const UINT16: u32 = 4;
    pub(crate) const INT32: u32 = 5;
    pub(crate) const UINT32: u32 = 6;
    pub(crate) const SINGLE: u32 = 7;
    pub(crate) const DOUBLE: u32 = 9;
    pub(crate) const INT64: u32 = 12;
    pub(crate) const UINT64: u32 = 13;
    pub(crate) const MATRIX: u32 = 14;
    pub(crate) const COMPRESSED: u32 = 15;
    pub(crate) const UTF8: u32 = 16;
    pub(crate) const UTF16: u32 = 17;
    pub(crate) const UTF32: u32 = 18;
}

/// MAT v5 array classes (`mx*`).
pub(crate) mod mx {
    pub(crate) const CELL: u8 = 1;
    pub(crate) const STRUCT: u8 = 2;
    pub(crate) const CHAR: u8 = 4;
    pub(crate) const DOUBLE: u8 = 6;
    pub(crate) const SINGLE: u8 = 7;
    pub(crate) const INT8: u8 = 8;
    pub(crate) const UINT8: u8 = 9;
    pub(crate) const INT16: u8 = 10;
    pub(crate) const UINT16: u8 = 11;
    pub(crate) const INT32: u8 = 12;
    pub(crate) const UINT32: u8 = 13;
    pub(crate) const INT64: u8 = 14;
    pub(crate) const UINT64: u8 = 15;
}

/// Array flag bits (second byte of the flags word).
pub(crate) const FLAG_COMPLEX: u8 = 0x08;
pub(crate) const FLAG_LOGICAL: u8 = 0x02;

impl IntClass {
    pub(crate) fn mx(self) -> u8 {
        match self {
            Self::Int8 => mx::INT8,
            Self::UInt8 => mx::UINT8,
            Self::Int16 => mx::INT16,
            Self::UInt16 => mx::UINT16,
            Self::Int32 => mx::INT32,
            Self::UInt32 => mx::UINT32,
            Self::Int64 => mx::INT64,
            Self::UInt64 => mx::UINT64,
        }
    }

    pub(crate) fn from_mx(c: u8) -> Option<Self> {
        Some(match c {
            mx::INT8 => Self::Int8,
            mx::UINT8 => Self::UInt8,
            mx::INT16 => Self::Int16,
            mx::UINT16 => Self::UInt16,
            mx::INT32 => Self::Int32,
            mx::UINT32 => Self::UInt32,
            mx::INT64 => Self::Int64,
            mx::UINT64 => Self::UInt64,
            _ => return None,
        })
    }
}
