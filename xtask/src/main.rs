//! `cargo xtask`: the workspace's runner. One `match` over the subcommands; each lives in its
//! own file and only chains library calls (the libraries do the work, xtask does the I/O and
//! the printing).

use clap::{Parser, Subcommand};

mod bench;
mod board;
mod compare;
mod evaluate;
mod export;
mod flags;
mod machine;
mod methods;
mod peer;
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
    /// Run the whole pipeline (five stages) on a scene folder or a real image folder.
    Reconstruct(reconstruct::Args),
    /// Write a scene folder as an AquaMVS project (calibration, images, config, ground truth).
    #[command(name = "export-aquamvs")]
    ExportAquamvs(export::Args),
    /// Profile the five pipeline stages and the depth batching.
    Profile(profile::Args),
    /// The AquaMVS ground-truth board validation (8 board poses, the paper's metrics).
    Board(board::Args),
    /// Benchmark accuracy and speed on the built-in synthetic scenes.
    Bench(bench::Args),
    /// Write `.benchmarks/*.json` results into the docs and the verification file.
    UpdateDocs(update_docs::Args),
}

fn main() {
    use clap::error::ErrorKind;
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) =>
        {
            e.exit()
        }
        // Usage errors on one line, as every other error.
        Err(e) => {
            // clap's first paragraph (the error and, indented below it, the arguments it
            // names), joined.
            let text = e.to_string();
            let first: Vec<&str> = text
                .lines()
                .take_while(|l| !l.trim().is_empty())
                .map(str::trim)
                .collect();
            let first = if first.is_empty() {
                "error: invalid arguments".to_string()
            } else {
                first.join(" ")
            };
            eprintln!("{first} (see --help)");
            std::process::exit(2);
        }
    };
    let result = match cli.command {
        Command::Scene(args) => scene::run(args),
        Command::Sweep(args) => sweep::run(args),
        Command::Evaluate(args) => evaluate::run(args),
        Command::Reconstruct(args) => reconstruct::run(args),
        Command::ExportAquamvs(args) => export::run(args),
        Command::Profile(args) => profile::run(args),
        Command::Board(args) => board::run(args),
        Command::Bench(args) => bench::run(args),
        Command::UpdateDocs(args) => update_docs::run(args),
    };
    if let Err(e) = result {
        eprintln!("error: {}", one_line(&e));
        std::process::exit(1);
    }
}

/// The error and its causes on one line, `: `-separated, each cause left out when the text
/// before it already says it (library errors often repeat their source in their message).
fn one_line(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        let text = text.trim();
        if text.is_empty() || out.contains(text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(text);
    }
    out.replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn causes_already_said_are_not_repeated() {
        let io = std::io::Error::other("Read-only file system (os error 30)");
        let e = anyhow::Error::new(io)
            .context("out/depth.npy: Read-only file system (os error 30)")
            .context("writing the depth maps");
        assert_eq!(
            super::one_line(&e),
            "writing the depth maps: out/depth.npy: Read-only file system (os error 30)"
        );
        let e = anyhow::anyhow!("two\nlines");
        assert_eq!(super::one_line(&e), "two lines");
    }
}
