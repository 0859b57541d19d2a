//! Clipping: cutting fetched sources to a request's padded window and joining them across
//! 5-minute files (audio to the sample, MAT spectrograms to the column, PNG to the pixel
//! column).

pub mod segments;
