//! PLY point clouds and triangle meshes.
//!
//! Writing: binary little-endian, `float` vertices (what MeshLab and CloudCompare open).
//! Reading: see [`read`] (ASCII and binary little-endian, float or double, extra properties
//! ignored).

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
