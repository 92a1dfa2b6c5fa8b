//! PLY point clouds and triangle meshes.
//!
//! Writing: binary little-endian, `float` vertices (what MeshLab and CloudCompare open).
//! Reading: see [`read`] (ASCII, binary little- and big-endian, any numeric coordinate type,
//! any integer face-list types, extra properties and elements ignored: what MeshLab,
//! CloudCompare and Open3D write). Malformed or truncated files give a one-line error,
//! never a panic; element counts are checked against the file size before allocating.

use std::path::Path;

use crate::{IoError, write_atomic};

/// Vertices and (possibly no) triangles.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlyData {
    /// Vertex positions, metres.
    pub vertices: Vec<[f64; 3]>,
    /// Triangles as vertex indices.
    pub faces: Vec<[u32; 3]>,
}

/// Encodes a binary little-endian PLY with `float` x, y, z and, if `faces` is not empty, a
/// `face` element with `vertex_indices`.
pub fn encode(vertices: &[[f64; 3]], faces: &[[u32; 3]]) -> Vec<u8> {
    let mut header = format!(
        "ply\nformat binary_little_endian 1.0\ncomment aquamvs-rs\nelement vertex {}\n\
         property float x\nproperty float y\nproperty float z\n",
        vertices.len()
    );
    if !faces.is_empty() {
        header.push_str(&format!(
            "element face {}\nproperty list uchar int vertex_indices\n",
            faces.len()
        ));
    }
    header.push_str("end_header\n");
    let mut out = Vec::with_capacity(header.len() + vertices.len() * 12 + faces.len() * 13);
    out.extend_from_slice(header.as_bytes());
    for v in vertices {
        for c in v {
            out.extend_from_slice(&(*c as f32).to_le_bytes());
        }
    }
    for f in faces {
        out.push(3);
        for i in f {
            out.extend_from_slice(&(*i as i32).to_le_bytes());
        }
    }
    out
}

/// Writes a point cloud (no faces) atomically.
pub fn write_points(path: &Path, points: &[[f64; 3]]) -> Result<(), IoError> {
    write_atomic(path, &encode(points, &[]))
}

/// Writes a triangle mesh atomically.
pub fn write_mesh(path: &Path, vertices: &[[f64; 3]], faces: &[[u32; 3]]) -> Result<(), IoError> {
    write_atomic(path, &encode(vertices, faces))
}

/// Reads a PLY point cloud or triangle mesh: ASCII, binary little-endian or binary big-endian;
/// coordinates of any numeric type (`float`, `double`, integers); face lists with any integer
/// count and index types (polygons are fan-triangulated, faces with fewer than three vertices
/// are skipped). Extra properties (normals, colours, ...) and extra elements are ignored.
pub fn read(path: &Path) -> Result<PlyData, IoError> {
    let bytes = std::fs::read(path).map_err(|e| IoError::os(path, e))?;
    decode(&bytes).map_err(|m| IoError::format(path, m))
}

/// Decodes a PLY file held in memory (see [`read`]). The error is a one-line message.
pub fn decode(bytes: &[u8]) -> Result<PlyData, String> {
    let header = Header::parse(bytes)?;
    let body = &bytes[header.body_start..];
    let vertex_idx = header
        .elements
        .iter()
        .position(|e| e.name == "vertex")
        .ok_or("no `vertex` element in the PLY header")?;
    let xyz = {
        let v = &header.elements[vertex_idx];
        let find = |n: &str| {
            v.props
                .iter()
                .position(|p| p.name == n)
                .ok_or_else(|| format!("the `vertex` element has no `{n}` property"))
        };
        let idx = [find("x")?, find("y")?, find("z")?];
        for &i in &idx {
            if let Kind::List { .. } = v.props[i].kind {
                return Err(format!("vertex property `{}` is a list", v.props[i].name));
            }
        }
        idx
    };
    let face_idx = header.elements.iter().position(|e| e.name == "face");
    let face_list = match face_idx {
        None => None,
        Some(fi) => {
            let f = &header.elements[fi];
            let li = f
                .props
                .iter()
                .position(|p| p.name == "vertex_indices" || p.name == "vertex_index")
                .ok_or("the `face` element has no `vertex_indices` list")?;
            match f.props[li].kind {
                Kind::List { count, item } if count.is_integer() && item.is_integer() => Some(li),
                Kind::List { .. } => return Err("face `vertex_indices` must hold integers".into()),
                Kind::Scalar(_) => return Err("face `vertex_indices` is not a list".into()),
            }
        }
    };

    let mut out = PlyData::default();
    match header.format {
        Format::Ascii => {
            let text = std::str::from_utf8(body).map_err(|_| "ASCII PLY body is not UTF-8")?;
            let mut tokens = Tokens {
                it: text.split_ascii_whitespace(),
            };
            for (ei, e) in header.elements.iter().enumerate() {
                if ei == vertex_idx {
                    out.vertices = ascii_vertices(&mut tokens, e, xyz, body.len())?;
                } else if Some(ei) == face_idx {
                    out.faces = ascii_faces(&mut tokens, e, face_list.unwrap_or(0), body.len())?;
                } else {
                    for row in 0..e.count {
                        for p in &e.props {
                            tokens.skip_prop(p, &e.name, row)?;
                        }
                    }
                }
            }
        }
        Format::Binary { big_endian } => {
            let mut cur = Cursor {
                bytes: body,
                pos: 0,
                be: big_endian,
            };
            for (ei, e) in header.elements.iter().enumerate() {
                if ei == vertex_idx {
                    out.vertices = binary_vertices(&mut cur, e, xyz)?;
                } else if Some(ei) == face_idx {
                    out.faces = binary_faces(&mut cur, e, face_list.unwrap_or(0))?;
                } else {
                    binary_skip(&mut cur, e)?;
                }
            }
        }
    }
    let n = out.vertices.len();
    if let Some((fi, bad)) = out
        .faces
        .iter()
        .enumerate()
        .find_map(|(fi, f)| f.iter().find(|&&i| i as usize >= n).map(|&i| (fi, i)))
    {
        return Err(format!(
            "triangle {fi} refers to vertex {bad}, but there are only {n} vertices"
        ));
    }
    Ok(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scalar {
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
    F32,
    F64,
}

impl Scalar {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "char" | "int8" => Self::I8,
            "uchar" | "uint8" => Self::U8,
            "short" | "int16" => Self::I16,
            "ushort" | "uint16" => Self::U16,
            "int" | "int32" => Self::I32,
            "uint" | "uint32" => Self::U32,
            "float" | "float32" => Self::F32,
            "double" | "float64" => Self::F64,
            _ => return None,
        })
    }
    fn size(self) -> usize {
        match self {
            Self::I8 | Self::U8 => 1,
            Self::I16 | Self::U16 => 2,
            Self::I32 | Self::U32 | Self::F32 => 4,
            Self::F64 => 8,
        }
    }
    fn is_integer(self) -> bool {
        !matches!(self, Self::F32 | Self::F64)
    }
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Scalar(Scalar),
    List { count: Scalar, item: Scalar },
}

#[derive(Debug)]
struct Prop {
    name: String,
    kind: Kind,
}

#[derive(Debug)]
struct Element {
    name: String,
    count: usize,
    props: Vec<Prop>,
}

impl Element {
    /// Bytes per row when no property is a list.
    fn fixed_stride(&self) -> Option<usize> {
        self.props.iter().try_fold(0, |acc, p| match p.kind {
            Kind::Scalar(s) => Some(acc + s.size()),
            Kind::List { .. } => None,
        })
    }
    /// The smallest possible row size in bytes (lists empty).
    fn min_row_bytes(&self) -> usize {
        self.props
            .iter()
            .map(|p| match p.kind {
                Kind::Scalar(s) => s.size(),
                Kind::List { count, .. } => count.size(),
            })
            .sum()
    }
}

#[derive(Debug, Clone, Copy)]
enum Format {
    Ascii,
    Binary { big_endian: bool },
}

#[derive(Debug)]
struct Header {
    format: Format,
    elements: Vec<Element>,
    body_start: usize,
}

impl Header {
    fn parse(bytes: &[u8]) -> Result<Self, String> {
        if !(bytes.starts_with(b"ply\n") || bytes.starts_with(b"ply\r\n")) {
            return Err("not a PLY file (it does not start with `ply`)".into());
        }
        // The header is short; look for its end in the first megabyte.
        let limit = bytes.len().min(1 << 20);
        let end = find_end_header(&bytes[..limit])
            .ok_or("no `end_header` line: the PLY header is truncated or malformed")?;
        let text = std::str::from_utf8(&bytes[..end.0]).map_err(|_| "PLY header is not UTF-8")?;
        let mut format = None;
        let mut elements: Vec<Element> = Vec::new();
        for (lineno, line) in text.lines().enumerate().skip(1) {
            let words: Vec<&str> = line.split_ascii_whitespace().collect();
            let bad = || format!("PLY header line {}: cannot parse `{line}`", lineno + 1);
            match words.as_slice() {
                [] => {}
                ["comment" | "obj_info", ..] => {}
                ["format", f, _version] => {
                    format = Some(match *f {
                        "ascii" => Format::Ascii,
                        "binary_little_endian" => Format::Binary { big_endian: false },
                        "binary_big_endian" => Format::Binary { big_endian: true },
                        _ => return Err(format!("unknown PLY format `{f}`")),
                    })
                }
                ["element", name, count] => elements.push(Element {
                    name: (*name).to_owned(),
                    count: count.parse().map_err(|_| bad())?,
                    props: Vec::new(),
                }),
                ["property", "list", c, i, name] => {
                    let e = elements.last_mut().ok_or_else(bad)?;
                    let count =
                        Scalar::parse(c).ok_or_else(|| format!("unknown PLY type `{c}`"))?;
                    let item = Scalar::parse(i).ok_or_else(|| format!("unknown PLY type `{i}`"))?;
                    if !count.is_integer() {
                        return Err(format!("list count type `{c}` is not an integer type"));
                    }
                    e.props.push(Prop {
                        name: (*name).to_owned(),
                        kind: Kind::List { count, item },
                    });
                }
                ["property", t, name] => {
                    let e = elements.last_mut().ok_or_else(bad)?;
                    let s = Scalar::parse(t).ok_or_else(|| format!("unknown PLY type `{t}`"))?;
                    e.props.push(Prop {
                        name: (*name).to_owned(),
                        kind: Kind::Scalar(s),
                    });
                }
                _ => return Err(bad()),
            }
        }
        Ok(Self {
            format: format.ok_or("no `format` line in the PLY header")?,
            elements,
            body_start: end.1,
        })
    }
}

/// Finds the `end_header` line: (start of that line, first byte after it).
fn find_end_header(bytes: &[u8]) -> Option<(usize, usize)> {
    let key = b"end_header";
    let mut i = 0;
    while i + key.len() <= bytes.len() {
        let at_line_start = i == 0 || bytes[i - 1] == b'\n';
        if at_line_start && &bytes[i..i + key.len()] == key {
            let mut j = i + key.len();
            while j < bytes.len() && (bytes[j] == b' ' || bytes[j] == b'\t' || bytes[j] == b'\r') {
                j += 1;
            }
            if j < bytes.len() && bytes[j] == b'\n' {
                return Some((i, j + 1));
            }
            if j == bytes.len() {
                return Some((i, j));
            }
        }
        i += 1;
    }
    None
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    be: bool,
}

impl Cursor<'_> {
    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }
    fn take(&mut self, n: usize, what: &str, row: usize) -> Result<&[u8], String> {
        if self.remaining() < n {
            return Err(format!("truncated PLY: the file ends inside {what} {row}"));
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
}

/// Reads one binary scalar of type `t` from the start of `b` (at least `t.size()` bytes).
#[inline]
fn scalar_at(b: &[u8], t: Scalar, be: bool) -> f64 {
    macro_rules! rd {
        ($ty:ty, $n:literal) => {{
            let a: [u8; $n] = b[..$n].try_into().unwrap_or([0; $n]);
            (if be {
                <$ty>::from_be_bytes(a)
            } else {
                <$ty>::from_le_bytes(a)
            }) as f64
        }};
    }
    match t {
        Scalar::I8 => b[0] as i8 as f64,
        Scalar::U8 => b[0] as f64,
        Scalar::I16 => rd!(i16, 2),
        Scalar::U16 => rd!(u16, 2),
        Scalar::I32 => rd!(i32, 4),
        Scalar::U32 => rd!(u32, 4),
        Scalar::F32 => rd!(f32, 4),
        Scalar::F64 => rd!(f64, 8),
    }
}

/// Reads one binary integer of type `t` from the start of `b`. Every PLY integer type (at most
/// 32 bits) is exact in an `f64`, so this is [`scalar_at`] converted; callers check
/// `is_integer` first.
#[inline]
fn int_at(b: &[u8], t: Scalar, be: bool) -> i64 {
    scalar_at(b, t, be) as i64
}

fn prop_offsets(e: &Element) -> Option<Vec<usize>> {
    let mut off = 0;
    let mut v = Vec::with_capacity(e.props.len());
    for p in &e.props {
        v.push(off);
        match p.kind {
            Kind::Scalar(s) => off += s.size(),
            Kind::List { .. } => return None,
        }
    }
    Some(v)
}

fn truncated(e: &Element, need: usize, have: usize) -> String {
    format!(
        "truncated PLY: {} `{}` rows need at least {need} bytes, only {have} remain",
        e.count, e.name
    )
}

fn binary_vertices(
    cur: &mut Cursor,
    e: &Element,
    xyz: [usize; 3],
) -> Result<Vec<[f64; 3]>, String> {
    let min = e.count.checked_mul(e.min_row_bytes());
    if min.is_none_or(|m| m > cur.remaining()) {
        return Err(truncated(e, min.unwrap_or(usize::MAX), cur.remaining()));
    }
    let be = cur.be;
    let ty = |i: usize| match e.props[i].kind {
        Kind::Scalar(s) => s,
        Kind::List { .. } => Scalar::F64,
    };
    let t = [ty(xyz[0]), ty(xyz[1]), ty(xyz[2])];
    let mut out = Vec::with_capacity(e.count);
    if let (Some(stride), Some(offs)) = (e.fixed_stride(), prop_offsets(e)) {
        // Fast path: fixed-size rows.
        let body = cur.take(e.count * stride, "vertex", 0)?;
        let o = [offs[xyz[0]], offs[xyz[1]], offs[xyz[2]]];
        if stride > 0 {
            if !be && t == [Scalar::F32; 3] {
                for row in body.chunks_exact(stride) {
                    let f = |k: usize| {
                        let a: [u8; 4] = row[o[k]..o[k] + 4].try_into().unwrap_or([0; 4]);
                        f32::from_le_bytes(a) as f64
                    };
                    out.push([f(0), f(1), f(2)]);
                }
            } else {
                for row in body.chunks_exact(stride) {
                    out.push([
                        scalar_at(&row[o[0]..], t[0], be),
                        scalar_at(&row[o[1]..], t[1], be),
                        scalar_at(&row[o[2]..], t[2], be),
                    ]);
                }
            }
        }
        return Ok(out);
    }
    // General path: some vertex property is a list.
    for row in 0..e.count {
        let mut v = [0.0; 3];
        for (pi, p) in e.props.iter().enumerate() {
            match p.kind {
                Kind::Scalar(s) => {
                    let b = cur.take(s.size(), "vertex", row)?;
                    if let Some(k) = xyz.iter().position(|&x| x == pi) {
                        v[k] = scalar_at(b, s, be);
                    }
                }
                Kind::List { count, item } => {
                    let n = list_len(cur, count, "vertex", row)?;
                    cur.take(n * item.size(), "vertex", row)?;
                }
            }
        }
        out.push(v);
    }
    Ok(out)
}

fn list_len(cur: &mut Cursor, count: Scalar, what: &str, row: usize) -> Result<usize, String> {
    let be = cur.be;
    let b = cur.take(count.size(), what, row)?;
    let n = int_at(b, count, be);
    usize::try_from(n).map_err(|_| format!("{what} {row}: negative list length {n}"))
}

fn push_polygon(faces: &mut Vec<[u32; 3]>, poly: &[i64], row: usize) -> Result<(), String> {
    for &i in poly {
        if i < 0 || i > u32::MAX as i64 {
            return Err(format!("face {row}: vertex index {i} is out of range"));
        }
    }
    for k in 1..poly.len().saturating_sub(1) {
        faces.push([poly[0] as u32, poly[k] as u32, poly[k + 1] as u32]);
    }
    Ok(())
}

fn binary_faces(cur: &mut Cursor, e: &Element, list: usize) -> Result<Vec<[u32; 3]>, String> {
    let min = e.count.checked_mul(e.min_row_bytes());
    if min.is_none_or(|m| m > cur.remaining()) {
        return Err(truncated(e, min.unwrap_or(usize::MAX), cur.remaining()));
    }
    let be = cur.be;
    let mut faces = Vec::with_capacity(e.count);
    let mut poly: Vec<i64> = Vec::with_capacity(8);
    for row in 0..e.count {
        for (pi, p) in e.props.iter().enumerate() {
            match p.kind {
                Kind::Scalar(s) => {
                    cur.take(s.size(), "face", row)?;
                }
                Kind::List { count, item } => {
                    let n = list_len(cur, count, "face", row)?;
                    let b = cur.take(n * item.size(), "face", row)?;
                    if pi == list {
                        poly.clear();
                        poly.extend(b.chunks_exact(item.size()).map(|c| int_at(c, item, be)));
                        push_polygon(&mut faces, &poly, row)?;
                    }
                }
            }
        }
    }
    Ok(faces)
}

fn binary_skip(cur: &mut Cursor, e: &Element) -> Result<(), String> {
    if let Some(stride) = e.fixed_stride() {
        let need = e.count.checked_mul(stride);
        if need.is_none_or(|m| m > cur.remaining()) {
            return Err(truncated(e, need.unwrap_or(usize::MAX), cur.remaining()));
        }
        cur.pos += e.count * stride;
        return Ok(());
    }
    for row in 0..e.count {
        for p in &e.props {
            match p.kind {
                Kind::Scalar(s) => {
                    cur.take(s.size(), &e.name, row)?;
                }
                Kind::List { count, item } => {
                    let n = list_len(cur, count, &e.name, row)?;
                    cur.take(n * item.size(), &e.name, row)?;
                }
            }
        }
    }
    Ok(())
}

struct Tokens<'a> {
    it: std::str::SplitAsciiWhitespace<'a>,
}

impl<'a> Tokens<'a> {
    fn next(&mut self, what: &str, row: usize) -> Result<&'a str, String> {
        self.it
            .next()
            .ok_or_else(|| format!("truncated PLY: the file ends inside {what} {row}"))
    }
    fn float(&mut self, what: &str, row: usize) -> Result<f64, String> {
        let t = self.next(what, row)?;
        t.parse()
            .map_err(|_| format!("{what} {row}: `{t}` is not a number"))
    }
    fn int(&mut self, what: &str, row: usize) -> Result<i64, String> {
        let t = self.next(what, row)?;
        t.parse()
            .map_err(|_| format!("{what} {row}: `{t}` is not an integer"))
    }
    fn skip_prop(&mut self, p: &Prop, what: &str, row: usize) -> Result<(), String> {
        match p.kind {
            Kind::Scalar(_) => {
                self.next(what, row)?;
            }
            Kind::List { .. } => {
                let n = self.int(what, row)?;
                let n = usize::try_from(n)
                    .map_err(|_| format!("{what} {row}: negative list length {n}"))?;
                for _ in 0..n {
                    self.next(what, row)?;
                }
            }
        }
        Ok(())
    }
}

fn ascii_vertices(
    tokens: &mut Tokens,
    e: &Element,
    xyz: [usize; 3],
    body_len: usize,
) -> Result<Vec<[f64; 3]>, String> {
    // Each value takes at least two bytes (a digit and a separator).
    let mut out = Vec::with_capacity(e.count.min(body_len / 6 + 1));
    for row in 0..e.count {
        let mut v = [0.0; 3];
        for (pi, p) in e.props.iter().enumerate() {
            match xyz.iter().position(|&x| x == pi) {
                Some(k) => v[k] = tokens.float("vertex", row)?,
                None => tokens.skip_prop(p, "vertex", row)?,
            }
        }
        out.push(v);
    }
    Ok(out)
}

fn ascii_faces(
    tokens: &mut Tokens,
    e: &Element,
    list: usize,
    body_len: usize,
) -> Result<Vec<[u32; 3]>, String> {
    let mut faces = Vec::with_capacity(e.count.min(body_len / 8 + 1));
    let mut poly: Vec<i64> = Vec::with_capacity(8);
    for row in 0..e.count {
        for (pi, p) in e.props.iter().enumerate() {
            if pi != list {
                tokens.skip_prop(p, "face", row)?;
                continue;
            }
            let n = tokens.int("face", row)?;
            let n =
                usize::try_from(n).map_err(|_| format!("face {row}: negative list length {n}"))?;
            poly.clear();
            for _ in 0..n {
                poly.push(tokens.int("face", row)?);
            }
            push_polygon(&mut faces, &poly, row)?;
        }
    }
    Ok(faces)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let cases: Vec<(Vec<u8>, &str)> =
            vec![
            (b"PLY?\n".to_vec(), "not a PLY"),
            (b"".to_vec(), "not a PLY"),
            (
                header("ascii", "element vertex 1\nproperty float x\nproperty float y\n"),
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
}
