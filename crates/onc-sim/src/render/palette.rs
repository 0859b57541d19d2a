//! Colour maps for spectrogram plots: ONC's default (black → navy → blue → cyan → green →
//! yellow → red → dark red, read off real ONC PNGs) and grey. Piecewise-linear anchors.

#![expect(
    clippy::cast_precision_loss,
    clippy::many_single_char_names,
    reason = "signal synthesis and rendering: sample, pixel and frame counts are small and non-negative, values are range-limited before narrowing"
)]

/// Anchors of ONC's default palette, at fractions 0, 0.1, …, 1.0 of the dB range.
const ONC: [[u8; 3]; 11] = [
    [0, 0, 0],
    [0, 0, 70],
    [0, 20, 150],
    [0, 60, 255],
    [0, 170, 255],
    [0, 255, 235],
    [30, 230, 40],
    [255, 255, 0],
    [255, 130, 0],
    [230, 0, 0],
    [130, 0, 0],
];

/// The colour of `frac` (0 = lower limit, 1 = upper; clamped, NaN and −Inf map to 0) in
/// palette `p` (0 ONC default, 1 grey, others fall back to 0).
#[must_use]
#[expect(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "values are clamped to 0..=255 first"
)]
pub fn colour(p: u8, frac: f64) -> [u8; 3] {
    let t = if frac.is_nan() {
        0.0
    } else {
        frac.clamp(0.0, 1.0)
    };
    if p == 1 {
        let g = (t * 255.0).round() as u8;
        return [g, g, g];
    }
    let pos = t * 10.0;
    let i = (pos.floor() as usize).min(9);
    let f = pos - i as f64;
    let (a, b) = (ONC[i], ONC[i + 1]);
    let mut out = [0u8; 3];
    for ((o, &x), &y) in out.iter_mut().zip(&a).zip(&b) {
        let v = f64::from(x) + (f64::from(y) - f64::from(x)) * f;
        *o = v.round().clamp(0.0, 255.0) as u8;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_and_clamping() {
        assert_eq!(colour(0, 0.0), [0, 0, 0]);
        assert_eq!(colour(0, -5.0), [0, 0, 0]);
        assert_eq!(colour(0, f64::NEG_INFINITY), [0, 0, 0]);
        assert_eq!(colour(0, f64::NAN), [0, 0, 0]);
        assert_eq!(colour(0, 1.0), [130, 0, 0]);
        assert_eq!(colour(0, 7.0), [130, 0, 0]);
        assert_eq!(colour(1, 1.0), [255, 255, 255]);
        assert_eq!(colour(0, 0.7), [255, 255, 0]);
    }
}
