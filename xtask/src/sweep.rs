//! `cargo xtask sweep` (not written yet).

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`cargo xtask sweep` is not implemented yet")
}
