//! `prodcode completions SHELL` and `prodcode man`: shell completion scripts and manual pages,
//! generated from the same clap definitions as `--help`, so they never drift from the program.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::CommandFactory;

#[derive(clap::Args, Debug)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, elvish or powershell
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

#[derive(clap::Args, Debug)]
pub struct ManArgs {
    /// Write prodcode.1 and one page per command (prodcode-link.1, …) into this directory
    /// instead of printing prodcode.1
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

pub fn completions(args: CompletionsArgs) -> anyhow::Result<ExitCode> {
    let mut command = super::Cli::command();
    clap_complete::generate(args.shell, &mut command, "prodcode", &mut std::io::stdout());
    Ok(ExitCode::SUCCESS)
}

pub fn man(args: ManArgs) -> anyhow::Result<ExitCode> {
    let command = super::Cli::command();
    let Some(dir) = args.out else {
        clap_mangen::Man::new(command).render(&mut std::io::stdout())?;
        return Ok(ExitCode::SUCCESS);
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let write = |name: &str, page: clap::Command| -> anyhow::Result<()> {
        let path = dir.join(format!("{name}.1"));
        let mut bytes = Vec::new();
        clap_mangen::Man::new(page)
            .title(name.to_uppercase())
            .render(&mut bytes)?;
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))
    };
    write("prodcode", command.clone())?;
    for sub in command.get_subcommands() {
        let name = format!("prodcode-{}", sub.get_name());
        write(
            &name,
            sub.clone().bin_name(format!("prodcode {}", sub.get_name())),
        )?;
    }
    println!("manual pages in {}", dir.display());
    Ok(ExitCode::SUCCESS)
}
