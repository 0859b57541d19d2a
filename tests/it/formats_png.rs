//! Integration tests of `hydrofetch::formats::image`: PNG round trips through real files,
//! pixel-exact crop and horizontal concatenation, and colour-type normalisation on decode.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers: a failure is a test failure"
)]

use hydrofetch::formats::{FormatError, Image, decode_png, encode_png, read_png, write_png};

#[expect(
    clippy::unwrap_used,
    reason = "test helper: a failure is a test failure"
)]
fn pattern(w: u32, h: u32, channels: u8, seed: u32) -> Image {
    let mut img = if channels == 4 {
        Image::new_rgba(w, h)
    } else {
        Image::new_rgb(w, h)
    };
    for y in 0..h {
        for x in 0..w {
            let v = x.wrapping_mul(31) ^ y.wrapping_mul(17) ^ seed;
            let px = [
                (v & 0xff) as u8,
                ((v >> 3) & 0xff) as u8,
                ((x + y + seed) & 0xff) as u8,
                (255 - (y & 0xff)) as u8,
            ];
            img.put(x, y, &px[..usize::from(channels)]).unwrap();
        }
    }
    img
}

#[test]
fn png_round_trip_rgb_and_rgba() {
    let dir = tempfile::tempdir().unwrap();
    for channels in [3u8, 4] {
        let img = pattern(123, 77, channels, 5);
        let p = dir.path().join(format!("i{channels}.png"));
        write_png(&p, &img).unwrap();
        assert_eq!(read_png(&p).unwrap(), img);
        assert_eq!(std::fs::read(&p).unwrap(), encode_png(&img).unwrap());
    }
}

#[test]
fn crop_is_pixel_exact() {
    let img = pattern(200, 150, 3, 9);
    let c = img.crop(107, 66, 50, 40).unwrap();
    assert_eq!((c.width, c.height, c.channels), (50, 40, 3));
    for y in 0..40 {
        for x in 0..50 {
            assert_eq!(c.get(x, y).unwrap(), img.get(107 + x, 66 + y).unwrap());
        }
    }
    assert_eq!(img.crop(0, 0, 200, 150).unwrap(), img);
    assert!(img.crop(199, 0, 1, 150).is_ok());
    assert!(matches!(
        img.crop(150, 0, 51, 10),
        Err(FormatError::Invalid { .. })
    ));
    assert!(matches!(
        img.crop(u32::MAX, 0, 2, 1),
        Err(FormatError::Invalid { .. })
    ));
    // Survives an encode/decode cycle.
    assert_eq!(decode_png(&encode_png(&c).unwrap()).unwrap(), c);
}

#[test]
fn hconcat_is_pixel_exact() {
    let a = pattern(30, 20, 4, 1);
    let b = pattern(7, 20, 4, 2);
    let c = pattern(13, 20, 4, 3);
    let all = Image::hconcat(&[a.clone(), b.clone(), c.clone()]).unwrap();
    assert_eq!((all.width, all.height), (50, 20));
    for y in 0..20 {
        for x in 0..50 {
            let want = if x < 30 {
                a.get(x, y)
            } else if x < 37 {
                b.get(x - 30, y)
            } else {
                c.get(x - 37, y)
            };
            assert_eq!(all.get(x, y), want);
        }
    }
    // Concat of crops gives back the original.
    let whole = pattern(90, 10, 3, 4);
    let parts = [
        whole.crop(0, 0, 40, 10).unwrap(),
        whole.crop(40, 0, 50, 10).unwrap(),
    ];
    assert_eq!(Image::hconcat(&parts).unwrap(), whole);
    assert!(matches!(
        Image::hconcat(&[a.clone(), pattern(3, 21, 4, 0)]),
        Err(FormatError::Invalid { .. })
    ));
    assert!(matches!(
        Image::hconcat(&[a, pattern(3, 20, 3, 0)]),
        Err(FormatError::Invalid { .. })
    ));
    assert!(matches!(
        Image::hconcat(&[]),
        Err(FormatError::Invalid { .. })
    ));
}

#[test]
fn grey_and_palette_pngs_decode_to_rgb() {
    let mut grey = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut grey, 4, 2);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().unwrap();
        w.write_image_data(&[0, 10, 20, 30, 40, 50, 60, 255])
            .unwrap();
    }
    let img = decode_png(&grey).unwrap();
    assert_eq!(img.channels, 3);
    assert_eq!(img.get(1, 0).unwrap(), &[10, 10, 10]);
    assert_eq!(img.get(3, 1).unwrap(), &[255, 255, 255]);

    let mut pal = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut pal, 2, 1);
        enc.set_color(png::ColorType::Indexed);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_palette(vec![1, 2, 3, 200, 100, 50]);
        let mut w = enc.write_header().unwrap();
        w.write_image_data(&[1, 0]).unwrap();
    }
    let img = decode_png(&pal).unwrap();
    assert_eq!(img.data, vec![200, 100, 50, 1, 2, 3]);
}

#[test]
fn put_and_get_check_bounds() {
    let mut img = Image::new_rgb(2, 2);
    assert!(img.get(2, 0).is_none());
    assert!(matches!(
        img.put(0, 2, &[1, 2, 3]),
        Err(FormatError::Invalid { .. })
    ));
    assert!(matches!(
        img.put(0, 0, &[1, 2, 3, 4]),
        Err(FormatError::Invalid { .. })
    ));
    assert!(matches!(
        Image::from_raw(2, 2, 3, vec![0; 11]),
        Err(FormatError::Invalid { .. })
    ));
    assert!(matches!(
        Image::from_raw(2, 2, 2, vec![0; 8]),
        Err(FormatError::Unsupported { .. })
    ));
    assert!(matches!(
        decode_png(b"GIF89a"),
        Err(FormatError::BadMagic { .. })
    ));
}
