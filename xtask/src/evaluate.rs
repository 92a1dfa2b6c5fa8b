//! `cargo xtask evaluate` (not written yet).

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`cargo xtask evaluate` is not implemented yet")
}
