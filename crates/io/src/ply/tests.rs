//! Unit tests of the PLY reader and writer.

use super::*;
use std::io::Read;

fn header(format: &str, body: &str) -> Vec<u8> {
    format!("ply\nformat {format} 1.0\ncomment test\n{body}end_header\n").into_bytes()
}

#[test]
fn binary_float_round_trip() {
    let v = vec![[0.5, -1.25, 1.178], [2.0, 3.0, 4.0], [0.0, 1.0, 0.0]];
    let f = vec![[0, 1, 2], [2, 1, 0]];
    let d = decode(&encode(&v, &f)).unwrap();
    assert_eq!(d.faces, f);
    for (a, b) in d.vertices.iter().zip(&v) {
        for k in 0..3 {
            assert_eq!(a[k], b[k] as f32 as f64);
        }
    }
    let points = decode(&encode(&v, &[])).unwrap();
    assert_eq!(points.vertices.len(), 3);
    assert!(points.faces.is_empty());
}

#[test]
fn ascii_with_extra_properties_elements_and_crlf() {
    let text = "ply\r\nformat ascii 1.0\r\ncomment made by hand\r\nobj_info x\r\n\
        element vertex 4\r\nproperty float x\r\nproperty float y\r\nproperty float z\r\n\
        property float nx\r\nproperty float ny\r\nproperty float nz\r\n\
        property uchar red\r\nproperty uchar green\r\nproperty uchar blue\r\n\
        element face 1\r\nproperty uchar flags\r\nproperty list uchar int vertex_indices\r\n\
        property list uchar float texcoord\r\n\
        element edge 1\r\nproperty int vertex1\r\nproperty int vertex2\r\n\
        end_header\r\n\
        0 0 0 0 0 1 255 0 0\r\n1 0 0 0 0 1 0 255 0\r\n1 1 0.5 0 0 1 0 0 255\r\n\
        -1e-3 1 nan 0 0 1 1 2 3\r\n\
        7 4 0 1 2 3 2 0.5 0.5\r\n0 1\r\n";
    let d = decode(text.as_bytes()).unwrap();
    assert_eq!(d.vertices.len(), 4);
    assert_eq!(d.vertices[2], [1.0, 1.0, 0.5]);
    assert_eq!(d.vertices[3][0], -1e-3);
    assert!(
        d.vertices[3][2].is_nan(),
        "NaN coordinates are read, not rejected"
    );
    // The quad is fan-triangulated.
    assert_eq!(d.faces, vec![[0, 1, 2], [0, 2, 3]]);
}

/// Binary little-endian, `double` coordinates interleaved with other properties, a `uint`
/// list count and `uint` indices, an extra element before the vertices.
#[test]
fn binary_double_with_extras() {
    let mut b = header(
        "binary_little_endian",
        "element camera 1\nproperty list uchar float params\nproperty int id\n\
         element vertex 3\nproperty uchar quality\nproperty double x\nproperty double y\n\
         property float confidence\nproperty double z\n\
         element face 1\nproperty list uint uint vertex_indices\nproperty short tag\n",
    );
    b.push(2);
    b.extend(1.5f32.to_le_bytes());
    b.extend(2.5f32.to_le_bytes());
    b.extend(7i32.to_le_bytes());
    let v: [[f64; 3]; 3] = [[0.1, 0.2, 0.3], [1.0 / 3.0, -2.0, 1e-9], [5.0, 6.0, 7.0]];
    for p in v {
        b.push(9);
        b.extend(p[0].to_le_bytes());
        b.extend(p[1].to_le_bytes());
        b.extend(0.75f32.to_le_bytes());
        b.extend(p[2].to_le_bytes());
    }
    b.extend(3u32.to_le_bytes());
    for i in [2u32, 0, 1] {
        b.extend(i.to_le_bytes());
    }
    b.extend((-4i16).to_le_bytes());
    let d = decode(&b).unwrap();
    assert_eq!(d.vertices, v.to_vec(), "double coordinates are exact");
    assert_eq!(d.faces, vec![[2, 0, 1]]);
}

#[test]
fn binary_big_endian() {
    let mut b = header(
        "binary_big_endian",
        "element vertex 3\nproperty float x\nproperty float y\nproperty float z\n\
         element face 1\nproperty list uchar ushort vertex_indices\n",
    );
    for p in [[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.5]] {
        for c in p {
            b.extend(c.to_be_bytes());
        }
    }
    b.push(3);
    for i in [0u16, 1, 2] {
        b.extend(i.to_be_bytes());
    }
    let d = decode(&b).unwrap();
    assert_eq!(d.vertices[2], [7.0, 8.0, 9.5]);
    assert_eq!(d.faces, vec![[0, 1, 2]]);
}

#[test]
fn truncated_binary_files_are_errors() {
    let v = vec![[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]];
    let full = encode(&v, &[[0, 1, 2]]);
    let header_len = full.len() - 3 * 12 - 13;
    // Every cut inside the body, and inside the header.
    for cut in (header_len..full.len()).chain([5, 20, header_len - 3]) {
        let e = decode(&full[..cut]).unwrap_err();
        assert!(
            e.contains("truncated"),
            "cut at {cut} of {}: unexpected error `{e}`",
            full.len()
        );
    }
}

#[test]
fn truncated_ascii_files_are_errors() {
    let mut t = header(
        "ascii",
        "element vertex 3\nproperty float x\nproperty float y\nproperty float z\n",
    );
    t.extend(b"0 0 0\n1 0 0\n0 1");
    let e = decode(&t).unwrap_err();
    assert!(e.contains("truncated") && e.contains("vertex 2"), "{e}");
}

#[test]
fn malformed_files_are_errors() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"PLY?\n".to_vec(), "not a PLY"),
        (b"".to_vec(), "not a PLY"),
        (
            header(
                "ascii",
                "element vertex 1\nproperty float x\nproperty float y\n",
            ),
            "no `z`",
        ),
        (header("ascii", "element face 0\n"), "no `vertex`"),
        (header("utf8", "element vertex 0\n"), "unknown PLY format"),
        (
            header("ascii", "element vertex 1\nproperty float128 x\n"),
            "unknown PLY type",
        ),
        (header("ascii", "property float x\n"), "cannot parse"),
        (
            header("ascii", "element vertex many\nproperty float x\n"),
            "cannot parse",
        ),
        (
            [
                header(
                    "ascii",
                    "element vertex 1\nproperty float x\nproperty float y\nproperty float z\n",
                ),
                b"0 abc 0\n".to_vec(),
            ]
            .concat(),
            "`abc` is not a number",
        ),
        (
            [
                header(
                    "ascii",
                    "element vertex 3\nproperty float x\nproperty float y\nproperty float z\n\
                     element face 1\nproperty list uchar int vertex_indices\n",
                ),
                b"0 0 0\n1 0 0\n0 1 0\n3 0 1 3\n".to_vec(),
            ]
            .concat(),
            "refers to vertex 3",
        ),
        (
            [
                header(
                    "ascii",
                    "element vertex 3\nproperty float x\nproperty float y\nproperty float z\n\
                     element face 1\nproperty list uchar int vertex_indices\n",
                ),
                b"0 0 0\n1 0 0\n0 1 0\n3 0 -1 2\n".to_vec(),
            ]
            .concat(),
            "out of range",
        ),
        (
            header(
                "binary_little_endian",
                "element vertex 99999999999999\nproperty float x\nproperty float y\n\
                 property float z\n",
            ),
            "truncated",
        ),
        (
            header(
                "ascii",
                "element vertex 0\nproperty float x\nproperty float y\nproperty float z\n\
                 element face 0\nproperty list uchar float vertex_indices\n",
            ),
            "must hold integers",
        ),
        (
            b"ply\nformat ascii 1.0\nelement vertex 0\nproperty float x\n".to_vec(),
            "end_header",
        ),
    ];
    for (bytes, want) in cases {
        let e = decode(&bytes).unwrap_err();
        assert!(e.contains(want), "want `{want}`, got `{e}`");
        assert!(!e.contains('\n'), "one-line errors: `{e}`");
    }
}

#[test]
fn read_reports_the_path() {
    let dir = std::env::temp_dir().join(format!("aquamvs-ply-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ok = dir.join("mesh.ply");
    write_mesh(
        &ok,
        &[[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]],
        &[[0, 1, 2]],
    )
    .unwrap();
    assert_eq!(read(&ok).unwrap().faces, vec![[0, 1, 2]]);
    let bad = dir.join("bad.ply");
    std::fs::write(&bad, b"ply\nformat ascii 1.0\n").unwrap();
    let e = read(&bad).unwrap_err().to_string();
    assert!(e.contains("bad.ply") && e.contains("end_header"), "{e}");
    let missing = read(&dir.join("missing.ply")).unwrap_err();
    assert!(matches!(missing, IoError::Os { .. }));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `evaluate --points /dev/zero` (or `/dev/urandom`) read the whole "file" before looking
/// at the magic: now 5 bytes are read.
#[test]
fn endless_and_random_devices_are_refused_at_once() {
    for dev in ["/dev/zero", "/dev/urandom"] {
        let p = Path::new(dev);
        if !p.exists() {
            continue;
        }
        let t = std::time::Instant::now();
        let e = read(p).unwrap_err().to_string();
        assert!(e.contains(dev) && e.contains("not a PLY"), "{e}");
        assert!(
            t.elapsed().as_secs_f64() < 1.0,
            "{dev} took {:?}",
            t.elapsed()
        );
    }
}

/// A reader that counts the bytes taken from it.
struct Counting<R> {
    inner: R,
    taken: std::rc::Rc<std::cell::Cell<usize>>,
}

impl<R: std::io::Read> std::io::Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.taken.set(self.taken.get() + n);
        Ok(n)
    }
}

#[test]
fn a_big_non_ply_file_is_refused_after_reading_its_first_bytes() {
    let taken = std::rc::Rc::new(std::cell::Cell::new(0));
    let r = std::io::BufReader::with_capacity(
        4096,
        Counting {
            inner: std::io::repeat(b'a').take(1 << 30),
            taken: taken.clone(),
        },
    );
    let e = decode_from(r, Some(1 << 30)).unwrap_err();
    assert!(e.contains("not a PLY"), "{e}");
    assert!(taken.get() <= 4096, "read {} bytes", taken.get());
    // `ply` and then no header end: at most 64 KiB are read.
    taken.set(0);
    let r = std::io::BufReader::with_capacity(
        4096,
        Counting {
            inner: std::io::Read::chain(&b"ply\n"[..], std::io::repeat(b'x')),
            taken: taken.clone(),
        },
    );
    let e = decode_from(r, None).unwrap_err();
    assert!(e.contains("first 64 KiB"), "{e}");
    assert!(
        taken.get() <= MAX_HEADER_BYTES + 4096,
        "read {}",
        taken.get()
    );
}

#[test]
fn absurd_counts_are_refused_before_allocating() {
    // A billion rows in a file of a hundred bytes: refused from the size, in either format.
    for (format, stated) in [
        ("binary_little_endian", "1000000000"),
        ("ascii", "1000000000"),
    ] {
        let b = [
            header(
                format,
                &format!(
                    "element vertex {stated}\nproperty float x\nproperty float y\n\
                     property float z\n"
                ),
            ),
            vec![b'0'; 24],
        ]
        .concat();
        let e = decode(&b).unwrap_err();
        assert!(e.contains("truncated") && e.contains("1000000000"), "{e}");
    }
    // Size unknown (a pipe): nothing is reserved from the count; the end of the data says
    // the file is truncated. 10^15 rows of 12 bytes would not fit in any memory.
    for format in ["binary_little_endian", "ascii"] {
        let b = [
            header(
                format,
                "element vertex 1000000000000000\nproperty float x\nproperty float y\n\
                 property float z\nelement face 1000000000000000\n\
                 property list uchar int vertex_indices\n",
            ),
            vec![b'1'; 36],
        ]
        .concat();
        let e = decode_from(&b[..], None).unwrap_err();
        assert!(e.contains("truncated"), "{e}");
    }
    // A list claiming 4 billion entries.
    let mut b = header(
        "binary_little_endian",
        "element vertex 0\nproperty float x\nproperty float y\nproperty float z\n\
         element face 1\nproperty list uint int vertex_indices\n",
    );
    b.extend(u32::MAX.to_le_bytes());
    b.extend([0u8; 16]);
    for size in [Some(b.len() as u64), None] {
        let e = decode_from(&b[..], size).unwrap_err();
        assert!(e.contains("truncated") && e.contains("face 0"), "{e}");
    }
}

#[test]
fn big_bodies_stream_across_chunks_and_small_buffers() {
    let n = 200_003; // over two 1 MiB chunks of 12-byte rows
    let v: Vec<[f64; 3]> = (0..n)
        .map(|i| [i as f64 * 0.5, -(i as f64), (i % 7) as f64 + 0.25])
        .collect();
    let f: Vec<[u32; 3]> = (0..n as u32 - 2).map(|i| [i, i + 1, i + 2]).collect();
    let bytes = encode(&v, &f);
    let d = decode(&bytes).unwrap();
    assert_eq!(d.vertices, v);
    assert_eq!(d.faces, f);
    let d = decode_from(std::io::BufReader::with_capacity(7, &bytes[..]), None).unwrap();
    assert_eq!((d.vertices.len(), d.faces.len()), (n, n - 2));
    // ASCII through a 3-byte buffer: values split across reads.
    let text = [
        header(
            "ascii",
            "element vertex 3\nproperty float x\nproperty float y\nproperty float z\n\
             element face 1\nproperty list uchar int vertex_indices\n",
        ),
        b"0.125 -2.5e-3 1000.0625\n1 0 0\n0 1 0\n3 2 1 0\n".to_vec(),
    ]
    .concat();
    let d = decode_from(std::io::BufReader::with_capacity(3, &text[..]), None).unwrap();
    assert_eq!(d.vertices[0], [0.125, -2.5e-3, 1000.0625]);
    assert_eq!(d.faces, vec![[2, 1, 0]]);
}

#[test]
fn an_endless_ascii_value_is_refused() {
    let b = [
        header(
            "ascii",
            "element vertex 1\nproperty float x\nproperty float y\nproperty float z\n",
        ),
        vec![b'7'; 5000],
    ]
    .concat();
    let e = decode_from(&b[..], None).unwrap_err();
    assert!(e.contains("longer than 1024 bytes"), "{e}");
}
