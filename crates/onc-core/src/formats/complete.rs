//! Is a file whole? A structural check of WAV, FLAC, MAT v5 and PNG files, for downloads whose
//! server announced no size (a body without `Content-Length` that ends early looks like a
//! whole body to HTTP).
//!
//! Decisions recorded here:
//! - The type is sniffed from content, then from the name's extension (a body cut before its
//!   magic bytes is still judged by what it claims to be). A type neither names is not
//!   judged ([`Completeness::Unknown`]).
//! - PNG: chunks are walked by their lengths up to `IEND`. MAT: the top-level elements' sizes
//!   must fit in the file, padding included. WAV: the `data` chunk
//!   must fit in the file. These read a few bytes per chunk, never the payload.
//! - FLAC: the metadata is walked, then the stream is decoded in full and its frame count
//!   compared with STREAMINFO's total (what `read_flac` does). That is the slow case; audio
//!   normally comes with a listed size and never gets here.

use super::error::{FormatError, FormatKind};
use super::read_flac;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// What the check could tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Completeness {
    /// The file is structurally whole.
    Whole,
    /// The file is of no type this module knows: nothing can be said.
    Unknown,
}

fn truncated(format: FormatKind, offset: u64, needed: u64) -> FormatError {
    FormatError::Truncated {
        format,
        offset,
        needed,
    }
}

/// Checks that `path` holds a whole WAV, FLAC, MAT or PNG file.
///
/// # Errors
/// [`FormatError::Truncated`] (or another format error) when the file ends early or is
/// malformed; [`FormatError::Io`] when it cannot be read.
pub fn check_complete(path: &Path) -> Result<Completeness, FormatError> {
    let io = |e| FormatError::io(path, e);
    let file = File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    let mut r = BufReader::new(file);
    let mut head = Vec::with_capacity(128);
    (&mut r).take(128).read_to_end(&mut head).map_err(io)?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let kind = if head.starts_with(b"fLaC") {
        FormatKind::Flac
    } else if head.starts_with(b"RIFF") && head.get(8..12) == Some(b"WAVE") {
        FormatKind::Wav
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        FormatKind::Png
    } else if head.len() == 128 && matches!(&head[126..128], b"IM" | b"MI") {
        FormatKind::Mat
    } else {
        return match ext.as_deref() {
            Some(e @ ("flac" | "wav" | "png" | "mat")) => Err(FormatError::Truncated {
                format: match e {
                    "flac" => FormatKind::Flac,
                    "wav" => FormatKind::Wav,
                    "png" => FormatKind::Png,
                    _ => FormatKind::Mat,
                },
                offset: len,
                needed: 1,
            }),
            _ => Ok(Completeness::Unknown),
        };
    };
    match kind {
        FormatKind::Png => png(&mut r, len).map_err(|e| e.or_io(path))?,
        FormatKind::Wav => wav(&mut r, len).map_err(|e| e.or_io(path))?,
        FormatKind::Mat => mat(&mut r, len, &head[126..128] == b"IM").map_err(|e| e.or_io(path))?,
        _ => {
            drop(r);
            read_flac(path)?;
        }
    }
    Ok(Completeness::Whole)
}

/// A read failure of the walkers: the file ended, or a real I/O error.
enum Walk {
    Short(FormatError),
    Io(std::io::Error),
}

impl Walk {
    fn or_io(self, path: &Path) -> FormatError {
        match self {
            Self::Short(e) => e,
            Self::Io(e) => FormatError::io(path, e),
        }
    }
}

fn read_at<R: Read + Seek, const N: usize>(
    r: &mut R,
    pos: u64,
    len: u64,
    format: FormatKind,
) -> Result<[u8; N], Walk> {
    let n = N as u64;
    if pos.saturating_add(n) > len {
        return Err(Walk::Short(truncated(
            format,
            len,
            pos.saturating_add(n) - len,
        )));
    }
    r.seek(SeekFrom::Start(pos)).map_err(Walk::Io)?;
    let mut b = [0u8; N];
    r.read_exact(&mut b).map_err(Walk::Io)?;
    Ok(b)
}

fn need(format: FormatKind, end: u64, len: u64) -> Result<(), Walk> {
    if end > len {
        Err(Walk::Short(truncated(format, len, end - len)))
    } else {
        Ok(())
    }
}

fn png<R: Read + Seek>(r: &mut R, len: u64) -> Result<(), Walk> {
    const K: FormatKind = FormatKind::Png;
    let mut pos = 8u64;
    loop {
        let h: [u8; 8] = read_at(r, pos, len, K)?;
        let size = u64::from(u32::from_be_bytes([h[0], h[1], h[2], h[3]]));
        let end = pos + 12 + size;
        need(K, end, len)?;
        if &h[4..8] == b"IEND" {
            return Ok(());
        }
        pos = end;
    }
}

fn wav<R: Read + Seek>(r: &mut R, len: u64) -> Result<(), Walk> {
    const K: FormatKind = FormatKind::Wav;
    let mut pos = 12u64;
    loop {
        let h: [u8; 8] = read_at(r, pos, len, K)?;
        let size = u64::from(u32::from_le_bytes([h[4], h[5], h[6], h[7]]));
        let end = pos + 8 + size;
        need(K, end, len)?;
        if &h[..4] == b"data" {
            return Ok(());
        }
        // Chunks are padded to an even size.
        pos = end + (size & 1);
    }
}

fn mat<R: Read + Seek>(r: &mut R, len: u64, little: bool) -> Result<(), Walk> {
    const K: FormatKind = FormatKind::Mat;
    let u32_of = |b: [u8; 4]| {
        if little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        }
    };
    let mut pos = 128u64;
    let mut elements = 0;
    while pos < len {
        let h: [u8; 8] = read_at(r, pos, len, K)?;
        let ty = u32_of([h[0], h[1], h[2], h[3]]);
        elements += 1;
        if ty >> 16 != 0 {
            // Small data element: tag and data in 8 bytes.
            pos += 8;
            continue;
        }
        let size = u64::from(u32_of([h[4], h[5], h[6], h[7]]));
        let end = pos + 8 + size;
        need(K, end, len)?;
        // Elements are padded to 8 bytes, except compressed ones.
        pos = if ty == super::mat::mi::COMPRESSED {
            end
        } else {
            end.next_multiple_of(8)
        };
        need(K, pos, len)?;
    }
    if elements == 0 {
        return Err(Walk::Short(truncated(K, len, 8)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{encode_flac, encode_mat, encode_png, encode_wav, sample};

    fn check_bytes(name: &str, bytes: &[u8]) -> Result<Completeness, FormatError> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        check_complete(&p)
    }

    #[test]
    fn whole_files_pass_and_every_cut_fails() {
        let audio = sample::int_audio(8000, 1, 16, 4000);
        let files = [
            ("a.wav", encode_wav(&audio).unwrap()),
            ("a.flac", encode_flac(&audio).unwrap()),
            ("a.png", encode_png(&sample::png_sample(3)).unwrap()),
            ("a.mat", encode_mat(&sample::mat_sample(), false).unwrap()),
            ("z.mat", encode_mat(&sample::mat_sample(), true).unwrap()),
        ];
        for (name, bytes) in &files {
            assert_eq!(
                check_bytes(name, bytes).unwrap(),
                Completeness::Whole,
                "{name}"
            );
            for cut in [0, 1, 7, 64, 127, bytes.len() / 2, bytes.len() - 1] {
                assert!(
                    check_bytes(name, &bytes[..cut]).is_err(),
                    "{name} cut at {cut} of {}",
                    bytes.len()
                );
            }
        }
        assert_eq!(
            check_bytes("notes.txt", b"hello").unwrap(),
            Completeness::Unknown
        );
    }
}
