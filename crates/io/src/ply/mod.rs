//! PLY point clouds and triangle meshes.
//!
//! Writing: binary little-endian, `float` vertices (what MeshLab and CloudCompare open).
//! Reading: see [`read`] (ASCII, binary little- and big-endian, any numeric coordinate type,
//! any integer face-list types, extra properties and elements ignored: what MeshLab,
//! CloudCompare and Open3D write). Malformed or truncated files give a one-line error,
//! never a panic.
//!
//! **Reading checks before it reads**: the `ply` magic from the first 5 bytes, then the header
//! through a bounded reader (at most [`MAX_HEADER_BYTES`]); the element counts it states are
//! checked against the size of the file before anything is allocated; only then is the body
//! streamed through a buffered reader, a bounded chunk at a time. So `/dev/zero`, a random or
//! a huge non-PLY file, or a header claiming a billion rows, are refused at once.

use std::io::BufRead;
use std::path::Path;

use crate::{IoError, write_atomic};

mod body;
mod header;

use body::Body;
pub use header::MAX_HEADER_BYTES;
use header::{Format, Header, Kind};

/// Vertices and (possibly no) triangles.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlyData {
    /// Vertex positions, metres.
    pub vertices: Vec<[f64; 3]>,
    /// Triangles as vertex indices.
    pub faces: Vec<[u32; 3]>,
}

impl PlyData {
    /// `[x_min, x_max, y_min, y_max]` of the finite vertices, `None` without any.
    pub fn xy_extent(&self) -> Option<[f64; 4]> {
        self.finite().fold(None, |b, v| {
            let b = b.unwrap_or([v[0], v[0], v[1], v[1]]);
            Some([
                b[0].min(v[0]),
                b[1].max(v[0]),
                b[2].min(v[1]),
                b[3].max(v[1]),
            ])
        })
    }

    /// `(finite vertices, those of them outside bounds [x_min, x_max, y_min, y_max] in x/y)`
    /// (the bounds inclusive).
    pub fn count_outside_xy(&self, b: [f64; 4]) -> (usize, usize) {
        self.finite().fold((0, 0), |(n, out), p| {
            let inside = p[0] >= b[0] && p[0] <= b[1] && p[1] >= b[2] && p[1] <= b[3];
            (n + 1, out + usize::from(!inside))
        })
    }

    fn finite(&self) -> impl Iterator<Item = &[f64; 3]> {
        self.vertices
            .iter()
            .filter(|v| v.iter().all(|c| c.is_finite()))
    }
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
/// See the module documentation for the checks made before the body is read.
pub fn read(path: &Path) -> Result<PlyData, IoError> {
    let file = std::fs::File::open(path).map_err(|e| IoError::os(path, e))?;
    let meta = file.metadata().map_err(|e| IoError::os(path, e))?;
    let size = meta.is_file().then_some(meta.len());
    let reader = std::io::BufReader::with_capacity(1 << 20, file);
    decode_from(reader, size).map_err(|m| IoError::format(path, m))
}

/// Decodes a PLY file held in memory (see [`read`]). The error is a one-line message.
pub fn decode(bytes: &[u8]) -> Result<PlyData, String> {
    decode_from(bytes, Some(bytes.len() as u64))
}

/// Decodes a PLY stream of `size` bytes (`None` when unknown: a pipe, a device), reading the
/// header first and streaming the body (see the module documentation).
pub fn decode_from(mut r: impl BufRead, size: Option<u64>) -> Result<PlyData, String> {
    let header = Header::read(&mut r)?;
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
    // The counts against the size, before anything is allocated.
    let left = size.map(|s| s.saturating_sub(header.len));
    if let Some(mut have) = left {
        for e in &header.elements {
            let need = e.min_bytes(header.format);
            if need > have {
                return Err(format!(
                    "truncated PLY: {} `{}` rows need at least {need} bytes, only {have} remain",
                    e.count, e.name
                ));
            }
            have -= need;
        }
    }

    let big_endian = matches!(header.format, Format::Binary { big_endian: true });
    let mut body = Body::new(r, left, big_endian);
    let mut out = PlyData::default();
    for (ei, e) in header.elements.iter().enumerate() {
        let list = face_list.unwrap_or(0);
        match header.format {
            Format::Ascii if ei == vertex_idx => {
                out.vertices = body::ascii_vertices(&mut body, e, xyz)?
            }
            Format::Ascii if Some(ei) == face_idx => {
                out.faces = body::ascii_faces(&mut body, e, list)?
            }
            Format::Ascii => body::ascii_skip(&mut body, e)?,
            Format::Binary { .. } if ei == vertex_idx => {
                out.vertices = body::binary_vertices(&mut body, e, xyz)?
            }
            Format::Binary { .. } if Some(ei) == face_idx => {
                out.faces = body::binary_faces(&mut body, e, list)?
            }
            Format::Binary { .. } => body::binary_skip(&mut body, e)?,
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

#[cfg(test)]
mod tests;
