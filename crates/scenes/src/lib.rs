//! Synthetic underwater scenes with exact ground truth: the surfaces the plane sweep is tested on,
//! their ground-truth ray-depth maps, meshes and surface samples, and rendered images.
//!
//! Main types: [`Scene`] (an analytic height field `z = h(x, y)`: [`Scene::flat`],
//! [`Scene::undulating`] or [`Scene::slope`], a plane at 20° to the water surface that tests
//! slanted support, or [`Scene::board`], a checkerboard [`Board`] on a tilted plane at a
//! [`BoardPose`], for the AquaMVS ground-truth board protocol), [`MeshData`] (its triangle mesh over the evaluation bounds),
//! [`RenderOptions`] and [`render`] (greyscale images of the procedural world [`texture`] seen
//! through a refractive camera), [`SceneFile`] (the serde form written to `scene.json`).
//!
//! **Conventions.** World frame as in `aquamvs_camera`: **+X right, +Y forward, +Z down into
//! the water**, metres. A scene is the surface **`z = h(x, y)`, defined everywhere**: `bounds`
//! (`[x_min, x_max, y_min, y_max]`) is only the evaluation crop and the mesh extent, never a
//! limit of the rendered or ground-truth surface. Depth maps hold **ray depth** (metres along
//! the refracted ray from its water-surface crossing), **row-major `H×W`, NaN where the ray
//! misses**; images are row-major `H×W` grey values in **[0, 1]**, pixel centres at integer
//! coordinates.
//!
//! Design decisions:
//! - Ground truth comes from the analytic surface, never from the mesh. [`Scene::intersect`]
//!   finds the **first** root of `f(t) = z(t) − h(x(t), y(t))` along the ray with steps that
//!   provably cannot pass a root (a bound on `|f''|` gives the largest safe step), which also
//!   converges quadratically to ~1e-10 m at an ordinary crossing; the planes (flat, slope)
//!   are intersected in closed form. A slope is unbounded in Z: its `min_height` and
//!   `max_height` are taken over the evaluation bounds.
//! - The texture is procedural and lives in world `(x, y)`: every view of a point sees the same
//!   grey value, which is what makes rendered images a test of multi-view geometry.
//! - Rendering is anti-aliased by supersampling each pixel on a regular `n×n` grid, `n`
//!   chosen per pixel so sub-samples are ≤ 0.5 mm apart on the surface (capped by
//!   [`RenderOptions::supersample`]). Pixel centres are intersected exactly (and give the
//!   depth map for free: [`render_with_depth`]); other sub-samples use a biquadratic
//!   interpolant of the neighbouring exact hits where it checks out against the pixel's corner
//!   rays, and are cast exactly elsewhere (occlusion edges); [`render_exact`] casts every
//!   sub-sample and is the tested reference.
//! - No file I/O here (`aquamvs_io` reads and writes scene folders); no GPU.
//!
//! ```
//! use aquamvs_camera::Rig;
//! use aquamvs_scenes::{Scene, RenderOptions, render};
//! let rig = Rig::reference(64, 48).unwrap();
//! let scene = Scene::undulating();
//! let cam = &rig.cameras[12];
//! let depth = scene.depth_map(cam);
//! let image = render(&scene, cam, &RenderOptions::default());
//! assert_eq!(depth.len(), 64 * 48);
//! assert!(image.iter().all(|v| (0.0..=1.0).contains(v)));
//! // The centre pixel's ray depth: water at 0.978 m, surface near 1.178 m.
//! let d = depth[24 * 64 + 32] as f64;
//! assert!((d - 0.2).abs() < 0.011);
//! ```

mod board;
mod estimate;
mod mesh;
pub mod placement;
mod render;
mod scene;
mod scene_file;
mod texture;

pub use board::{BOARD_DARK, BOARD_LIGHT, Board, BoardPlacement, BoardPose};
pub use estimate::{check_render_memory, render_memory_bytes};
pub use mesh::{MESH_DEVIATION_WARNING, MeshData};
pub use render::{MAX_SUBSAMPLE_SPACING, RenderOptions, render, render_exact, render_with_depth};
pub use scene::{Scene, SceneKind};
pub use scene_file::SceneFile;
pub use texture::{TEXTURE_DESCRIPTION, texture};

/// Errors from building scenes and meshes.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SceneError {
    /// No scene placement fits the rig (see [`placement`]).
    #[error("{0}")]
    Placement(String),
    /// A parameter is NaN or infinite.
    #[error("{0} is not finite")]
    NonFinite(&'static str),
    /// The bounds are not `[x_min, x_max, y_min, y_max]` with `min < max`.
    #[error(
        "bounds {0:?} must be [x_min, x_max, y_min, y_max] with x_min < x_max and y_min < y_max"
    )]
    Bounds([f64; 4]),
    /// A parameter is out of its range.
    #[error("{name} = {value} is invalid: {why}")]
    Parameter {
        /// Which parameter.
        name: &'static str,
        /// Its value.
        value: f64,
        /// What it must be.
        why: &'static str,
    },
    /// The mesh would have too many vertices.
    #[error("a mesh at spacing {spacing} m would have {vertices} vertices (at most {max})")]
    MeshTooLarge {
        /// Requested spacing, metres.
        spacing: f64,
        /// Vertices it would take.
        vertices: u64,
        /// The limit.
        max: u64,
    },
    /// The mesh spacing is too coarse for the surface (see [`Scene::max_mesh_spacing`]).
    #[error(
        "mesh spacing {spacing} m is too coarse for this {kind} surface: at most {max} m \
         ({why})"
    )]
    MeshTooCoarse {
        /// Requested spacing, metres.
        spacing: f64,
        /// The largest accepted spacing, metres.
        max: f64,
        /// The scene kind.
        kind: SceneKind,
        /// Why that is the limit.
        why: &'static str,
    },
    /// Rendering would need more memory than is available (see [`render_memory_bytes`]).
    #[error(
        "{cameras} cameras at {width}x{height} need about {:.1} GB of memory, more than the \
         {:.1} GB available: use a smaller image size",
        *need as f64 / 1e9,
        *available as f64 / 1e9
    )]
    Memory {
        /// Cameras rendered.
        cameras: usize,
        /// Image width, pixels.
        width: u32,
        /// Image height, pixels.
        height: u32,
        /// Estimated peak, bytes.
        need: u64,
        /// Available, bytes.
        available: u64,
    },
    /// The water surface is not between the cameras and the scene.
    #[error(
        "the water surface (Z = {water_z} m) must lie between the cameras and the scene \
         (cameras up to Z = {camera_z} m, scene from Z = {scene_top} m)"
    )]
    WaterNotBetween {
        /// Water surface Z.
        water_z: f64,
        /// Largest camera-centre Z.
        camera_z: f64,
        /// Smallest surface Z.
        scene_top: f64,
    },
    /// A `scene.json` is inconsistent.
    #[error("scene file: {0}")]
    File(String),
}
