//! `cargo xtask export-aquamvs`: a scene folder as an AquaMVS project (calibration.json,
//! images/, config.yaml, ground_truth/), see `aquamvs_io::aquamvs_project`.

use std::path::PathBuf;

use aquamvs_io::aquamvs_project::write_project;
use aquamvs_io::check_writable_dir;
use aquamvs_io::scene_dir::{mesh_path, read_scene_dir, read_scene_file};
use aquamvs_scenes::MeshData;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scene folder written by `cargo xtask scene`.
    #[arg(long)]
    scene: PathBuf,
    /// Project folder (made if missing; other files in it are left alone).
    #[arg(long)]
    out: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    check_writable_dir(&args.out)?;
    let sd = read_scene_dir(&args.scene)?;
    let scene_file = read_scene_file(&args.scene)?;
    let mesh = aquamvs_io::ply::read(&mesh_path(&args.scene))?;
    let mesh = MeshData {
        vertices: mesh.vertices,
        faces: mesh.faces,
    };
    write_project(&sd, &scene_file, &mesh, &args.out)?;
    let out = args.out.display();
    println!(
        "wrote AquaMVS project {out}: {} cameras (calibration.json, config.yaml, images/, \
         ground_truth/). Run AquaMVS from that folder; score its cloud with `cargo xtask \
         evaluate --mesh {out}/ground_truth/mesh.ply --points CLOUD.ply`",
        sd.rig.cameras.len()
    );
    Ok(())
}
