//! `cargo xtask`: the workspace's runner. One `match` over the subcommands; each lives in its
//! own file and only chains library calls (the libraries do the work, xtask does the I/O and
//! the printing).

use clap::{Parser, Subcommand};

mod bench;
mod compare;
mod evaluate;
mod flags;
mod machine;
mod profile;
mod reconstruct;
mod scene;
mod sweep;
mod update_docs;

#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    about = "AquaMVS-rs benchmarks, profiling and tools"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Render a synthetic scene (rig, mesh, images, ground-truth depth maps) into a folder.
    Scene(scene::Args),
    /// Run the refractive plane sweep for one reference camera of a scene folder.
    Sweep(sweep::Args),
    /// Evaluate a point cloud against a ground-truth mesh.
    Evaluate(evaluate::Args),
    /// Run the whole pipeline (five stages) on a scene folder.
    Reconstruct(reconstruct::Args),
    /// Profile the five pipeline stages and the depth batching.
    Profile(profile::Args),
    /// Benchmark accuracy and speed on the built-in synthetic scenes.
    Bench(bench::Args),
    /// Write `.benchmarks/*.json` results into the docs and the verification file.
    UpdateDocs(update_docs::Args),
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scene(args) => scene::run(args),
        Command::Sweep(args) => sweep::run(args),
        Command::Evaluate(args) => evaluate::run(args),
        Command::Reconstruct(args) => reconstruct::run(args),
        Command::Profile(args) => profile::run(args),
        Command::Bench(args) => bench::run(args),
        Command::UpdateDocs(args) => update_docs::run(args),
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
