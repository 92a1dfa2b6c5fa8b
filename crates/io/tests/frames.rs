//! Image folders: frame lists in natural order, grey values from PNG, JPEG and TIFF, and
//! one-line errors naming the camera.

use std::path::{Path, PathBuf};

use aquamvs_io::IoError;
use aquamvs_io::frames::{FolderCamera, GrayImage, list_frames, read_gray, read_image_folder};
use image::{ImageBuffer, Luma, LumaA, Rgb, Rgba};

/// A fresh folder under the system's temporary folder, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Self {
        let p = std::env::temp_dir().join(format!(
            "aquamvs-io-frames-{test}-{}-{:?}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn names(frames: &[PathBuf]) -> Vec<String> {
    frames
        .iter()
        .map(|p| p.file_name().unwrap().to_str().unwrap().to_owned())
        .collect()
}

fn luma8(w: u32, h: u32, f: impl Fn(u32, u32) -> u8) -> ImageBuffer<Luma<u8>, Vec<u8>> {
    ImageBuffer::from_fn(w, h, |x, y| Luma([f(x, y)]))
}

/// Rec. 601 grey of full-precision channels, as the module documents it.
fn rec601(r: f64, g: f64, b: f64, max: f64) -> f64 {
    0.299 * (r / max) + 0.587 * (g / max) + 0.114 * (b / max)
}

/// The message of a `Format` error, checked to be one line, to start with the camera's name
/// and to have `path` as its path.
fn camera_error(err: IoError, camera: &str, path: &Path) -> String {
    let shown = err.to_string();
    assert!(!shown.contains('\n') && !shown.contains('\r'), "{shown}");
    match err {
        IoError::Format { path: p, message } => {
            assert_eq!(p, path, "{message}");
            assert!(
                message.starts_with(&format!("camera \"{camera}\": ")),
                "{message}"
            );
            assert!(!message.contains('\n'), "{message}");
            message
        }
        e => panic!("want a Format error, got {e:?}"),
    }
}

#[test]
fn frames_are_listed_in_natural_order() {
    let s = Scratch::new("order");
    let cam = s.path().join("cam00");
    std::fs::create_dir_all(cam.join("sub.png")).unwrap();
    for name in [
        "frame10.png",
        "frame2.png",
        "frame1.png",
        "frame7.png",
        "frame007.png",
        "frame3.JPG",
        "frame4.jpeg",
        "frame5.tiff",
        "frame6.TIF",
        "frame100.Png",
        "frame11a.png",
        "frame11.png",
        "a.png",
        // Ignored: hidden, other extensions, no extension.
        ".frame0.png",
        ".DS_Store",
        "notes.txt",
        "frame8.npy",
        "frame9",
        "frame12.png.bak",
    ] {
        std::fs::write(cam.join(name), b"").unwrap();
    }
    let frames = list_frames(&cam).unwrap();
    assert_eq!(
        names(&frames),
        [
            "a.png",
            "frame1.png",
            "frame2.png",
            "frame3.JPG",
            "frame4.jpeg",
            "frame5.tiff",
            "frame6.TIF",
            "frame007.png",
            "frame7.png",
            "frame10.png",
            "frame11.png",
            "frame11a.png",
            "frame100.Png",
        ]
    );
    assert!(frames.iter().all(|p| p.parent() == Some(cam.as_path())));
    // An empty folder has no frames; a missing one is an OS error.
    let empty = s.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert!(list_frames(&empty).unwrap().is_empty());
    let err = list_frames(&s.path().join("nope")).unwrap_err();
    assert!(matches!(err, IoError::Os { .. }), "{err}");
}

#[test]
fn png_grey_8_and_16_bit_are_exact() {
    let s = Scratch::new("png-grey");
    let p8 = s.path().join("g8.png");
    luma8(16, 16, |x, y| (y * 16 + x) as u8).save(&p8).unwrap();
    let img = read_gray(&p8).unwrap();
    assert_eq!((img.width, img.height), (16, 16));
    let want: Vec<f32> = (0..256).map(|v| (v as f64 / 255.0) as f32).collect();
    assert_eq!(img.data, want);
    assert_eq!((img.data[0], img.data[255]), (0.0, 1.0));
    // The same values as the PNG-only reader.
    let (w, h, old) = aquamvs_io::image::read_gray_png(&p8).unwrap();
    assert_eq!((w, h, old), (img.width, img.height, img.data));

    let p16 = s.path().join("g16.png");
    let values = [0u16, 1, 255, 256, 32768, 40000, 65534, 65535];
    ImageBuffer::<Luma<u16>, _>::from_raw(4, 2, values.to_vec())
        .unwrap()
        .save(&p16)
        .unwrap();
    let img = read_gray(&p16).unwrap();
    assert_eq!((img.width, img.height), (4, 2));
    let want: Vec<f32> = values
        .iter()
        .map(|&v| (v as f64 / 65535.0) as f32)
        .collect();
    assert_eq!(img.data, want);
    // 16 bits are kept: 1/65535 is not rounded to 0, 256 is not 255's neighbour's value.
    assert!(img.data[1] > 0.0 && img.data[3] > img.data[2]);
    let (_, _, old) = aquamvs_io::image::read_gray_png(&p16).unwrap();
    assert_eq!(old, img.data);
}

#[test]
fn colour_png_becomes_rec601_grey_and_alpha_is_ignored() {
    let s = Scratch::new("png-colour");
    let px: [[u8; 3]; 6] = [
        [255, 0, 0],
        [0, 255, 0],
        [0, 0, 255],
        [10, 200, 30],
        [255, 255, 255],
        [123, 45, 67],
    ];
    let rgb = s.path().join("rgb.png");
    ImageBuffer::<Rgb<u8>, _>::from_raw(3, 2, px.concat())
        .unwrap()
        .save(&rgb)
        .unwrap();
    let rgba = s.path().join("rgba.png");
    let with_alpha: Vec<u8> = px
        .iter()
        .zip([255u8, 0, 17, 128, 3, 255])
        .flat_map(|(p, a)| [p[0], p[1], p[2], a])
        .collect();
    ImageBuffer::<Rgba<u8>, _>::from_raw(3, 2, with_alpha)
        .unwrap()
        .save(&rgba)
        .unwrap();
    for path in [&rgb, &rgba] {
        let img = read_gray(path).unwrap();
        assert_eq!((img.width, img.height), (3, 2));
        for (p, g) in px.iter().zip(&img.data) {
            let want = rec601(p[0] as f64, p[1] as f64, p[2] as f64, 255.0);
            assert!((*g as f64 - want).abs() < 1e-6, "{p:?}: {g} vs {want}");
        }
        assert!((img.data[0] - 0.299).abs() < 1e-6);
        assert!((img.data[4] - 1.0).abs() < 1e-6);
        let (_, _, old) = aquamvs_io::image::read_gray_png(path).unwrap();
        assert_eq!(old, img.data);
    }
    // Grey + alpha: the grey channel.
    let la = s.path().join("la.png");
    ImageBuffer::<LumaA<u8>, _>::from_raw(2, 1, vec![51, 0, 204, 255])
        .unwrap()
        .save(&la)
        .unwrap();
    assert_eq!(read_gray(&la).unwrap().data, [0.2, 0.8]);

    // 16-bit RGB: full precision, not the 8-bit value.
    let rgb16 = s.path().join("rgb16.png");
    let px16: [[u16; 3]; 3] = [[65535, 0, 0], [1000, 50000, 30001], [257, 258, 259]];
    ImageBuffer::<Rgb<u16>, _>::from_raw(3, 1, px16.concat())
        .unwrap()
        .save(&rgb16)
        .unwrap();
    let img = read_gray(&rgb16).unwrap();
    for (p, g) in px16.iter().zip(&img.data) {
        let want = rec601(p[0] as f64, p[1] as f64, p[2] as f64, 65535.0);
        assert!((*g as f64 - want).abs() < 1e-7, "{p:?}: {g} vs {want}");
    }
    // (257, 258, 259) is (1, 1, 1) in 8 bits: its grey would be 1/255 = 257/65535.
    assert!(img.data[2] as f64 > 257.5 / 65535.0 && (img.data[2] as f64) < 258.0 / 65535.0);
}

#[test]
fn jpeg_is_read_within_its_tolerance() {
    let s = Scratch::new("jpeg");
    let (w, h) = (64u32, 48u32);
    let grey = |x: u32, y: u32| (40.0 + 2.0 * x as f64 + 1.5 * y as f64).round() as u8;
    let colour = |x: u32, y: u32| {
        [
            (30.0 + 3.0 * x as f64).round() as u8,
            (200.0 - 2.0 * y as f64).round() as u8,
            (60.0 + 1.0 * (x + y) as f64).round() as u8,
        ]
    };
    let pg = s.path().join("grey.jpg");
    let pc = s.path().join("colour.JPEG");
    let enc = |path: &Path, buf: &[u8], c: image::ExtendedColorType| {
        let f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
        image::codecs::jpeg::JpegEncoder::new_with_quality(f, 95)
            .encode(buf, w, h, c)
            .unwrap();
    };
    enc(
        &pg,
        luma8(w, h, grey).as_raw(),
        image::ExtendedColorType::L8,
    );
    let cbuf = ImageBuffer::<Rgb<u8>, _>::from_fn(w, h, |x, y| Rgb(colour(x, y)));
    enc(&pc, cbuf.as_raw(), image::ExtendedColorType::Rgb8);

    let img = read_gray(&pg).unwrap();
    assert_eq!((img.width, img.height), (w, h));
    let mut worst = 0.0f64;
    for y in 0..h {
        for x in 0..w {
            let got = img.data[(y * w + x) as usize] as f64;
            worst = worst.max((got - grey(x, y) as f64 / 255.0).abs());
        }
    }
    assert!(worst < 3.0 / 255.0, "grey JPEG off by {worst}");

    let img = read_gray(&pc).unwrap();
    assert_eq!((img.width, img.height), (w, h));
    let mut worst = 0.0f64;
    for y in 0..h {
        for x in 0..w {
            let c = colour(x, y);
            let want = rec601(c[0] as f64, c[1] as f64, c[2] as f64, 255.0);
            worst = worst.max((img.data[(y * w + x) as usize] as f64 - want).abs());
        }
    }
    assert!(worst < 4.0 / 255.0, "colour JPEG off by {worst}");
}

#[test]
fn tiff_8_and_16_bit() {
    let s = Scratch::new("tiff");
    let p8 = s.path().join("g8.tif");
    luma8(16, 16, |x, y| (y * 16 + x) as u8).save(&p8).unwrap();
    let img = read_gray(&p8).unwrap();
    let want: Vec<f32> = (0..256).map(|v| (v as f64 / 255.0) as f32).collect();
    assert_eq!(img.data, want);

    let p16 = s.path().join("g16.TIFF");
    let values = [0u16, 1, 257, 12345, 65535, 40000];
    ImageBuffer::<Luma<u16>, _>::from_raw(3, 2, values.to_vec())
        .unwrap()
        .save_with_format(&p16, image::ImageFormat::Tiff)
        .unwrap();
    let img = read_gray(&p16).unwrap();
    assert_eq!((img.width, img.height), (3, 2));
    let want: Vec<f32> = values
        .iter()
        .map(|&v| (v as f64 / 65535.0) as f32)
        .collect();
    assert_eq!(img.data, want);

    let c16 = s.path().join("rgb16.tiff");
    let px: [[u16; 3]; 2] = [[65535, 0, 0], [1000, 50000, 30001]];
    ImageBuffer::<Rgb<u16>, _>::from_raw(2, 1, px.concat())
        .unwrap()
        .save(&c16)
        .unwrap();
    let img = read_gray(&c16).unwrap();
    for (p, g) in px.iter().zip(&img.data) {
        let want = rec601(p[0] as f64, p[1] as f64, p[2] as f64, 65535.0);
        assert!((*g as f64 - want).abs() < 1e-7);
    }

    let c8 = s.path().join("rgba8.tif");
    ImageBuffer::<Rgba<u8>, _>::from_raw(1, 1, vec![10, 200, 30, 0])
        .unwrap()
        .save(&c8)
        .unwrap();
    let g = read_gray(&c8).unwrap().data[0] as f64;
    assert!((g - rec601(10.0, 200.0, 30.0, 255.0)).abs() < 1e-6);
}

#[test]
fn the_format_comes_from_the_content() {
    let s = Scratch::new("guess");
    // A PNG named .tif, a TIFF named .png.
    let a = s.path().join("a.tif");
    let b = s.path().join("b.png");
    luma8(3, 2, |x, y| (x * 50 + y * 7) as u8)
        .save_with_format(&a, image::ImageFormat::Png)
        .unwrap();
    luma8(3, 2, |x, y| (x * 50 + y * 7) as u8)
        .save_with_format(&b, image::ImageFormat::Tiff)
        .unwrap();
    let (ga, gb) = (read_gray(&a).unwrap(), read_gray(&b).unwrap());
    assert_eq!(ga, gb);
    assert_eq!(ga.data[4], (57.0f64 / 255.0) as f32);
}

#[test]
fn bad_files_are_refused_with_the_file_named() {
    let s = Scratch::new("bad");
    // Truncated PNG.
    let good = s.path().join("good.png");
    luma8(32, 32, |x, y| (x * 7 + y * 3) as u8)
        .save(&good)
        .unwrap();
    let bytes = std::fs::read(&good).unwrap();
    let cut = s.path().join("cut.png");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let err = read_gray(&cut).unwrap_err();
    assert!(
        matches!(&err, IoError::Format { path, .. } if path == &cut),
        "{err}"
    );
    assert!(err.to_string().starts_with(&cut.display().to_string()));
    // Not an image at all.
    let junk = s.path().join("junk.jpg");
    std::fs::write(&junk, b"this is not a JPEG").unwrap();
    let err = read_gray(&junk).unwrap_err();
    assert!(
        matches!(&err, IoError::Format { path, .. } if path == &junk),
        "{err}"
    );
    // Missing: an OS error.
    let err = read_gray(&s.path().join("missing.png")).unwrap_err();
    assert!(matches!(err, IoError::Os { .. }), "{err}");
    // A side over MAX_SIDE.
    let wide = s.path().join("wide.png");
    luma8(aquamvs_io::image::MAX_SIDE + 1, 1, |_, _| 0)
        .save(&wide)
        .unwrap();
    let err = read_gray(&wide).unwrap_err().to_string();
    assert!(err.contains("65537x1") && err.contains("wide.png"), "{err}");
    // A header promising an absurd decode (40000x40000 RGBA 16 bits: 12.8 GB), no pixels.
    let huge = s.path().join("huge.png");
    std::fs::write(&huge, png_header(40000, 40000, 6, 16)).unwrap();
    let err = read_gray(&huge).unwrap_err().to_string();
    assert!(
        err.contains("huge.png") && err.contains("40000x40000") && err.contains("limit"),
        "{err}"
    );
    // Floating point samples are refused, by name.
    let float = s.path().join("float.tif");
    ImageBuffer::<Rgb<f32>, _>::from_raw(1, 1, vec![0.5, 0.5, 0.5])
        .unwrap()
        .save(&float)
        .unwrap();
    let err = read_gray(&float).unwrap_err().to_string();
    assert!(err.contains("float.tif") && err.contains("Rgb32F"), "{err}");
}

/// A PNG signature, IHDR chunk and empty IDAT chunk: a header, no pixels.
fn png_header(w: u32, h: u32, color: u8, depth: u8) -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut c = 0xffff_ffffu32;
        for &b in bytes {
            c ^= b as u32;
            for _ in 0..8 {
                c = if c & 1 == 1 {
                    0xedb8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[depth, color, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    for chunk in [ihdr, b"IDAT".to_vec()] {
        out.extend_from_slice(&(chunk.len() as u32 - 4).to_be_bytes());
        out.extend_from_slice(&chunk);
        out.extend_from_slice(&crc32(&chunk).to_be_bytes());
    }
    out
}

/// Writes `n` frames `f0.png … f{n-1}.png` of `w × h` into `dir/cam`, frame `k` holding the
/// value `k + offset` everywhere.
fn frames(dir: &Path, cam: &str, n: u32, w: u32, h: u32, offset: u8) {
    let d = dir.join(cam);
    std::fs::create_dir_all(&d).unwrap();
    for k in 0..n {
        luma8(w, h, |_, _| k as u8 + offset)
            .save(d.join(format!("f{k}.png")))
            .unwrap();
    }
}

fn cam(name: &str, width: u32, height: u32) -> FolderCamera<'_> {
    FolderCamera {
        name,
        width,
        height,
    }
}

#[test]
fn a_folder_gives_one_frame_of_every_camera_in_order() {
    let s = Scratch::new("folder");
    let dir = s.path();
    // Different frame counts and sizes per camera; 12 frames so that f10 and f11 sort after f9.
    frames(dir, "cam00", 12, 4, 3, 0);
    frames(dir, "cam01", 11, 5, 2, 100);
    frames(dir, "cam02", 13, 2, 2, 200);
    std::fs::write(dir.join("cam01").join("notes.txt"), b"x").unwrap();
    std::fs::write(dir.join("rig.json"), b"{}").unwrap();
    let cams = [cam("cam02", 2, 2), cam("cam00", 4, 3), cam("cam01", 5, 2)];
    for frame in [0usize, 9, 10] {
        let imgs = read_image_folder(dir, &cams, frame).unwrap();
        assert_eq!(imgs.len(), 3);
        let sizes: Vec<_> = imgs.iter().map(|i| (i.width, i.height)).collect();
        assert_eq!(sizes, [(2, 2), (4, 3), (5, 2)]);
        for (img, offset) in imgs.iter().zip([200u32, 0, 100]) {
            let want = (frame as u32 + offset) as f64 / 255.0;
            assert!(img.data.iter().all(|&v| v == want as f32), "frame {frame}");
        }
    }
    // No cameras: nothing to read.
    assert_eq!(
        read_image_folder(dir, &[], 0).unwrap(),
        Vec::<GrayImage>::new()
    );
}

#[test]
fn folder_errors_are_one_line_naming_the_camera() {
    let s = Scratch::new("folder-errors");
    let dir = s.path();
    frames(dir, "cam00", 6, 4, 3, 0);
    frames(dir, "cam03", 3, 4, 3, 0);
    let ok = cam("cam00", 4, 3);

    // The folder itself.
    let missing = dir.join("nowhere");
    let err = read_image_folder(&missing, &[ok], 0).unwrap_err();
    assert!(
        matches!(&err, IoError::Format { path, .. } if path == &missing),
        "{err}"
    );
    assert!(err.to_string().contains("does not exist"), "{err}");
    let file = dir.join("file.txt");
    std::fs::write(&file, b"").unwrap();
    let err = read_image_folder(&file, &[ok], 0).unwrap_err();
    assert!(err.to_string().contains("not a folder"), "{err}");

    // A camera folder missing.
    let cam_dir = dir.join("cam07");
    let err = read_image_folder(dir, &[ok, cam("cam07", 4, 3)], 0).unwrap_err();
    let msg = camera_error(err, "cam07", &cam_dir);
    assert_eq!(
        msg,
        format!("camera \"cam07\": no folder {}", cam_dir.display())
    );
    // A file where a camera's folder should be.
    std::fs::write(dir.join("cam08"), b"").unwrap();
    let err = read_image_folder(dir, &[cam("cam08", 4, 3)], 0).unwrap_err();
    let msg = camera_error(err, "cam08", &dir.join("cam08"));
    assert!(msg.contains("no folder"), "{msg}");
    // A name that is not a folder's.
    let err = read_image_folder(dir, &[cam("../cam00", 4, 3)], 0).unwrap_err();
    camera_error(err, "../cam00", dir);

    // Too few frames (others have enough: the first that lacks it is named).
    let cam_dir = dir.join("cam03");
    let err = read_image_folder(dir, &[ok, cam("cam03", 4, 3)], 5).unwrap_err();
    let msg = camera_error(err, "cam03", &cam_dir);
    assert_eq!(
        msg,
        format!(
            "camera \"cam03\": frame 5 requested but {} holds 3 frames",
            cam_dir.display()
        )
    );
    assert!(read_image_folder(dir, &[ok, cam("cam03", 4, 3)], 2).is_ok());

    // Size disagreeing with the calibration.
    let f0 = dir.join("cam03").join("f0.png");
    let err = read_image_folder(dir, &[ok, cam("cam03", 800, 600)], 0).unwrap_err();
    let msg = camera_error(err, "cam03", &f0);
    assert_eq!(
        msg,
        format!(
            "camera \"cam03\": {} is 4x3 but the calibration says 800x600",
            f0.display()
        )
    );

    // A corrupt frame: the camera, the file and the decoder's reason.
    let f1 = dir.join("cam03").join("f1.png");
    let bytes = std::fs::read(&f1).unwrap();
    std::fs::write(&f1, &bytes[..bytes.len() - 20]).unwrap();
    let err = read_image_folder(dir, &[ok, cam("cam03", 4, 3)], 1).unwrap_err();
    let msg = camera_error(err, "cam03", &f1);
    let prefix = format!("camera \"cam03\": {}: cannot decode: ", f1.display());
    assert!(
        msg.starts_with(&prefix) && msg.len() > prefix.len(),
        "{msg}"
    );
    // Garbage with an image's name.
    let f2 = dir.join("cam03").join("f2.png");
    std::fs::write(&f2, b"\x89PNG but not really").unwrap();
    let err = read_image_folder(dir, &[cam("cam03", 4, 3)], 2).unwrap_err();
    camera_error(err, "cam03", &f2);
    // An unreadable entry (a dangling link) is a frame that fails, not a skipped one.
    #[cfg(unix)]
    {
        let link = dir.join("cam00").join("f0a.png");
        std::os::unix::fs::symlink(dir.join("gone.png"), &link).unwrap();
        let err = read_image_folder(dir, &[ok], 1).unwrap_err();
        let msg = camera_error(err, "cam00", &link);
        assert!(msg.contains("f0a.png"), "{msg}");
    }
}
