//! `cargo xtask update-docs` (not written yet).

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`cargo xtask update-docs` is not implemented yet")
}
