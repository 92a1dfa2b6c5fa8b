//! Triangle meshes of a scene and uniform surface samples.

use parry3d::math::Point;
use parry3d::shape::TriMesh;
use rand::{Rng, SeedableRng, rngs::StdRng};

use std::f64::consts::PI;

use crate::scene::Y_WAVELENGTH_RATIO;
use crate::{Scene, SceneError, SceneKind};

/// Most vertices a mesh may have.
pub const MAX_MESH_VERTICES: u64 = 50_000_000;

/// How far (metres) a ground-truth mesh may depart from its surface before
/// [`Scene::mesh_warning`] warns: 1 mm, the smallest default evaluation tolerance.
pub const MESH_DEVIATION_WARNING: f64 = 1e-3;

/// A triangle mesh: vertex positions (metres, f64) and triangles as vertex indices,
/// **wound counter-clockwise seen from the cameras** (normals toward −Z, up to the water).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MeshData {
    /// Vertex positions.
    pub vertices: Vec<[f64; 3]>,
    /// Triangles.
    pub faces: Vec<[u32; 3]>,
}

impl MeshData {
    /// The mesh as a parry3d `TriMesh` (parry's `f32` scalar) for ray casts and distance
    /// queries; `None` if it has no triangles.
    pub fn to_parry(&self) -> Option<TriMesh> {
        let vertices = self
            .vertices
            .iter()
            .map(|v| Point::new(v[0] as f32, v[1] as f32, v[2] as f32))
            .collect();
        TriMesh::new(vertices, self.faces.clone()).ok()
    }

    /// Total triangle area, m².
    pub fn area(&self) -> f64 {
        self.faces
            .iter()
            .map(|f| {
                let [a, b, c] = f.map(|i| nalgebra::Vector3::from(self.vertices[i as usize]));
                0.5 * (b - a).cross(&(c - a)).norm()
            })
            .sum()
    }
}

impl Scene {
    /// A regular-grid triangle mesh over [`Scene::bounds`] with vertices exactly on the
    /// surface; the grid spacing is the largest one ≤ `spacing` that divides each side.
    /// Refused: a spacing that is not finite and positive, coarser than
    /// [`Scene::max_mesh_spacing`], or giving more than 50 million vertices.
    pub fn mesh(&self, spacing: f64) -> Result<MeshData, SceneError> {
        self.mesh_in(self.bounds, spacing)
    }

    /// The coarsest mesh spacing [`Scene::mesh`] accepts, metres: for a flat or slope scene the
    /// larger side of the bounds (a plane is meshed exactly at any spacing); for an undulating one
    /// **half the wavelength** (λ/2, two vertices per wave: any coarser and the mesh no longer
    /// shows the waves). Between that and λ/8 the mesh is a poor ground truth, which
    /// [`Scene::mesh_warning`] says.
    pub fn max_mesh_spacing(&self) -> f64 {
        self.max_spacing_in(self.bounds)
    }

    fn max_spacing_in(&self, bounds: [f64; 4]) -> f64 {
        match self.kind {
            SceneKind::Flat | SceneKind::Slope | SceneKind::Board => {
                (bounds[1] - bounds[0]).max(bounds[3] - bounds[2])
            }
            SceneKind::Undulating => 0.5 * self.wavelength,
        }
    }

    /// About how far (metres) a mesh at `spacing` departs from the surface: for each sine,
    /// the chord error `A·(1 − cos(π·h/λ))` of a grid straddling a crest, summed over x and y
    /// (0 for a flat or slope scene: planes are meshed exactly).
    pub fn mesh_deviation(&self, spacing: f64) -> f64 {
        match self.kind {
            SceneKind::Flat | SceneKind::Slope | SceneKind::Board => 0.0,
            SceneKind::Undulating => [1.0, Y_WAVELENGTH_RATIO]
                .iter()
                .map(|r| {
                    let phase = (PI * spacing / (r * self.wavelength)).min(PI);
                    self.amplitude * (1.0 - phase.cos())
                })
                .sum(),
        }
    }

    /// A warning when a mesh at `spacing` departs from the surface by more than
    /// [`MESH_DEVIATION_WARNING`] (see [`Scene::mesh_deviation`]), naming a spacing that
    /// does not; `None` otherwise.
    pub fn mesh_warning(&self, spacing: f64) -> Option<String> {
        let dev = self.mesh_deviation(spacing);
        (dev > MESH_DEVIATION_WARNING).then(|| {
            format!(
                "a ground-truth mesh at spacing {spacing} m departs from the {} surface by up \
                 to {:.1} mm (errors measured against it are off by as much); use a spacing of \
                 at most {} m",
                self.kind,
                dev * 1e3,
                self.wavelength / 8.0
            )
        })
    }

    /// `(vertices, triangles)` of [`Scene::mesh`] at `spacing`, with the same checks,
    /// without building it.
    pub fn mesh_size(&self, spacing: f64) -> Result<(u64, u64), SceneError> {
        let (nx, ny) = self.grid_in(self.bounds, spacing)?;
        Ok(((nx + 1) * (ny + 1), 2 * nx * ny))
    }

    /// Grid cells `(nx, ny)` of a mesh over `bounds` at `spacing`, after every check.
    fn grid_in(&self, bounds: [f64; 4], spacing: f64) -> Result<(u64, u64), SceneError> {
        if !spacing.is_finite() {
            return Err(SceneError::NonFinite("mesh spacing"));
        }
        if !(spacing > 0.0) {
            return Err(SceneError::Parameter {
                name: "mesh spacing",
                value: spacing,
                why: "must be > 0",
            });
        }
        if bounds.iter().any(|b| !b.is_finite()) {
            return Err(SceneError::NonFinite("bounds"));
        }
        if !(bounds[0] < bounds[1] && bounds[2] < bounds[3]) {
            return Err(SceneError::Bounds(bounds));
        }
        let max = self.max_spacing_in(bounds);
        if spacing > max {
            return Err(SceneError::MeshTooCoarse {
                spacing,
                max,
                kind: self.kind,
                why: match self.kind {
                    SceneKind::Flat | SceneKind::Slope | SceneKind::Board => {
                        "the larger side of the bounds"
                    }
                    SceneKind::Undulating => "half the wavelength",
                },
            });
        }
        let cells = |lo: f64, hi: f64| ((hi - lo) / spacing * (1.0 - 1e-12)).ceil().max(1.0);
        let (cx, cy) = (cells(bounds[0], bounds[1]), cells(bounds[2], bounds[3]));
        let vertices_f = (cx + 1.0) * (cy + 1.0);
        if !(vertices_f <= MAX_MESH_VERTICES as f64) {
            return Err(SceneError::MeshTooLarge {
                spacing,
                vertices: vertices_f.min(u64::MAX as f64) as u64,
                max: MAX_MESH_VERTICES,
            });
        }
        Ok((cx as u64, cy as u64))
    }

    /// [`Scene::mesh`] over other bounds `[x_min, x_max, y_min, y_max]` (the surface is
    /// defined everywhere; for a flat or slope scene the spacing limit is the larger side of these
    /// bounds).
    pub fn mesh_in(&self, bounds: [f64; 4], spacing: f64) -> Result<MeshData, SceneError> {
        let (nx, ny) = self.grid_in(bounds, spacing)?;
        let (nx, ny) = (nx as usize, ny as usize);
        let mut vertices = Vec::with_capacity((nx + 1) * (ny + 1));
        for j in 0..=ny {
            let y = lerp(bounds[2], bounds[3], j, ny);
            for i in 0..=nx {
                let x = lerp(bounds[0], bounds[1], i, nx);
                vertices.push([x, y, self.height(x, y)]);
            }
        }
        let idx = |i: usize, j: usize| (j * (nx + 1) + i) as u32;
        let mut faces = Vec::with_capacity(2 * nx * ny);
        for j in 0..ny {
            for i in 0..nx {
                let (v00, v10, v01, v11) =
                    (idx(i, j), idx(i + 1, j), idx(i, j + 1), idx(i + 1, j + 1));
                faces.push([v00, v11, v10]);
                faces.push([v00, v01, v11]);
            }
        }
        Ok(MeshData { vertices, faces })
    }

    /// `n` points distributed **uniformly by surface area** over the bounds (rejection
    /// sampling on the area element `√(1 + ‖∇h‖²)`), reproducible from `seed`.
    pub fn sample_surface(&self, n: usize, seed: u64) -> Vec<[f64; 3]> {
        let mut rng = StdRng::seed_from_u64(seed);
        let b = self.bounds;
        let max_element = (1.0 + self.max_slope().powi(2)).sqrt();
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let x = b[0] + (b[1] - b[0]) * rng.random::<f64>();
            let y = b[2] + (b[3] - b[2]) * rng.random::<f64>();
            let (h, hx, hy) = self.height_gradient(x, y);
            let element = (1.0 + hx * hx + hy * hy).sqrt();
            if rng.random::<f64>() * max_element <= element {
                out.push([x, y, h]);
            }
        }
        out
    }
}

/// `lo + (hi − lo)·i/n`, exact at both ends.
fn lerp(lo: f64, hi: f64, i: usize, n: usize) -> f64 {
    if i == n {
        hi
    } else {
        lo + (hi - lo) * (i as f64 / n as f64)
    }
}
