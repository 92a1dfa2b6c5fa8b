//! Stage 5, surface reconstruction: a height field `z(x, y)` on a regular grid from the fused
//! points (the scene is seen from above), meshed where the grid has support.

use serde::Serialize;

use crate::PipelineError;

/// Options of [`height_field_surface`].
#[derive(Debug, Clone, Serialize)]
pub struct SurfaceOptions {
    /// Grid cell edge, metres.
    pub cell_size: f64,
    /// A cell needs at least this many points to get a height (fewer: a hole).
    pub min_points: usize,
    /// Restrict the grid to `[x0, x1, y0, y1]` (metres); `None`: the points' extent.
    pub bounds: Option<[f64; 4]>,
}

impl Default for SurfaceOptions {
    fn default() -> Self {
        Self {
            cell_size: 0.003,
            min_points: 3,
            bounds: None,
        }
    }
}

/// A triangle mesh.
///
/// **Vertices in metres, world frame; triangles wound so their normals point up (−Z, toward
/// the cameras).**
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Mesh {
    /// Vertex positions.
    #[serde(skip)]
    pub vertices: Vec<[f64; 3]>,
    /// Triangles (vertex indices).
    #[serde(skip)]
    pub faces: Vec<[u32; 3]>,
    /// Grid columns × rows.
    pub grid: (usize, usize),
    /// Cells with a height.
    pub supported_cells: usize,
}

/// Builds a height-field mesh: a grid of `cell_size` cells aligned to multiples of
/// `cell_size`, over the points' XY extent (or `bounds`); each cell with at least
/// `min_points` points gets a vertex at its centre with **z = the median z of its points**;
/// every 2×2 block of supported cells gives two triangles. Cells without support stay holes
/// (nothing is interpolated); vertices that end up in no triangle are dropped.
pub fn height_field_surface(
    points: &[[f64; 3]],
    opts: &SurfaceOptions,
) -> Result<Mesh, PipelineError> {
    if !(opts.cell_size > 0.0 && opts.cell_size.is_finite()) {
        return Err(PipelineError::Input(format!(
            "cell size must be positive, got {}",
            opts.cell_size
        )));
    }
    let c = opts.cell_size;
    let pts: Vec<&[f64; 3]> = points
        .iter()
        .filter(|p| p.iter().all(|v| v.is_finite()))
        .filter(|p| {
            opts.bounds
                .is_none_or(|b| p[0] >= b[0] && p[0] <= b[1] && p[1] >= b[2] && p[1] <= b[3])
        })
        .collect();
    if pts.is_empty() {
        return Ok(Mesh::default());
    }
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for p in &pts {
        x0 = x0.min(p[0]);
        x1 = x1.max(p[0]);
        y0 = y0.min(p[1]);
        y1 = y1.max(p[1]);
    }
    let (i0, j0) = ((x0 / c).floor() as i64, (y0 / c).floor() as i64);
    let nx = ((x1 / c).floor() as i64 - i0 + 1) as usize;
    let ny = ((y1 / c).floor() as i64 - j0 + 1) as usize;
    if nx.saturating_mul(ny) > 100_000_000 {
        return Err(PipelineError::Input(format!(
            "a {nx}x{ny} grid is too large; raise the cell size or set bounds"
        )));
    }
    let mut cells: Vec<Vec<f64>> = vec![Vec::new(); nx * ny];
    for p in &pts {
        let i = (((p[0] / c).floor() as i64 - i0) as usize).min(nx - 1);
        let j = (((p[1] / c).floor() as i64 - j0) as usize).min(ny - 1);
        cells[j * nx + i].push(p[2]);
    }
    let heights: Vec<Option<f64>> = cells
        .into_iter()
        .map(|mut z| {
            if z.len() < opts.min_points.max(1) {
                return None;
            }
            z.sort_by(f64::total_cmp);
            let n = z.len();
            Some(if n % 2 == 1 {
                z[n / 2]
            } else {
                0.5 * (z[n / 2 - 1] + z[n / 2])
            })
        })
        .collect();
    let supported_cells = heights.iter().filter(|h| h.is_some()).count();
    let mut index = vec![u32::MAX; nx * ny];
    let mut vertices = Vec::new();
    let mut faces = Vec::new();
    let mut vertex = |k: usize, vertices: &mut Vec<[f64; 3]>| -> u32 {
        if index[k] == u32::MAX {
            let (i, j) = (k % nx, k / nx);
            let x = (i0 + i as i64) as f64 * c + 0.5 * c;
            let y = (j0 + j as i64) as f64 * c + 0.5 * c;
            index[k] = vertices.len() as u32;
            vertices.push([x, y, heights[k].unwrap_or(f64::NAN)]);
        }
        index[k]
    };
    for j in 0..ny.saturating_sub(1) {
        for i in 0..nx.saturating_sub(1) {
            let k00 = j * nx + i;
            let (k10, k01, k11) = (k00 + 1, k00 + nx, k00 + nx + 1);
            if [k00, k10, k01, k11].iter().all(|&k| heights[k].is_some()) {
                let (a, b, cc, d) = (
                    vertex(k00, &mut vertices),
                    vertex(k10, &mut vertices),
                    vertex(k01, &mut vertices),
                    vertex(k11, &mut vertices),
                );
                // (x, y) → (x, y+c) → (x+c, y+c): normal −Z (up).
                faces.push([a, cc, d]);
                faces.push([a, d, b]);
            }
        }
    }
    Ok(Mesh {
        vertices,
        faces,
        grid: (nx, ny),
        supported_cells,
    })
}
