//! The `prodcode` binary: parse the command line, run the command, map errors to exit codes.

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = prodcode::cli::parse();
    prodcode::cli::init_logging(&cli);
    if cli.command.prints_listing() {
        // `prodcode log | head` should end quietly like other Unix tools, not panic in
        // `println!` on the closed pipe. Only for printing commands: the daemon, the MCP server
        // and hooks handle a closed pipe themselves.
        // SAFETY: resetting a signal disposition at startup, before any thread exists.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    match prodcode::cli::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("prodcode: {error:#}");
            ExitCode::from(2)
        }
    }
}
