//! `cargo xtask board`: the AquaMVS ground-truth board validation (issue 15) on exact ground
//! truth, for one depth method.
//!
//! For each pose (`aquamvs_board::protocol_poses`: 8 by default over what the rig sees) the
//! 12×9, 60 mm board scene is rendered through every camera; the depth method runs for each
//! reference camera (every non-auxiliary camera, or the first `--references`) exactly as
//! `cargo xtask sweep` runs it (`Pipeline::depth_map`, the camera's default sources, the
//! scene's depth extent ± `--margin` as the ray-depth range); the corners found in each
//! reference image are transferred through that camera's depth map; `aquamvs_board` computes
//! the paper's metrics. Writes `OUT/board.json` (`aquamvs_results::BoardReport`) and per pose
//! `OUT/poses/<k>/scene/` (a scene folder, as `cargo xtask scene` writes it),
//! `OUT/poses/<k>/depth/<camera>.npy` (ray depth, NaN invalid) and `OUT/poses/<k>/corners.json`
//! (`{"exact": [[id, x, y, z], …], "detected": {"<camera>": [[id, u, v], …]}}`).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use aquamvs_board::{Board, ProtocolSettings, RunSettings, run::DepthError};
use aquamvs_camera::Rig;
use aquamvs_io::scene_dir::{SceneDir, write_scene_dir_with};
use aquamvs_pipeline::{DepthMethod, DepthOptions, Pipeline};
use aquamvs_results::BoardReport;
use aquamvs_scenes::RenderOptions;

use crate::flags::{self, BackendFlag, MethodFlags, SweepFlags};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Output folder (created if missing; its `board.json` and `poses/` are replaced).
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub method: MethodFlags,
    #[command(flatten)]
    pub sweep: SweepFlags,
    /// Number of board poses (1..=64; 8 is the paper's protocol).
    #[arg(long, default_value_t = 8)]
    pub poses: usize,
    /// An AquaCal `calibration.json`: run on its cameras instead of the reference rig.
    #[arg(long, conflicts_with_all = ["width", "height"])]
    pub rig: Option<PathBuf>,
    /// Image width of the reference rig, pixels.
    #[arg(long, default_value_t = 640)]
    pub width: u32,
    /// Image height of the reference rig, pixels.
    #[arg(long, default_value_t = 480)]
    pub height: u32,
    /// Reference cameras: the first N non-auxiliary cameras (default: all of them).
    #[arg(long)]
    pub references: Option<usize>,
    /// Number of source cameras per reference (nearest first, as `cargo xtask sweep`).
    #[arg(long, default_value_t = 4)]
    pub sources: usize,
    /// Margin (metres of world Z) around the board's depth extent for the ray-depth range.
    #[arg(long, default_value_t = 0.02)]
    pub margin: f64,
    /// Anti-aliasing cap of the rendered images (1..=8 sub-samples per pixel side).
    #[arg(long, default_value_t = RenderOptions::default().supersample)]
    pub supersample: u32,
    /// Where the depth method runs: `gpu` (wgpu) or `cpu` (the f64 reference).
    #[arg(long, value_enum, default_value_t = BackendFlag::Gpu)]
    pub backend: BackendFlag,
}

/// `cargo xtask bench`'s board run (with `--poses`, and `--width`/`--height` of half the
/// bench's images, at least 160×120: 320×240 by default): 32 depths, the first 4 ring cameras
/// as references. Measured at 8 poses, 320×240 on 2 llvmpipe cores shared with another job
/// (load ≈ 3.9): 44 s (58 s with 6 references; the default 640×480 run with 64 depths and 12
/// references: 722 s).
pub const BENCH_FLAGS: [&str; 4] = ["--depths", "32", "--references", "4"];

/// `Args` from command-line words (after `board`).
pub fn parse(words: &[&str]) -> anyhow::Result<Args> {
    #[derive(Debug, clap::Parser)]
    struct Cmd {
        #[command(flatten)]
        args: Args,
    }
    let words = std::iter::once("board").chain(words.iter().copied());
    Ok(<Cmd as clap::Parser>::try_parse_from(words)?.args)
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let report = execute(&args, true)?;
    println!("{}", aquamvs_report::summary::board(&report));
    Ok(())
}

/// Runs the validation and writes `args.out`; returns the report (`bench` uses it too).
pub fn execute(args: &Args, verbose: bool) -> anyhow::Result<BoardReport> {
    let start = Instant::now();
    // Every flag before any work.
    let sweep = args.sweep.settings()?;
    let method = args.method.depth_method()?;
    if !(1..=64).contains(&args.poses) {
        bail!("--poses {} is out of range (1..=64)", args.poses);
    }
    if args.sources == 0 {
        bail!("--sources must be at least 1");
    }
    if !(args.margin.is_finite() && args.margin >= 0.0) {
        bail!("--margin {} must be a finite number >= 0", args.margin);
    }
    if !(1..=8).contains(&args.supersample) {
        bail!("--supersample {} is out of range (1..=8)", args.supersample);
    }
    if args.references == Some(0) {
        bail!("--references must be at least 1");
    }
    aquamvs_io::check_writable_dir(&args.out)?;

    let rig = match &args.rig {
        Some(path) => aquamvs_io::aquacal::read_calibration(path)
            .with_context(|| format!("--rig {}", path.display()))?,
        None => Rig::reference(args.width, args.height).context("--width/--height")?,
    };
    let mut references: Vec<usize> = (0..rig.cameras.len())
        .filter(|&i| !rig.cameras[i].auxiliary)
        .collect();
    if let Some(n) = args.references {
        if n > references.len() {
            bail!(
                "--references {n} but the rig has only {} non-auxiliary cameras",
                references.len()
            );
        }
        references.truncate(n);
    }
    if args.sources >= rig.cameras.len() {
        bail!(
            "--sources {} but the rig has only {} other cameras",
            args.sources,
            rig.cameras.len() - 1
        );
    }
    let poses = aquamvs_board::protocol_poses(&rig, args.poses)?;
    let settings = RunSettings {
        board: Board::default(),
        poses,
        render: RenderOptions {
            supersample: args.supersample,
            ..RenderOptions::default()
        },
        protocol: ProtocolSettings::default(),
        references: references.clone(),
    };
    let ctx = args.backend.context()?;
    let engine = args.sweep.engine(ctx.as_ref());
    let opts = DepthOptions {
        sweep,
        sources: args.sources,
        method,
        engine,
    };
    let pipeline = Pipeline::new(flags::backend(ctx.as_ref())).context("building the pipelines")?;
    let depth = |scene: &aquamvs_scenes::Scene,
                 images: &[Vec<f32>],
                 i: usize|
     -> Result<Vec<f32>, DepthError> {
        let cam = &rig.cameras[i];
        let range = aquamvs_sweep::depth_range_from_z(
            cam,
            scene.min_height(),
            scene.max_height(),
            args.margin,
        )?;
        Ok(pipeline.depth_map(&rig, images, i, range, &opts)?.depth)
    };
    let progress = |k: usize, p: &aquamvs_board::PoseRun| {
        if verbose {
            eprintln!(
                "pose {k}: {} corners transferred, {} dropouts (render {:.1} s, depth {:.1} s)",
                p.transfer.observations.len(),
                p.transfer.dropouts,
                p.render_s,
                p.depth_s
            );
        }
    };
    let out = aquamvs_board::run_board(&rig, &settings, depth, progress)?;

    let method_name = match method {
        DepthMethod::Sweep => "sweep",
        DepthMethod::PatchMatch(_) => "patchmatch",
    };
    let words = match method {
        DepthMethod::Sweep => format!(
            "plane sweep: {} depths, window {}, {} sources",
            sweep.depths, sweep.window, args.sources
        ),
        DepthMethod::PatchMatch(s) => format!("PatchMatch: {s}; {} sources", args.sources),
    };
    let rig_words = match &args.rig {
        Some(p) => format!("rig {}", p.display()),
        None => "reference rig".to_string(),
    };
    let (w, h) = (rig.cameras[0].width, rig.cameras[0].height);
    let settings_words = format!(
        "{words}; range: the board's depth extent ± {} m; {rig_words}, {w}x{h}, supersample {}; \
         backend {}, sweep engine {:?}",
        args.margin,
        args.supersample,
        pipeline.backend_name(),
        engine
    );
    let mut files = write_outputs(&args.out, &rig, &out, &references, args.supersample)?;
    let report = out.report(
        method_name,
        &settings_words,
        (w, h),
        references.len(),
        start.elapsed().as_secs_f64(),
    );
    files.add("board.json", report.to_json());
    files.commit()?;
    Ok(report)
}

/// Writes every pose's scene folder (each all or nothing) and returns the depth maps and
/// corner lists as one output set, to be committed with `board.json`.
fn write_outputs(
    out: &Path,
    rig: &Rig,
    run: &aquamvs_board::RunOutput,
    references: &[usize],
    supersample: u32,
) -> anyhow::Result<aquamvs_io::OutputSet> {
    let mut files = aquamvs_io::OutputSet::new(out);
    for (k, pose) in run.poses.iter().enumerate() {
        let dir = out.join("poses").join(k.to_string());
        let mesh = pose.scene.mesh(0.01).context("the board's mesh")?;
        let mut file = pose.scene.to_file();
        file.mesh_spacing = Some(0.01);
        file.seed = Some(0);
        file.noise_sigma = Some(0.0);
        file.supersample = Some(supersample);
        let sd = SceneDir {
            rig: rig.clone(),
            scene: pose.scene,
            images: pose.images.clone(),
            depths: pose.truth.clone(),
        };
        write_scene_dir_with(&dir.join("scene"), &sd, &file, &mesh, true)?;
        for &i in references {
            let cam = &rig.cameras[i];
            let (h, w) = (cam.height as usize, cam.width as usize);
            let npy = aquamvs_io::npy::encode_f32(h, w, &pose.depths[i]);
            files.add(format!("poses/{k}/depth/{}.npy", cam.name), npy);
        }
        let corners = pose.transfer.corners_file(&rig.cameras, references);
        let text = serde_json::to_string_pretty(&corners)? + "\n";
        files.add(format!("poses/{k}/corners.json"), text);
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bench_flags_parse_on_either_backend() {
        for b in [BackendFlag::Gpu, BackendFlag::Cpu] {
            let backend = format!("{b:?}").to_lowercase();
            let words = [
                &["--out", "x", "--backend", backend.as_str()][..],
                &BENCH_FLAGS,
            ]
            .concat();
            let a = parse(&words).unwrap();
            assert_eq!((a.backend, a.references, a.sweep.depths), (b, Some(4), 32));
        }
        assert!(parse(&["--out", "x", "--method", "bogus"]).is_err());
    }
}
