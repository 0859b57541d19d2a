//! 8-bit RGB/RGBA images: PNG read/write through the `png` crate, crop and horizontal concat.
//!
//! Decisions recorded here: pixels are held row-major, tightly packed, 3 or 4 bytes each.
//! Reading normalises every PNG colour type to 8-bit RGB or RGBA (palette and low bit depths are
//! expanded, 16-bit is stripped to 8, grey is replicated), so callers only see two layouts.
//! The pixel buffer is checked against a bound derived from the compressed input (deflate never
//! expands more than ~1032:1), so a lying IHDR cannot force a huge allocation. Writing uses the
//! png crate's `Balanced` compression.

#![expect(
    clippy::many_single_char_names,
    reason = "numeric formulas keep the names of the equations they implement"
)]

use super::error::{FormatError, FormatKind};
use crate::atomic::write_atomic;
use std::io::Cursor;
use std::path::Path;

const KIND: FormatKind = FormatKind::Png;
const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";

/// An 8-bit RGB or RGBA image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// 3 (RGB) or 4 (RGBA).
    pub channels: u8,
    /// Row-major pixels, `width * height * channels` bytes.
    pub data: Vec<u8>,
}

impl Image {
    /// A black RGB image.
    #[must_use]
    pub fn new_rgb(width: u32, height: u32) -> Self {
        Self {
            width,
            height,
            channels: 3,
            data: vec![0; width as usize * height as usize * 3],
        }
    }

    /// A transparent black RGBA image.
    #[must_use]
    pub fn new_rgba(width: u32, height: u32) -> Self {
        Self {
            width,
            height,
            channels: 4,
            data: vec![0; width as usize * height as usize * 4],
        }
    }

    /// Wraps raw pixels, checking the buffer length and channel count.
    pub fn from_raw(
        width: u32,
        height: u32,
        channels: u8,
        data: Vec<u8>,
    ) -> Result<Self, FormatError> {
        let img = Self {
            width,
            height,
            channels,
            data,
        };
        img.validate()?;
        Ok(img)
    }

    /// Checks channels and buffer length.
    pub fn validate(&self) -> Result<(), FormatError> {
        if self.channels != 3 && self.channels != 4 {
            return Err(FormatError::unsupported(
                KIND,
                format!("{} channels (only rgb and rgba)", self.channels),
            ));
        }
        let want = (self.width as usize)
            .checked_mul(self.height as usize)
            .and_then(|n| n.checked_mul(usize::from(self.channels)));
        if want != Some(self.data.len()) {
            return Err(FormatError::invalid(
                KIND,
                format!(
                    "{}x{}x{} image with {} bytes of pixels",
                    self.width,
                    self.height,
                    self.channels,
                    self.data.len()
                ),
            ));
        }
        Ok(())
    }

    fn offset(&self, x: u32, y: u32) -> Option<usize> {
        (x < self.width && y < self.height)
            .then(|| (y as usize * self.width as usize + x as usize) * usize::from(self.channels))
    }

    /// The pixel at `(x, y)` (3 or 4 bytes), or `None` outside the image.
    #[must_use]
    pub fn get(&self, x: u32, y: u32) -> Option<&[u8]> {
        let o = self.offset(x, y)?;
        self.data.get(o..o + usize::from(self.channels))
    }

    /// Sets the pixel at `(x, y)`; `px` must have exactly `channels` bytes.
    pub fn put(&mut self, x: u32, y: u32, px: &[u8]) -> Result<(), FormatError> {
        if px.len() != usize::from(self.channels) {
            return Err(FormatError::invalid(
                KIND,
                format!(
                    "{}-byte pixel for a {}-channel image",
                    px.len(),
                    self.channels
                ),
            ));
        }
        let (w, h) = (self.width, self.height);
        let o = self.offset(x, y).ok_or_else(|| {
            FormatError::invalid(KIND, format!("pixel ({x}, {y}) outside {w}x{h}"))
        })?;
        self.data[o..o + px.len()].copy_from_slice(px);
        Ok(())
    }

    /// The `w`×`h` rectangle whose top-left corner is `(x, y)`.
    pub fn crop(&self, x: u32, y: u32, w: u32, h: u32) -> Result<Image, FormatError> {
        let fits = x.checked_add(w).is_some_and(|r| r <= self.width)
            && y.checked_add(h).is_some_and(|b| b <= self.height);
        if !fits {
            return Err(FormatError::invalid(
                KIND,
                format!(
                    "crop {w}x{h} at ({x}, {y}) outside {}x{} image",
                    self.width, self.height
                ),
            ));
        }
        let ch = usize::from(self.channels);
        let row = w as usize * ch;
        let mut data = Vec::with_capacity(row * h as usize);
        for yy in y..y + h {
            let start = (yy as usize * self.width as usize + x as usize) * ch;
            data.extend_from_slice(&self.data[start..start + row]);
        }
        Ok(Image {
            width: w,
            height: h,
            channels: self.channels,
            data,
        })
    }

    /// Places images side by side, left to right; all must share height and channels.
    pub fn hconcat(parts: &[Image]) -> Result<Image, FormatError> {
        let first = parts
            .first()
            .ok_or_else(|| FormatError::invalid(KIND, "nothing to concatenate"))?;
        for p in parts {
            p.validate()?;
            if p.height != first.height || p.channels != first.channels {
                return Err(FormatError::invalid(
                    KIND,
                    format!(
                        "cannot concatenate {}x{}x{} with {}x{}x{}",
                        first.width, first.height, first.channels, p.width, p.height, p.channels
                    ),
                ));
            }
        }
        let width = parts
            .iter()
            .try_fold(0u32, |acc, p| acc.checked_add(p.width));
        let width =
            width.ok_or_else(|| FormatError::invalid(KIND, "concatenated width overflows"))?;
        let ch = usize::from(first.channels);
        let mut data = Vec::with_capacity(width as usize * first.height as usize * ch);
        for y in 0..first.height as usize {
            for p in parts {
                let row = p.width as usize * ch;
                data.extend_from_slice(&p.data[y * row..(y + 1) * row]);
            }
        }
        Ok(Image {
            width,
            height: first.height,
            channels: first.channels,
            data,
        })
    }
}

fn png_err(e: impl Into<super::error::BoxedCause>) -> FormatError {
    FormatError::codec(KIND, e)
}

/// Encodes an image as PNG.
pub fn encode_png(img: &Image) -> Result<Vec<u8>, FormatError> {
    img.validate()?;
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, img.width, img.height);
        enc.set_color(if img.channels == 4 {
            png::ColorType::Rgba
        } else {
            png::ColorType::Rgb
        });
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Balanced);
        let mut w = enc.write_header().map_err(png_err)?;
        w.write_image_data(&img.data).map_err(png_err)?;
        w.finish().map_err(png_err)?;
    }
    Ok(out)
}

/// Writes an image as a PNG file, atomically.
pub fn write_png(path: &Path, img: &Image) -> Result<(), FormatError> {
    write_atomic(path, &encode_png(img)?).map_err(|e| FormatError::io(path, e))
}

/// Decodes a PNG held in memory into 8-bit RGB or RGBA.
pub fn decode_png(bytes: &[u8]) -> Result<Image, FormatError> {
    if !bytes.starts_with(PNG_MAGIC) {
        return Err(FormatError::BadMagic { expected: KIND });
    }
    let mut dec = png::Decoder::new(Cursor::new(bytes));
    dec.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = dec.read_info().map_err(png_err)?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| FormatError::unsupported(KIND, "image too large"))?;
    let bound = bytes.len().saturating_mul(1100).saturating_add(1 << 20);
    if size > bound {
        return Err(FormatError::invalid(
            KIND,
            format!(
                "header announces {size} bytes of pixels from {} bytes of file",
                bytes.len()
            ),
        ));
    }
    let mut buf = vec![0; size];
    let info = reader.next_frame(&mut buf).map_err(png_err)?;
    buf.truncate(info.line_size * info.height as usize);
    if info.bit_depth != png::BitDepth::Eight {
        return Err(FormatError::unsupported(
            KIND,
            format!("bit depth {:?} after expansion", info.bit_depth),
        ));
    }
    let (channels, data) = match info.color_type {
        png::ColorType::Rgb => (3, buf),
        png::ColorType::Rgba => (4, buf),
        png::ColorType::Grayscale => (3, buf.iter().flat_map(|&g| [g, g, g]).collect()),
        png::ColorType::GrayscaleAlpha => (
            4,
            buf.chunks_exact(2)
                .flat_map(|c| [c[0], c[0], c[0], c[1]])
                .collect(),
        ),
        png::ColorType::Indexed => {
            return Err(FormatError::unsupported(
                KIND,
                "palette image left unexpanded",
            ));
        }
    };
    // Rows are tightly packed at 8 bits, so line_size == width * samples.
    Image::from_raw(info.width, info.height, channels, data)
}

/// Reads a PNG file into 8-bit RGB or RGBA.
pub fn read_png(path: &Path) -> Result<Image, FormatError> {
    let bytes = std::fs::read(path).map_err(|e| FormatError::io(path, e))?;
    decode_png(&bytes)
}
