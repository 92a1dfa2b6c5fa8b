//! `cargo xtask scene`: render a synthetic scene through the 13 reference-rig cameras, or the
//! cameras of an AquaCal calibration (`--rig`), and write the scene folder (rig.json,
//! calibration.json, scene.json, mesh.ply, cameras/<name>/{image.png,depth.npy}).
//!
//! Every argument is checked before anything is rendered or written; the folder itself is
//! written all or nothing (`aquamvs_io::scene_dir`).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use aquamvs_camera::{Distortion, Rig};
use aquamvs_io::scene_dir::{SceneDir, check_output_dir, write_scene_dir_with};
use aquamvs_scenes::placement::working_area;
use aquamvs_scenes::{RenderOptions, Scene, SceneKind, check_render_memory, render_with_depth};

/// Largest accepted image side, pixels.
const MAX_SIDE: u32 = 16384;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Surface: `flat` (z = Z), `undulating` (Z + 5 mm·(sin 2π(x−cx)/5cm + sin 2π(y−cy)/6.5cm))
    /// or `slope` (Z + tan 20°·(x−cx): a plane at 20° to the water surface).
    #[arg(long)]
    kind: String,
    /// Image width, pixels (1..=16384); the reference rig only (a calibration has its own).
    #[arg(long, allow_negative_numbers = true, required_unless_present = "rig")]
    width: Option<u32>,
    /// Image height, pixels (1..=16384); the reference rig only.
    #[arg(long, allow_negative_numbers = true, required_unless_present = "rig")]
    height: Option<u32>,
    /// An AquaCal `calibration.json`: render for its cameras (lens models, names, auxiliary
    /// flags) instead of the reference rig.
    #[arg(long, conflicts_with_all = ["width", "height", "distortion"])]
    rig: Option<PathBuf>,
    /// Mean surface Z, metres (default: 1.178 on the reference rig; water_z + 0.2 m with --rig).
    #[arg(long, allow_negative_numbers = true)]
    z: Option<f64>,
    /// Centre `X,Y` of the surface formula and of the bounds, metres (default: the origin on
    /// the reference rig; where the cameras' views overlap most with --rig).
    #[arg(long, allow_hyphen_values = true)]
    center: Option<String>,
    /// Evaluation bounds `x0,x1,y0,y1`, metres (default: the reference patch; with --rig the
    /// largest rectangle about the centre that 3 cameras see everywhere).
    #[arg(long, allow_hyphen_values = true)]
    bounds: Option<String>,
    /// Output folder (must not exist or be empty, unless --force).
    #[arg(long)]
    out: PathBuf,
    /// Seed of the sensor noise (camera i uses seed + i).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Replace an existing scene folder (only a scene folder: anything else is refused).
    #[arg(long)]
    force: bool,
    /// Standard deviation of Gaussian sensor noise, grey levels in [0, 1] (0 = none).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    noise: f64,
    /// Lens distortion of the recorded images, `k1,k2,p1,p2,k3` (OpenCV Brown–Conrady).
    #[arg(long, allow_hyphen_values = true)]
    distortion: Option<String>,
    /// Ground-truth mesh spacing, metres (at most λ/2 for the undulating surface, warned
    /// above λ/8).
    #[arg(long, default_value_t = 0.005, allow_negative_numbers = true)]
    mesh_spacing: f64,
    /// Anti-aliasing cap: at most this many sub-samples per pixel side (1..=8); fewer where a
    /// pixel covers little of the surface.
    #[arg(long, default_value_t = RenderOptions::default().supersample, allow_negative_numbers = true)]
    supersample: u32,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let start = Instant::now();
    let kind: SceneKind = match args.kind.as_str() {
        "flat" => SceneKind::Flat,
        "undulating" => SceneKind::Undulating,
        "slope" => SceneKind::Slope,
        other => {
            bail!("unknown scene kind {other:?} (expected \"flat\", \"undulating\" or \"slope\")")
        }
    };
    for (name, v) in [("width", args.width), ("height", args.height)] {
        if let Some(v) = v.filter(|&v| v == 0 || v > MAX_SIDE) {
            bail!("--{name} {v} is out of range (1..={MAX_SIDE})");
        }
    }
    if !args.noise.is_finite() || !(0.0..=1.0).contains(&args.noise) {
        bail!("--noise {} must be a finite number in [0, 1]", args.noise);
    }
    if !(1..=8).contains(&args.supersample) {
        bail!("--supersample {} is out of range (1..=8)", args.supersample);
    }
    if !args.mesh_spacing.is_finite() || !(args.mesh_spacing > 0.0) {
        bail!(
            "--mesh-spacing {} must be a finite positive number of metres",
            args.mesh_spacing
        );
    }
    let distortion = args
        .distortion
        .as_deref()
        .map(parse_distortion)
        .transpose()?
        .flatten();
    let center = args
        .center
        .as_deref()
        .map(|s| numbers::<2>("--center", s))
        .transpose()?;
    let bounds = args
        .bounds
        .as_deref()
        .map(|s| numbers::<4>("--bounds", s))
        .transpose()?;
    if let Some(z) = args.z.filter(|z| !z.is_finite()) {
        bail!("--z {z} must be a finite number of metres");
    }
    check_output_dir(&args.out, args.force)?;

    let rig = match &args.rig {
        Some(path) => aquamvs_io::aquacal::read_calibration(path)?,
        None => {
            let (w, h) = (args.width.unwrap_or(0), args.height.unwrap_or(0));
            let rig = Rig::reference(w, h)?;
            let cameras = rig
                .cameras
                .iter()
                .map(|c| c.with_distortion(distortion))
                .collect::<Result<Vec<_>, _>>()
                .context("--distortion")?;
            Rig::new(rig.interface, cameras)?
        }
    };
    let base = match kind {
        SceneKind::Flat => Scene::flat(),
        SceneKind::Undulating => Scene::undulating(),
        SceneKind::Slope => Scene::slope(),
        SceneKind::Board => bail!("board scenes are rendered by `cargo xtask board`"),
    };
    let z = args.z.unwrap_or(match args.rig {
        Some(_) => rig.interface.water_z + aquamvs_camera::WORKING_DEPTH,
        None => base.base_z,
    });
    let (center, bounds) = match (args.rig.is_some(), center, bounds) {
        (_, c, Some(b)) => (c.unwrap_or([0.5 * (b[0] + b[1]), 0.5 * (b[2] + b[3])]), b),
        (false, c, None) => (c.unwrap_or([0.0, 0.0]), base.bounds),
        (true, c, None) => {
            let area = working_area(&rig, z, c).context("placing the scene for the rig")?;
            // A slope keeps within half the working depth of Z (below the water).
            let half = 0.5 * (z - rig.interface.water_z);
            let bounds = base
                .with_center(area.center)?
                .fit_bounds(&rig, &area, half)
                .context("placing the scene for the rig")?;
            println!(
                "scene placed at ({}, {}), bounds {:?} m: {} cameras see the centre, at least {} \
                 every point of the bounds",
                area.center[0], area.center[1], bounds, area.views_at_center, area.min_views
            );
            (area.center, bounds)
        }
    };
    let scene = match kind {
        SceneKind::Slope => Scene::new_slope(z, base.slope_deg, bounds),
        _ => Scene::new(kind, z, base.amplitude, base.wavelength, bounds),
    }
    .and_then(|s| s.with_center(center))
    .context("--z/--center/--bounds")?;
    scene.check_rig(&rig)?;
    let mesh_size = scene
        .mesh_size(args.mesh_spacing)
        .context("--mesh-spacing")?;
    let (have, source) = aquamvs_io::memory_available();
    let w = rig.cameras.iter().map(|c| c.width).max().unwrap_or(0);
    let h = rig.cameras.iter().map(|c| c.height).max().unwrap_or(0);
    check_render_memory(w, h, rig.cameras.len(), mesh_size, have)
        .map_err(|e| anyhow::anyhow!("{e} (memory available from {source})"))?;
    if let Some(w) = scene.mesh_warning(args.mesh_spacing) {
        eprintln!("warning: --mesh-spacing: {w}");
    }
    let mesh = scene.mesh(args.mesh_spacing).context("--mesh-spacing")?;

    let mut images = Vec::with_capacity(rig.cameras.len());
    let mut depths = Vec::with_capacity(rig.cameras.len());
    for (i, cam) in rig.cameras.iter().enumerate() {
        let opts = RenderOptions {
            supersample: args.supersample,
            noise_sigma: args.noise,
            seed: args.seed.wrapping_add(i as u64),
            // The cameras carry the distortion (it goes into rig.json too).
            distortion: None,
        };
        let (image, depth) = render_with_depth(&scene, cam, &opts);
        images.push(image);
        depths.push(depth);
    }
    let mut file = scene.to_file();
    file.mesh_spacing = Some(args.mesh_spacing);
    file.seed = Some(args.seed);
    file.noise_sigma = Some(args.noise);
    file.supersample = Some(args.supersample);
    let n_cams = rig.cameras.len();
    let sd = SceneDir {
        rig,
        scene,
        images,
        depths,
    };
    write_scene_dir_with(&args.out, &sd, &file, &mesh, args.force)?;
    println!(
        "wrote {kind} scene to {}: {n_cams} cameras at {w}x{h}, mesh {} vertices / {} triangles, in {:.1} s",
        args.out.display(),
        mesh.vertices.len(),
        mesh.faces.len(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `N` comma-separated finite numbers.
fn numbers<const N: usize>(flag: &str, s: &str) -> anyhow::Result<[f64; N]> {
    let v: Vec<f64> = s
        .split(',')
        .map(|x| x.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| anyhow::anyhow!("{flag} {s:?} must be {N} comma-separated numbers"))?;
    let v: [f64; N] = v.try_into().map_err(|v: Vec<f64>| {
        anyhow::anyhow!("{flag} {s:?} must be {N} numbers, got {}", v.len())
    })?;
    if v.iter().any(|x| !x.is_finite()) {
        bail!("{flag} {s:?} has a non-finite number");
    }
    Ok(v)
}

/// `k1,k2,p1,p2,k3` → [`Distortion`], or `none` → no distortion (shared with `profile`).
pub(crate) fn parse_distortion(s: &str) -> anyhow::Result<Option<Distortion>> {
    if s.trim().eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    let v: Vec<f64> = s
        .split(',')
        .map(|x| x.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| anyhow::anyhow!("--distortion {s:?} must be five numbers k1,k2,p1,p2,k3"))?;
    if v.len() != 5 {
        bail!(
            "--distortion {s:?} must be five numbers k1,k2,p1,p2,k3 (got {})",
            v.len()
        );
    }
    if v.iter().any(|x| !x.is_finite()) {
        bail!("--distortion {s:?} has a non-finite coefficient");
    }
    Ok(Some(Distortion {
        k1: v[0],
        k2: v[1],
        p1: v[2],
        p2: v[3],
        k3: v[4],
        ..Distortion::NONE
    }))
}
