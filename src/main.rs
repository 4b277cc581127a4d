//! The `prodcode` binary: parse the command line, run the command, map errors to exit codes.

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = prodcode::cli::parse();
    prodcode::cli::init_logging(&cli);
    match prodcode::cli::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("prodcode: {error:#}");
            ExitCode::from(2)
        }
    }
}
