//! Up-front estimates of what a scene folder costs to make, so that a caller can refuse a job
//! that does not fit **before** allocating anything (pure arithmetic: no system queries here).

use crate::SceneError;

/// Bytes per pixel of the exact surface-point grid [`crate::render_with_depth`] builds for
/// the camera it is rendering (`[f64; 4]` per pixel centre, one pixel wider on every side).
const GRID_BYTES_PER_PIXEL: u64 = 32;
/// Bytes per pixel kept for every camera until the folder is written: the `f32` image and
/// the `f32` depth map.
const KEPT_BYTES_PER_PIXEL: u64 = 8;
/// Bytes per pixel of the encoded files of one camera while it is written (8-bit image and
/// its PNG, the `.npy` depth map).
const ENCODE_BYTES_PER_PIXEL: u64 = 6;
/// Bytes per mesh vertex (`[f64; 3]`) and per triangle (`[u32; 3]`) in memory, and in the
/// binary PLY written from it (`float` xyz; a count byte and three `int` per triangle).
const MESH_VERTEX_BYTES: u64 = 24 + 12;
const MESH_FACE_BYTES: u64 = 12 + 13;

/// Peak memory, bytes, of rendering `cameras` views of `width × height` pixels one after the
/// other, keeping each view's image and depth map, and writing them with a mesh of
/// `mesh_vertices` vertices and `mesh_faces` triangles — what `xtask scene` does.
///
/// Counted from what the renderer and the writer allocate: every camera's image and depth
/// map (8 bytes per pixel) stay until the folder is written; on top of them, the camera being
/// rendered has its surface-point grid (32 bytes per pixel), the camera being written its
/// encoded files (6 bytes per pixel), whichever is larger; the mesh and its encoded PLY
/// stay throughout. Per-row scratch (two rows of rays per thread) is left out. Saturates at
/// `u64::MAX`.
///
/// ```
/// // 13 cameras at 16384 × 16384: about 37 GB.
/// let b = aquamvs_scenes::render_memory_bytes(16384, 16384, 13, 6161, 12000);
/// assert!(b > 36_000_000_000 && b < 38_000_000_000);
/// ```
pub fn render_memory_bytes(
    width: u32,
    height: u32,
    cameras: usize,
    mesh_vertices: u64,
    mesh_faces: u64,
) -> u64 {
    let pixels = u128::from(width) * u128::from(height);
    let grid = (u128::from(width) + 2) * (u128::from(height) + 2);
    let kept = pixels * u128::from(KEPT_BYTES_PER_PIXEL) * cameras as u128;
    let transient =
        (grid * u128::from(GRID_BYTES_PER_PIXEL)).max(pixels * u128::from(ENCODE_BYTES_PER_PIXEL));
    let mesh = u128::from(mesh_vertices) * u128::from(MESH_VERTEX_BYTES)
        + u128::from(mesh_faces) * u128::from(MESH_FACE_BYTES);
    u64::try_from(kept + transient + mesh).unwrap_or(u64::MAX)
}

/// Refuses to render when [`render_memory_bytes`] exceeds `available` bytes (what the caller
/// found the machine has; this crate does not ask), with both figures in the error; returns
/// the estimate otherwise.
pub fn check_render_memory(
    width: u32,
    height: u32,
    cameras: usize,
    mesh: (u64, u64),
    available: u64,
) -> Result<u64, SceneError> {
    let need = render_memory_bytes(width, height, cameras, mesh.0, mesh.1);
    if need > available {
        return Err(SceneError::Memory {
            cameras,
            width,
            height,
            need,
            available,
        });
    }
    Ok(need)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_check_names_both_figures() {
        let need = render_memory_bytes(4096, 4096, 13, 0, 0);
        assert_eq!(check_render_memory(4096, 4096, 13, (0, 0), need), Ok(need));
        let e = check_render_memory(4096, 4096, 13, (0, 0), 1_000_000_000).unwrap_err();
        assert_eq!(
            e.to_string(),
            "13 cameras at 4096x4096 need about 2.3 GB of memory, more than the 1.0 GB \
             available: use a smaller image size"
        );
    }

    #[test]
    fn grows_with_every_input_and_saturates() {
        let base = render_memory_bytes(160, 120, 13, 100, 100);
        assert!(base < 10_000_000, "{base}");
        assert!(render_memory_bytes(320, 120, 13, 100, 100) > base);
        assert!(render_memory_bytes(160, 240, 13, 100, 100) > base);
        assert!(render_memory_bytes(160, 120, 14, 100, 100) > base);
        assert!(render_memory_bytes(160, 120, 13, 10_000, 100) > base);
        assert!(render_memory_bytes(160, 120, 13, 100, 10_000) > base);
        assert_eq!(
            render_memory_bytes(u32::MAX, u32::MAX, usize::MAX, u64::MAX, u64::MAX),
            u64::MAX
        );
        // 16384² × 13 cameras: 13 × 8 + 32 bytes per pixel.
        let big = render_memory_bytes(16384, 16384, 13, 0, 0);
        let per_pixel = big as f64 / (16384.0 * 16384.0);
        assert!((per_pixel - 136.0).abs() < 0.1, "{per_pixel}");
    }
}
