//! Checks of FLAC metadata blocks done before symphonia sees a file.
//!
//! Decision recorded here: symphonia 0.6's FLAC demuxer trusts the SEEKTABLE and subtracts byte
//! offsets without checking them (an offset past the end of the file makes its seek underflow
//! and panic in debug builds). Rather than let a garbled seek table reach it, this module walks
//! the metadata blocks (bounded by the file length) and rejects a seek table whose points are
//! not ascending or point past the end of the file, and a STREAMINFO that is not 34 bytes.

#![expect(
    clippy::cast_possible_truncation,
    reason = "codec and container arithmetic: sample, frame and byte counts are range-checked against the format's limits before these casts"
)]

use super::error::{FormatError, FormatKind};
use std::io::{Read, Seek, SeekFrom};

const KIND: FormatKind = FormatKind::Flac;
const PLACEHOLDER: u64 = u64::MAX;

fn truncated(offset: u64, needed: u64) -> FormatError {
    FormatError::Truncated {
        format: KIND,
        offset,
        needed,
    }
}

/// Walks the metadata blocks of a FLAC stream whose `fLaC` marker has already been checked.
pub(crate) fn check_metadata<R: Read + Seek>(r: &mut R, file_len: u64) -> Result<(), FormatError> {
    let io = |e: std::io::Error| FormatError::codec(KIND, e);
    let mut pos = 4u64;
    let mut seektable: Option<Vec<u8>> = None;
    let mut first = true;
    loop {
        let mut head = [0u8; 4];
        r.seek(SeekFrom::Start(pos)).map_err(io)?;
        r.read_exact(&mut head).map_err(|_| truncated(pos, 4))?;
        let last = head[0] & 0x80 != 0;
        let kind = head[0] & 0x7f;
        let len = u64::from(u32::from_be_bytes([0, head[1], head[2], head[3]]));
        let body_at = pos + 4;
        if body_at + len > file_len {
            return Err(truncated(body_at, body_at + len - file_len));
        }
        if first && (kind != 0 || len != 34) {
            return Err(FormatError::invalid(
                KIND,
                "first metadata block is not a 34-byte streaminfo",
            ));
        }
        first = false;
        if kind == 3 {
            if len % 18 != 0 || seektable.is_some() {
                return Err(FormatError::invalid(KIND, "malformed seek table block"));
            }
            // Bounded by the file length checked above.
            let mut body = vec![0u8; len as usize];
            r.read_exact(&mut body)
                .map_err(|_| truncated(body_at, len))?;
            seektable = Some(body);
        }
        pos = body_at + len;
        if last {
            break;
        }
    }
    let first_frame = pos;
    if let Some(table) = seektable {
        let mut prev: Option<(u64, u64)> = None;
        for point in table.chunks_exact(18) {
            let mut s = [0u8; 8];
            s.copy_from_slice(&point[..8]);
            let sample = u64::from_be_bytes(s);
            if sample == PLACEHOLDER {
                continue;
            }
            s.copy_from_slice(&point[8..16]);
            let offset = u64::from_be_bytes(s);
            let inside = first_frame
                .checked_add(offset)
                .is_some_and(|o| o < file_len);
            let ascending = prev.is_none_or(|(ps, po)| sample > ps && offset >= po);
            if !inside || !ascending {
                return Err(FormatError::invalid(
                    KIND,
                    format!(
                        "seek point for sample {sample} at offset {offset} is out of order or past the end"
                    ),
                ));
            }
            prev = Some((sample, offset));
        }
    }
    r.seek(SeekFrom::Start(0)).map_err(io)?;
    Ok(())
}
