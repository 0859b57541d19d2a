//! Reading files written by other tools (SciPy `savemat`, libsndfile via soundfile), kept as
//! small fixtures in `tests/data/` (regenerate with `tests/python/make_fixtures.py`). The full
//! two-way check against live SciPy/soundfile/Pillow is `tests/python/check_formats.py`.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers: a failure is a test failure"
)]

use hydrofetch::formats::{
    IntClass, MatValue, Samples, find_var, read_flac, read_flac_span, read_mat, read_wav,
};
use std::path::PathBuf;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn bits_eq(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

#[test]
fn scipy_mat_files_load_with_matlab_semantics() {
    // PSD = (arange(12).reshape(3, 4) - 5.5) / 4 with [0,1] = NaN and [2,3] = -Inf, column-major.
    let mut psd = vec![0.0; 12];
    for r in 0..3 {
        for c in 0..4 {
            psd[c * 3 + r] = ((r * 4 + c) as f64 - 5.5) / 4.0;
        }
    }
    psd[3] = f64::NAN;
    psd[11] = f64::NEG_INFINITY;
    for (file, vec_dims) in [
        ("scipy_plain.mat", vec![4, 1]),
        ("scipy_compressed.mat", vec![1, 4]),
    ] {
        let vars = read_mat(&data(file)).unwrap();
        let names: Vec<&str> = vars.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "PSD",
                "vec",
                "label",
                "i16",
                "u8",
                "mask",
                "f32",
                "SpectData"
            ],
            "{file}"
        );
        match find_var(&vars, "PSD").unwrap() {
            MatValue::Double { dims, data } => {
                assert_eq!(dims, &vec![3, 4]);
                assert!(bits_eq(data, &psd), "{file}: {data:?}");
            }
            other => panic!("{file}: PSD is {other:?}"),
        }
        assert_eq!(
            find_var(&vars, "vec").unwrap(),
            &MatValue::Double {
                dims: vec_dims,
                data: vec![0.0, 1.0, 2.0, 3.0]
            }
        );
        assert_eq!(
            find_var(&vars, "label").unwrap(),
            &MatValue::Char("µPa²/Hz".into())
        );
        assert_eq!(
            find_var(&vars, "i16").unwrap(),
            &MatValue::Int {
                class: IntClass::Int16,
                dims: vec![1, 3],
                data: vec![-32768, 7, 32767]
            }
        );
        assert_eq!(
            find_var(&vars, "u8").unwrap(),
            &MatValue::Int {
                class: IntClass::UInt8,
                dims: vec![1, 2],
                data: vec![0, 255]
            }
        );
        assert_eq!(
            find_var(&vars, "mask").unwrap(),
            &MatValue::Logical {
                dims: vec![1, 3],
                data: vec![true, false, true]
            }
        );
        assert_eq!(
            find_var(&vars, "f32").unwrap(),
            &MatValue::Single {
                dims: vec![1, 2],
                data: vec![0.5, -1.25]
            }
        );
        let spect = find_var(&vars, "SpectData").unwrap();
        assert_eq!(
            spect.field("frequency").unwrap(),
            &MatValue::Double {
                dims: vec![3, 1],
                data: vec![0.0, 10.0, 20.0]
            }
        );
        assert_eq!(
            spect.field("comment").unwrap(),
            &MatValue::Char("Hann".into())
        );
        let meta = spect.field("meta").unwrap();
        assert_eq!(meta.field("depth").unwrap(), &MatValue::scalar(985.5));
        assert_eq!(
            meta.field("code").unwrap(),
            &MatValue::Char("ICLISTENHF1560".into())
        );
    }
}

#[test]
fn libsndfile_audio_reads_bit_exact() {
    let want: Vec<i32> = (0..3000i64)
        .flat_map(|i| {
            (0..2i64).map(move |c| (((i * 7919 + c * 104_729) % (1 << 24)) - (1 << 23)) as i32)
        })
        .collect();
    for name in ["soundfile_24.flac", "soundfile_24.wav"] {
        let p = data(name);
        let a = if name.ends_with(".flac") {
            read_flac(&p)
        } else {
            read_wav(&p)
        }
        .unwrap();
        assert_eq!(
            (a.spec.sample_rate, a.spec.channels, a.spec.bits_per_sample),
            (64_000, 2, 24),
            "{name}"
        );
        assert_eq!(a.samples, Samples::Int(want.clone()), "{name}");
    }
    let span = read_flac_span(&data("soundfile_24.flac"), 1000, 1500).unwrap();
    assert_eq!(span.samples, Samples::Int(want[2000..5000].to_vec()));
}
