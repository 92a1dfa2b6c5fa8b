//! Refractive camera model: pinhole cameras in air looking through a flat water surface.
//!
//! Main types: [`Camera`] (intrinsics, extrinsics, optional [`Distortion`], and the
//! [`Interface`] it looks through), [`Ray`] (a refracted ray), [`Projection`] and [`Rig`]
//! (a set of cameras sharing one interface; [`Rig::reference`] builds the reference rig).
//!
//! **Conventions.** World frame: **+X right, +Y forward, +Z down into the water**, metres.
//! Extrinsics are OpenCV style, **world → camera**: `p_cam = R·p_world + t`; camera +Z looks
//! forward, +X right, +Y down the image. Pixel `(u, v)` = (column, row), **pixel centres at
//! integer coordinates**. `K` applies to *undistorted* pixels. The water surface is the plane
//! `Z = water_z`; its normal `[0, 0, -1]` points from water to air. A refracted ray **starts on
//! the water surface**; *ray depth* `d` is the distance along the refracted ray from there.
//!
//! Every type is generic over the scalar: `f64` is the reference, `f32` (via
//! [`Camera::cast`]) the fast path; they agree to 1e-3 px.
//!
//! Design decisions:
//! - [`Camera::project`] solves the 1-D surface-crossing equation in the vertical plane through
//!   the camera centre and the point by safeguarded Newton iteration to convergence (it is
//!   monotonic, so the root is unique); [`Camera::project_from`] warm-starts it from a nearby
//!   solution, which the renderer and the sweep use along image rows.
//! - Invalid results are `None`, never NaN: a ray that never reaches the water, a point above
//!   the surface, a crossing behind the camera.
//! - No I/O here; [`RigFile`] is the serde form of a rig that the `io` crate reads and writes.
//!
//! ```
//! use aquamvs_camera::Rig;
//! let rig = Rig::reference(640, 480).unwrap();
//! let cam = &rig.cameras[0];
//! let ray = cam.cast_ray(320.0, 240.0).unwrap();
//! let p = ray.at(0.25);
//! let back = cam.project(&p).unwrap();
//! assert!((back.pixel.x - 320.0).abs() < 1e-6 && (back.pixel.y - 240.0).abs() < 1e-6);
//! ```

mod camera;
mod distortion;
mod rig;

pub use camera::{Camera, Interface, Projection, Ray};
pub use distortion::{Distortion, LensError, LensModel};
/// `fn lens_distort(model, c0, c1, p)`: the lens models of [`Distortion`] in WGSL, for the
/// shaders of other crates to join before their own source ([`Distortion::shader_form`] gives
/// the arguments). Text only: this crate does not touch the GPU.
pub const LENS_WGSL: &str = include_str!("lens.wgsl");

/// `struct SrcCam`, `crossing(cam, pt)` and `to_pixel(cam, pc)`: refractive projection into a
/// source camera in WGSL (the twin of [`Camera::project`] in `f32`), joined after
/// [`LENS_WGSL`] by the shaders that project. Text only.
pub const REFRACT_WGSL: &str = include_str!("refract.wgsl");

pub use rig::{CameraFile, Rig, RigFile, WORKING_DEPTH, check_camera_name};

/// Errors from building cameras and rigs.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CameraError {
    /// An image dimension is zero or absurdly large.
    #[error("image size {width}x{height} is invalid (each side must be 1..=65536)")]
    ImageSize {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// A parameter is NaN or infinite.
    #[error("{0} is not finite")]
    NonFinite(&'static str),
    /// The refractive indices are not positive, or water is optically thinner than air
    /// (`n_water < n_air`; equal indices are the legitimate "no refraction" case).
    #[error(
        "refractive indices n_air {n_air}, n_water {n_water} are impossible: both must be \
         positive and n_water >= n_air (equal means no refraction)"
    )]
    RefractiveIndex {
        /// Index of air.
        n_air: f64,
        /// Index of water.
        n_water: f64,
    },
    /// A camera is not in the air above the water surface.
    #[error("camera {name:?} is at Z = {z} m, not above the water surface Z = {water_z} m")]
    CameraBelowWater {
        /// Camera name.
        name: String,
        /// Its centre's Z.
        z: f64,
        /// The water surface.
        water_z: f64,
    },
    /// `K` is not an upper-triangular intrinsics matrix with positive focal lengths.
    #[error("camera {0:?}: K must be [[fx, s, cx], [0, fy, cy], [0, 0, 1]] with fx, fy > 0")]
    Intrinsics(String),
    /// A focal length or the principal point is outside the sane range for the image size
    /// (see [`Camera::new`]).
    #[error(
        "camera {name:?}: {what} = {value} px is outside [{min}, {max}] px for a \
         {width}x{height} image"
    )]
    IntrinsicsRange {
        /// Camera name.
        name: String,
        /// `fx`, `fy`, `cx` or `cy`.
        what: &'static str,
        /// Its value, pixels.
        value: f64,
        /// Smallest accepted value.
        min: f64,
        /// Largest accepted value.
        max: f64,
        /// Image width, pixels.
        width: u32,
        /// Image height, pixels.
        height: u32,
    },
    /// The lens distortion folds the image: its radial mapping stops increasing before the
    /// image corners (see [`Distortion::radial_fold`]).
    #[error(
        "camera {name:?}: distortion {lens} folds the image: the distorted radius stops \
         increasing at undistorted radius {fold:.4}, before the image corners (normalised \
         distorted radius {corner:.4})"
    )]
    DistortionFolds {
        /// Camera name.
        name: String,
        /// The lens model and its coefficients, as OpenCV lists them.
        lens: String,
        /// Undistorted normalised radius where the mapping stops increasing.
        fold: f64,
        /// Normalised radius of the farthest image corner.
        corner: f64,
    },
    /// A camera name is not a plain folder name (it names `cameras/<name>/` of a scene folder).
    #[error("camera name {name:?} is not a plain name: {why}")]
    Name {
        /// The name.
        name: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// `R` is not a rotation.
    #[error("camera {0:?}: R is not a rotation matrix (orthonormal, det +1)")]
    Rotation(String),
    /// Two cameras share a name, or the rig has none.
    #[error("invalid rig: {0}")]
    Rig(String),
}
