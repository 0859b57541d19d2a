//! File formats shared by the simulator and the clipper: WAV, FLAC, MAT v5 and PNG.
//!
//! Every reader returns a typed [`FormatError`] on bad input and never panics (fuzz-style tests
//! in hydrofetch's `tests/formats_fuzz.rs`); every writer writes atomically (see
//! [`crate::atomic`]). This file only declares and re-exports. Module map:
//! - [`audio`]: `Audio`/`AudioSpec`/`Samples`, content sniffing, `probe_audio`.
//! - [`wav`]: hound. [`flac`]: flac-codec encode, symphonia seeking decode (with a metadata
//!   pre-check in `flac_meta`).
//! - [`mat`]: hand-written MAT v5 reader/writer (why: see its module doc).
//! - [`image`]: PNG plus crop and horizontal concat.
//! - [`complete`]: is a downloaded file whole (structural checks of each format).
//! - [`inspect`] and [`sample`]: support for the hidden `hydrofetch debug` commands.

pub mod audio;
pub mod complete;
pub mod error;
pub mod flac;
mod flac_meta;
pub mod image;
pub mod inspect;
pub mod mat;
pub mod sample;
pub mod wav;

pub use audio::{
    Audio, AudioContainer, AudioInfo, AudioSpec, SampleFormat, Samples, probe_audio, sniff_audio,
};
pub use complete::{Completeness, check_complete};
pub use error::{FormatError, FormatKind};
pub use flac::{
    encode_flac, encode_flac_with, encoder_options, probe_flac, read_flac, read_flac_span,
    write_flac,
};
pub use image::{Image, decode_png, encode_png, read_png, write_png};
pub use mat::{IntClass, MatValue, decode_mat, encode_mat, find_var, read_mat, write_mat};
pub use wav::{encode_wav, probe_wav, read_wav, read_wav_span, write_wav};
