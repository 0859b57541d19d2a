//! Integration tests of `hydrofetch::formats::mat`: write → read round trips through real files
//! (plain and zlib-compressed), ONC-shaped spectrogram files, and writer validation.
//! SciPy interop is checked by `tests/python/check_formats.py`; files SciPy wrote are in
//! `tests/data/` and read here too.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers: a failure is a test failure"
)]

use hydrofetch::formats::{
    FormatError, IntClass, MatValue, decode_mat, encode_mat, find_var, read_mat, write_mat,
};

fn onc_like(rows: usize, cols: usize) -> Vec<(String, MatValue)> {
    let psd: Vec<f64> = (0..rows * cols)
        .map(|i| match i % 997 {
            0 => f64::NEG_INFINITY,
            1 => f64::NAN,
            _ => 40.0 + (i as f64 * 0.37).sin() * 30.0 + (i % 13) as f64 * 1e-9,
        })
        .collect();
    let spect = MatValue::Struct(vec![
        ("PSD".into(), MatValue::matrix(rows, cols, psd)),
        (
            "frequency".into(),
            MatValue::Double {
                dims: vec![rows, 1],
                data: (0..rows).map(|i| i as f64 * 10.0).collect(),
            },
        ),
        (
            "time".into(),
            MatValue::row(
                (0..cols)
                    .map(|i| 738_000.5 + i as f64 * 0.35 / 86_400.0)
                    .collect(),
            ),
        ),
        (
            "processingComment".into(),
            MatValue::Char("Hann window with 50% overlap, 6400 samples — µPa²/Hz".into()),
        ),
    ]);
    let meta = MatValue::Struct(vec![
        ("deviceID".into(), MatValue::scalar(23_155.0)),
        ("deviceCode".into(), MatValue::Char("ICLISTENHF1560".into())),
        ("lat".into(), MatValue::scalar(48.6516)),
        (
            "empty".into(),
            MatValue::Double {
                dims: vec![0, 0],
                data: vec![],
            },
        ),
        ("emptyText".into(), MatValue::Char(String::new())),
        (
            "deployment".into(),
            MatValue::Struct(vec![
                ("site".into(), MatValue::Char("Barkley Canyon".into())),
                (
                    "inner".into(),
                    MatValue::Struct(vec![(
                        "depth".into(),
                        MatValue::Single {
                            dims: vec![1, 2],
                            data: vec![-985.5, 1.25],
                        },
                    )]),
                ),
                ("none".into(), MatValue::Struct(vec![])),
            ]),
        ),
    ]);
    vec![("SpectData".into(), spect), ("Meta".into(), meta)]
}

/// Compares two values treating NaN as equal to NaN (bitwise for floats).
fn same(a: &MatValue, b: &MatValue) -> bool {
    match (a, b) {
        (MatValue::Double { dims: d1, data: x }, MatValue::Double { dims: d2, data: y }) => {
            d1 == d2
                && x.len() == y.len()
                && x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits())
        }
        (MatValue::Single { dims: d1, data: x }, MatValue::Single { dims: d2, data: y }) => {
            d1 == d2
                && x.len() == y.len()
                && x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits())
        }
        (MatValue::Struct(f), MatValue::Struct(g)) => {
            f.len() == g.len()
                && f.iter()
                    .zip(g)
                    .all(|((n1, v1), (n2, v2))| n1 == n2 && same(v1, v2))
        }
        (MatValue::Cell { dims: d1, data: x }, MatValue::Cell { dims: d2, data: y }) => {
            d1 == d2 && x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        _ => a == b,
    }
}

fn assert_same_vars(a: &[(String, MatValue)], b: &[(String, MatValue)]) {
    assert_eq!(a.len(), b.len());
    for ((n1, v1), (n2, v2)) in a.iter().zip(b) {
        assert_eq!(n1, n2);
        assert!(same(v1, v2), "variable {n1} differs:\n{v1:?}\n{v2:?}");
    }
}

#[test]
fn onc_shaped_file_round_trips_plain_and_compressed() {
    let dir = tempfile::tempdir().unwrap();
    let vars = onc_like(129, 40);
    for compress in [false, true] {
        let p = dir.path().join(format!("s{compress}.mat"));
        write_mat(&p, &vars, compress).unwrap();
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!(bytes, encode_mat(&vars, compress).unwrap(), "deterministic");
        assert_eq!(&bytes[126..128], b"IM");
        let back = read_mat(&p).unwrap();
        assert_same_vars(&vars, &back);
        let spect = find_var(&back, "SpectData").unwrap();
        assert_eq!(spect.field("PSD").unwrap().dims(), vec![129, 40]);
        assert_eq!(spect.field("time").unwrap().class_name(), "double");
    }
    let plain = encode_mat(&vars, false).unwrap();
    let packed = encode_mat(&vars, true).unwrap();
    assert!(packed.len() < plain.len());
}

#[test]
fn all_classes_round_trip() {
    let mut vars = vec![
        (
            "d".to_string(),
            MatValue::Double {
                dims: vec![2, 3, 2],
                data: (0..12).map(f64::from).collect(),
            },
        ),
        (
            "s".to_string(),
            MatValue::Single {
                dims: vec![1, 3],
                data: vec![1.5, f32::INFINITY, -0.0],
            },
        ),
        (
            "b".to_string(),
            MatValue::Logical {
                dims: vec![2, 2],
                data: vec![true, false, false, true],
            },
        ),
        ("txt".to_string(), MatValue::Char("héllo wörld".into())),
        (
            "c".to_string(),
            MatValue::Cell {
                dims: vec![1, 3],
                data: vec![
                    MatValue::scalar(1.0),
                    MatValue::Char("x".into()),
                    MatValue::Struct(vec![("a".into(), MatValue::scalar(2.0))]),
                ],
            },
        ),
    ];
    for (i, class) in [
        IntClass::Int8,
        IntClass::UInt8,
        IntClass::Int16,
        IntClass::UInt16,
        IntClass::Int32,
        IntClass::UInt32,
        IntClass::Int64,
        IntClass::UInt64,
    ]
    .into_iter()
    .enumerate()
    {
        let (lo, hi) = class.range();
        vars.push((
            format!("i{i}"),
            MatValue::Int {
                class,
                dims: vec![1, 3],
                data: vec![lo, 0, hi],
            },
        ));
    }
    for compress in [false, true] {
        let back = decode_mat(&encode_mat(&vars, compress).unwrap()).unwrap();
        assert_same_vars(&vars, &back);
    }
}

#[test]
fn large_matrix_round_trips() {
    let data: Vec<f64> = (0..2049 * 600).map(|i| (i as f64).sqrt()).collect();
    let vars = vec![("PSD".to_string(), MatValue::matrix(2049, 600, data))];
    for compress in [false, true] {
        assert_eq!(
            decode_mat(&encode_mat(&vars, compress).unwrap()).unwrap(),
            vars
        );
    }
}

#[test]
fn writer_rejects_bad_values() {
    let bad_dims = vec![(
        "x".to_string(),
        MatValue::Double {
            dims: vec![2, 2],
            data: vec![1.0],
        },
    )];
    assert!(matches!(
        encode_mat(&bad_dims, false),
        Err(FormatError::Invalid { .. })
    ));
    let one_dim = vec![(
        "x".to_string(),
        MatValue::Double {
            dims: vec![1],
            data: vec![1.0],
        },
    )];
    assert!(matches!(
        encode_mat(&one_dim, false),
        Err(FormatError::Invalid { .. })
    ));
    let bad_name = vec![("1x".to_string(), MatValue::scalar(1.0))];
    assert!(matches!(
        encode_mat(&bad_name, false),
        Err(FormatError::Invalid { .. })
    ));
    let bad_field = vec![(
        "x".to_string(),
        MatValue::Struct(vec![("a b".into(), MatValue::scalar(1.0))]),
    )];
    assert!(matches!(
        encode_mat(&bad_field, true),
        Err(FormatError::Invalid { .. })
    ));
    let dup = vec![
        ("x".to_string(), MatValue::scalar(1.0)),
        ("x".to_string(), MatValue::scalar(2.0)),
    ];
    assert!(matches!(
        encode_mat(&dup, false),
        Err(FormatError::Invalid { .. })
    ));
    let range = vec![(
        "x".to_string(),
        MatValue::Int {
            class: IntClass::UInt8,
            dims: vec![1, 1],
            data: vec![256],
        },
    )];
    assert!(matches!(
        encode_mat(&range, false),
        Err(FormatError::Invalid { .. })
    ));
}

#[test]
fn long_field_names_use_64_byte_slots() {
    let long = "a".repeat(40);
    let vars = vec![(
        "x".to_string(),
        MatValue::Struct(vec![(long.clone(), MatValue::scalar(1.0))]),
    )];
    let back = decode_mat(&encode_mat(&vars, false).unwrap()).unwrap();
    assert_eq!(back, vars);
}
