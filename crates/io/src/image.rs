//! PNG images as row-major grey values in [0, 1].
//!
//! Writing: 8-bit greyscale, `round(255·v)`. Reading: any PNG the `png` crate decodes
//! (greyscale, RGB, palette, with or without alpha, 1–16 bits); colour is converted to grey
//! with the Rec. 601 luma weights `0.299 R + 0.587 G + 0.114 B`, alpha is ignored.

use std::io::Cursor;
use std::path::Path;

use crate::{IoError, write_atomic};

/// Largest image side accepted.
pub const MAX_SIDE: u32 = 65536;

/// Encodes `width × height` grey values in [0, 1] (row-major) as an 8-bit greyscale PNG.
pub fn encode_gray_png(width: u32, height: u32, data: &[f32]) -> Result<Vec<u8>, String> {
    if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
        return Err(format!("image size {width}x{height} is invalid"));
    }
    if data.len() != width as usize * height as usize {
        return Err(format!(
            "{} values for a {width}x{height} image",
            data.len()
        ));
    }
    if let Some(i) = data.iter().position(|v| !v.is_finite()) {
        return Err(format!("pixel {i} is not finite ({})", data[i]));
    }
    let bytes: Vec<u8> = data
        .iter()
        .map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8)
        .collect();
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, width, height);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::Eight);
        // fdeflate: ~10x faster than the default (0.04 s against 0.44 s for 1920x1080 here),
        // files somewhat larger.
        enc.set_compression(png::Compression::Fast);
        let mut writer = enc.write_header().map_err(|e| e.to_string())?;
        writer.write_image_data(&bytes).map_err(|e| e.to_string())?;
        writer.finish().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// Writes an 8-bit greyscale PNG atomically. Values are clamped to [0, 1]; NaN or a length
/// that is not `width·height` is an error.
pub fn write_gray_png(path: &Path, width: u32, height: u32, data: &[f32]) -> Result<(), IoError> {
    let bytes = encode_gray_png(width, height, data).map_err(|m| IoError::format(path, m))?;
    write_atomic(path, &bytes)
}

/// Reads a PNG as `(width, height, grey values in [0, 1], row-major)`.
pub fn read_gray_png(path: &Path) -> Result<(u32, u32, Vec<f32>), IoError> {
    let bytes = std::fs::read(path).map_err(|e| IoError::os(path, e))?;
    decode_gray_png(&bytes).map_err(|m| IoError::format(path, m))
}

/// Decodes a PNG held in memory (see [`read_gray_png`]).
pub fn decode_gray_png(bytes: &[u8]) -> Result<(u32, u32, Vec<f32>), String> {
    let mut dec = png::Decoder::new(Cursor::new(bytes));
    // Palette → RGB, low bit depths → 8 bits, tRNS → alpha; 16 bits kept.
    dec.set_transformations(png::Transformations::EXPAND);
    let mut reader = dec.read_info().map_err(|e| format!("not a PNG: {e}"))?;
    let size = reader
        .output_buffer_size()
        .ok_or("PNG too large to decode")?;
    let mut buf = vec![0u8; size];
    let info = reader
        .next_frame(&mut buf)
        .map_err(|e| format!("bad PNG data: {e}"))?;
    let (w, h) = (info.width, info.height);
    let channels = match info.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Indexed => return Err("palette PNG was not expanded".into()),
    };
    let (bps, scale) = match info.bit_depth {
        png::BitDepth::Eight => (1, 1.0 / 255.0),
        png::BitDepth::Sixteen => (2, 1.0 / 65535.0),
        d => return Err(format!("unexpected bit depth {d:?} after expansion")),
    };
    let sample = |row: &[u8], i: usize| -> f64 {
        if bps == 1 {
            row[i] as f64 * scale
        } else {
            u16::from_be_bytes([row[2 * i], row[2 * i + 1]]) as f64 * scale
        }
    };
    let mut out = Vec::with_capacity(w as usize * h as usize);
    for y in 0..h as usize {
        let row = &buf[y * info.line_size..(y + 1) * info.line_size];
        for x in 0..w as usize {
            let base = x * channels;
            let g = if channels >= 3 {
                0.299 * sample(row, base)
                    + 0.587 * sample(row, base + 1)
                    + 0.114 * sample(row, base + 2)
            } else {
                sample(row, base)
            };
            out.push(g as f32);
        }
    }
    Ok((w, h, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grey_round_trip_is_within_half_a_level() {
        let (w, h) = (7u32, 5u32);
        let data: Vec<f32> = (0..w * h).map(|i| i as f32 / (w * h - 1) as f32).collect();
        let bytes = encode_gray_png(w, h, &data).unwrap();
        let (w2, h2, back) = decode_gray_png(&bytes).unwrap();
        assert_eq!((w2, h2), (w, h));
        for (a, b) in data.iter().zip(&back) {
            assert!((a - b).abs() <= 0.5 / 255.0 + 1e-6);
        }
        // Out-of-range values are clamped.
        let (_, _, c) = decode_gray_png(&encode_gray_png(2, 1, &[-0.5, 1.5]).unwrap()).unwrap();
        assert_eq!(c, vec![0.0, 1.0]);
    }

    #[test]
    fn rgb_and_sixteen_bit_are_read_as_grey() {
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, 2, 1);
            enc.set_color(png::ColorType::Rgba);
            enc.set_depth(png::BitDepth::Eight);
            let mut wr = enc.write_header().unwrap();
            wr.write_image_data(&[255, 0, 0, 255, 10, 200, 30, 0])
                .unwrap();
            wr.finish().unwrap();
        }
        let (_, _, g) = decode_gray_png(&out).unwrap();
        assert!((g[0] - 0.299).abs() < 1e-6);
        let want = (0.299 * 10.0 + 0.587 * 200.0 + 0.114 * 30.0) / 255.0;
        assert!((g[1] as f64 - want).abs() < 1e-6);

        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, 1, 1);
            enc.set_color(png::ColorType::Grayscale);
            enc.set_depth(png::BitDepth::Sixteen);
            let mut wr = enc.write_header().unwrap();
            wr.write_image_data(&32768u16.to_be_bytes()).unwrap();
            wr.finish().unwrap();
        }
        let (_, _, g) = decode_gray_png(&out).unwrap();
        assert!((g[0] as f64 - 32768.0 / 65535.0).abs() < 1e-6);
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(encode_gray_png(0, 3, &[]).is_err());
        assert!(encode_gray_png(2, 2, &[0.0; 3]).is_err());
        assert!(encode_gray_png(1, 1, &[f32::NAN]).is_err());
        assert!(decode_gray_png(b"not a png").is_err());
        let good = encode_gray_png(4, 4, &[0.5; 16]).unwrap();
        assert!(decode_gray_png(&good[..good.len() / 2]).is_err());
    }
}
