//! The `prodcode` binary: parse the command line, run the command, map errors to exit codes.

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = prodcode::cli::parse();
    prodcode::cli::init_logging(&cli);
    if !cli.command.owns_its_pipes() {
        // `prodcode link | head -2` should end quietly like other Unix tools, not panic in
        // `println!` on the closed pipe. Not for the daemon, the MCP server and hooks, which
        // handle a closed pipe themselves (a hook never fails its agent).
        // SAFETY: resetting a signal disposition at startup, before any thread exists.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    match prodcode::cli::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("prodcode: {}", error_chain(&error));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes, `: `-separated, leaving out a cause whose words the message before
/// it already carries (an error that quotes its source, a context that repeats its error), so
/// nothing is said twice.
fn error_chain(error: &anyhow::Error) -> String {
    let mut text = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}
