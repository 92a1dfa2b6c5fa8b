//! A real AquaMVS image folder: the frames of each camera, read as grey values in [0, 1].
//!
//! **Layout.** `DIR/<camera>/<frames>`: one sub-folder per camera, named as the camera is in
//! the calibration. A frame is a file whose extension is `png`, `jpg`, `jpeg`, `tif` or `tiff`
//! (any case); other files, hidden files (name starting with `.`) and sub-folders are ignored.
//! Frames are taken in *natural* order of their names: runs of digits compare as numbers, so
//! `frame2.png` comes before `frame10.png`; names equal that way (`f7`, `f007`) are ordered by
//! plain string order. Frame `k` of a capture is the `k`-th (0-based) file of every camera's
//! list; cameras may hold different numbers of frames as long as each holds frame `k`.
//!
//! **Pixels.** PNG, JPEG and TIFF, 8 or 16 bits per channel, grey, grey + alpha, RGB or RGBA,
//! decoded with the `image` crate. The format is guessed from the file's first bytes (the
//! extension only when they say nothing). Each channel is scaled to [0, 1] at full precision
//! (÷ 255 or ÷ 65535) and colour becomes grey with the Rec. 601 luma weights
//! `0.299 R + 0.587 G + 0.114 B` computed in `f64` — the same values as
//! [`crate::image::read_gray_png`] gives for a PNG. Alpha is ignored; so are gamma, ICC profiles
//! and EXIF orientation: the pixels are used as the sensor stored them, which is what a
//! calibration describes. Floating-point and other sample types are refused.
//!
//! **Sizes.** The header is read before the pixels: a side over [`MAX_SIDE`], or a decode
//! that would need more than [`MAX_DECODED_BYTES`] (for the decoder's buffer or for the `f32`
//! result), is refused before anything is allocated, and so is a frame whose size disagrees
//! with the calibration ([`read_image_folder`]).
//!
//! **Errors** are [`IoError::Format`] (or [`IoError::Os`] from [`list_frames`] and
//! [`read_gray`]) whose path is the offending file or folder. Those of [`read_image_folder`]
//! are one line and their message starts with the camera's name, e.g.
//! `camera "cam03": frame 5 requested but DIR/cam03 holds 3 frames`.

use std::cmp::Ordering;
use std::path::{Path, PathBuf};

use image::{ColorType, DynamicImage, ImageDecoder, ImageReader, Limits};

use crate::IoError;
use crate::image::MAX_SIDE;

/// Largest decode accepted: neither the decoder's output buffer nor the `f32` grey image may
/// exceed this many bytes (2 GiB: a 23 000 × 23 000 grey image).
pub const MAX_DECODED_BYTES: u64 = 2 << 30;

const GIB: f64 = (1u64 << 30) as f64;

/// Extensions of frame files (compared without regard to case).
const EXTENSIONS: [&str; 5] = ["png", "jpg", "jpeg", "tif", "tiff"];

/// A grey image: `width × height` values in [0, 1], row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct GrayImage {
    /// Columns.
    pub width: u32,
    /// Rows.
    pub height: u32,
    /// `width · height` values in [0, 1], row-major.
    pub data: Vec<f32>,
}

/// A camera of an image folder: its sub-folder's name and the image size its calibration says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FolderCamera<'a> {
    /// Name of the camera, and of its sub-folder.
    pub name: &'a str,
    /// Image width in pixels, from the calibration.
    pub width: u32,
    /// Image height in pixels, from the calibration.
    pub height: u32,
}

/// The frames of one camera folder (image files, hidden ones excepted), in natural order.
pub fn list_frames(dir: &Path) -> Result<Vec<PathBuf>, IoError> {
    let mut frames = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| IoError::os(dir, e))? {
        let entry = entry.map_err(|e| IoError::os(dir, e))?;
        let path = entry.path();
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            // A frame name is ASCII in practice; a non-UTF-8 name is not one of ours. Its
            // extension is checked anyway so that such a frame is not skipped silently.
            if has_frame_extension(&path) {
                return Err(IoError::format(&path, "frame file name is not UTF-8"));
            }
            continue;
        };
        if name.starts_with('.') || !has_frame_extension(&path) {
            continue;
        }
        // Sub-folders are not frames; anything else that fails here (a dangling link) is
        // kept, so that reading it says what is wrong instead of the frame numbers shifting.
        if std::fs::metadata(&path).is_ok_and(|m| m.is_dir()) {
            continue;
        }
        frames.push(path);
    }
    frames.sort_by(|a, b| {
        let (a, b) = (
            a.file_name().unwrap_or_default(),
            b.file_name().unwrap_or_default(),
        );
        natural_cmp(&a.to_string_lossy(), &b.to_string_lossy()).then_with(|| a.cmp(b))
    });
    Ok(frames)
}

fn has_frame_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.iter().any(|x| e.eq_ignore_ascii_case(x)))
}

/// Natural order: runs of ASCII digits compare as numbers (of any length, leading zeros
/// aside), everything else character by character; names equal that way compare by plain
/// string order.
fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a, b);
    loop {
        let (Some(cx), Some(cy)) = (x.chars().next(), y.chars().next()) else {
            return x.len().cmp(&y.len()).then_with(|| a.cmp(b));
        };
        if cx.is_ascii_digit() && cy.is_ascii_digit() {
            let (nx, rx) = split_digits(x);
            let (ny, ry) = split_digits(y);
            let (nx, ny) = (nx.trim_start_matches('0'), ny.trim_start_matches('0'));
            let ord = nx.len().cmp(&ny.len()).then_with(|| nx.cmp(ny));
            if ord != Ordering::Equal {
                return ord;
            }
            (x, y) = (rx, ry);
        } else {
            if cx != cy {
                return cx.cmp(&cy);
            }
            (x, y) = (&x[cx.len_utf8()..], &y[cy.len_utf8()..]);
        }
    }
}

/// Splits a string after its leading run of ASCII digits.
fn split_digits(s: &str) -> (&str, &str) {
    s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()))
}

/// Reads a PNG, JPEG or TIFF image as grey values in [0, 1] (see the module documentation).
pub fn read_gray(path: &Path) -> Result<GrayImage, IoError> {
    decode(path, None).map_err(|e| match e {
        ReadError::Os(e) => IoError::os(path, e),
        ReadError::Format(m) => IoError::format(path, m),
        ReadError::Size { .. } => unreachable!("no size was expected"),
    })
}

/// Reads frame `frame` (0-based, in natural order) of each camera of the image folder `dir`,
/// in the order of `cameras`. Every camera's folder and frame count is checked before any
/// image is decoded, and every image's size is checked against its calibration before its
/// pixels are. Errors are one line naming the camera (see the module documentation).
pub fn read_image_folder(
    dir: &Path,
    cameras: &[FolderCamera],
    frame: usize,
) -> Result<Vec<GrayImage>, IoError> {
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(IoError::format(dir, "the image folder is not a folder")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(IoError::format(dir, "the image folder does not exist"));
        }
        Err(e) => return Err(IoError::os(dir, e)),
    }
    let mut files = Vec::with_capacity(cameras.len());
    for cam in cameras {
        let fail = |path: &Path, msg: String| {
            IoError::format(path, format!("camera {:?}: {}", cam.name, one_line(&msg)))
        };
        if cam.name.is_empty()
            || cam.name == "."
            || cam.name == ".."
            || cam.name.contains(['/', '\\'])
        {
            return Err(fail(dir, "the name cannot be a folder's name".into()));
        }
        let cam_dir = dir.join(cam.name);
        match std::fs::metadata(&cam_dir) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                let msg = format!("no folder {} (it is a file)", cam_dir.display());
                return Err(fail(&cam_dir, msg));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(fail(&cam_dir, format!("no folder {}", cam_dir.display())));
            }
            Err(e) => {
                return Err(fail(&cam_dir, format!("{}: {e}", cam_dir.display())));
            }
        }
        let mut frames = list_frames(&cam_dir).map_err(|e| match e {
            IoError::Os { path, source } => fail(&path, format!("{}: {source}", path.display())),
            IoError::Format { path, message } => {
                fail(&path, format!("{}: {message}", path.display()))
            }
        })?;
        if frame >= frames.len() {
            let n = frames.len();
            let msg = format!(
                "frame {frame} requested but {} holds {n} frame{}",
                cam_dir.display(),
                if n == 1 { "" } else { "s" }
            );
            return Err(fail(&cam_dir, msg));
        }
        files.push(frames.swap_remove(frame));
    }
    let mut images = Vec::with_capacity(cameras.len());
    for (cam, file) in cameras.iter().zip(&files) {
        let img = decode(file, Some((cam.width, cam.height))).map_err(|e| {
            let msg = match e {
                ReadError::Os(e) => format!("{}: {e}", file.display()),
                ReadError::Format(m) => format!("{}: {m}", file.display()),
                ReadError::Size { width, height } => format!(
                    "{} is {width}x{height} but the calibration says {}x{}",
                    file.display(),
                    cam.width,
                    cam.height
                ),
            };
            IoError::format(file, format!("camera {:?}: {}", cam.name, one_line(&msg)))
        })?;
        images.push(img);
    }
    Ok(images)
}

/// Joins the lines of a (decoder's) message so that an error stays on one line.
fn one_line(msg: &str) -> String {
    if msg.contains(['\n', '\r']) {
        msg.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("; ")
    } else {
        msg.to_owned()
    }
}

enum ReadError {
    Os(std::io::Error),
    Format(String),
    /// The image is not of the expected size.
    Size {
        width: u32,
        height: u32,
    },
}

/// Decodes an image to grey, checking its header (and, when given, its size) first.
fn decode(path: &Path, expect: Option<(u32, u32)>) -> Result<GrayImage, ReadError> {
    // The format from the extension, replaced by the one the first bytes tell if they do.
    let mut reader = ImageReader::open(path)
        .and_then(ImageReader::with_guessed_format)
        .map_err(ReadError::Os)?;
    let mut limits = Limits::default();
    // Sizes are checked below, with clearer messages; this bounds what the decoders allocate
    // on their own (the PNG and TIFF decoders honour it) with room for their working buffers.
    limits.max_alloc = Some(MAX_DECODED_BYTES + (256 << 20));
    reader.limits(limits);
    let decoder = reader
        .into_decoder()
        .map_err(|e| ReadError::Format(format!("cannot decode: {e}")))?;
    let (width, height) = decoder.dimensions();
    if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
        return Err(ReadError::Format(format!(
            "image size {width}x{height} is invalid (sides from 1 to {MAX_SIDE})"
        )));
    }
    if let Some((w, h)) = expect
        && (w, h) != (width, height)
    {
        return Err(ReadError::Size { width, height });
    }
    let color = decoder.color_type();
    let (channels, scale) = match color {
        ColorType::L8 => (1, 1.0 / 255.0),
        ColorType::La8 => (2, 1.0 / 255.0),
        ColorType::Rgb8 => (3, 1.0 / 255.0),
        ColorType::Rgba8 => (4, 1.0 / 255.0),
        ColorType::L16 => (1, 1.0 / 65535.0),
        ColorType::La16 => (2, 1.0 / 65535.0),
        ColorType::Rgb16 => (3, 1.0 / 65535.0),
        ColorType::Rgba16 => (4, 1.0 / 65535.0),
        c => {
            return Err(ReadError::Format(format!(
                "unsupported pixel type {c:?} (8- or 16-bit grey or colour only)"
            )));
        }
    };
    let pixels = u64::from(width) * u64::from(height);
    let need = decoder.total_bytes().max(4 * pixels);
    if need > MAX_DECODED_BYTES {
        return Err(ReadError::Format(format!(
            "a {width}x{height} {color:?} image needs {:.1} GiB to decode, over the limit of \
             {} GiB",
            need as f64 / GIB,
            MAX_DECODED_BYTES as f64 / GIB
        )));
    }
    let img = DynamicImage::from_decoder(decoder)
        .map_err(|e| ReadError::Format(format!("cannot decode: {e}")))?;
    let data = match &img {
        DynamicImage::ImageLuma8(b) => to_gray(b.as_raw(), channels, scale),
        DynamicImage::ImageLumaA8(b) => to_gray(b.as_raw(), channels, scale),
        DynamicImage::ImageRgb8(b) => to_gray(b.as_raw(), channels, scale),
        DynamicImage::ImageRgba8(b) => to_gray(b.as_raw(), channels, scale),
        DynamicImage::ImageLuma16(b) => to_gray(b.as_raw(), channels, scale),
        DynamicImage::ImageLumaA16(b) => to_gray(b.as_raw(), channels, scale),
        DynamicImage::ImageRgb16(b) => to_gray(b.as_raw(), channels, scale),
        DynamicImage::ImageRgba16(b) => to_gray(b.as_raw(), channels, scale),
        _ => {
            return Err(ReadError::Format(format!(
                "decoder gave {:?} for a {color:?} image",
                img.color()
            )));
        }
    };
    if img.color() != color || data.len() as u64 != pixels {
        return Err(ReadError::Format(format!(
            "decoder gave {} {:?} pixels for a {width}x{height} {color:?} image",
            data.len(),
            img.color()
        )));
    }
    Ok(GrayImage {
        width,
        height,
        data,
    })
}

/// Grey values of interleaved samples: the first channel, or Rec. 601 luma of the first three.
fn to_gray<T: Copy + Into<f64>>(raw: &[T], channels: usize, scale: f64) -> Vec<f32> {
    raw.chunks_exact(channels)
        .map(|p| {
            let s = |i: usize| p[i].into() * scale;
            let g = if channels >= 3 {
                0.299 * s(0) + 0.587 * s(1) + 0.114 * s(2)
            } else {
                s(0)
            };
            g as f32
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order() {
        let mut names = vec![
            "frame10.png",
            "frame2.png",
            "frame007.png",
            "frame7.png",
            "Frame1.png",
            "frame.png",
            "frame2a.png",
            "a99999999999999999999999.png",
            "a100000000000000000000000.png",
        ];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            names,
            [
                "Frame1.png",
                "a99999999999999999999999.png",
                "a100000000000000000000000.png",
                "frame.png",
                "frame2.png",
                "frame2a.png",
                "frame007.png",
                "frame7.png",
                "frame10.png",
            ]
        );
        assert_eq!(natural_cmp("x", "x"), Ordering::Equal);
        assert_eq!(natural_cmp("", "0"), Ordering::Less);
    }

    #[test]
    fn one_line_joins_lines() {
        assert_eq!(one_line("a\n  b\r\n\nc"), "a; b; c");
        assert_eq!(one_line("plain"), "plain");
    }
}
