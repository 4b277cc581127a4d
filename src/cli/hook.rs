//! `prodcode hook <agent>`: record one agent hook payload from stdin. The agent's hook
//! configuration (written by `prodcode install`) runs it; it always exits 0 and prints only what
//! the agent reads as "carry on" (see `capture::hook::reply`), whatever happens.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use crate::capture::hook::{self, BUSY_TIMEOUT, Call, Config, MAX_INPUT_BYTES};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The agent whose hook payload is on stdin: claude, codex, cursor, copilot, gemini,
    /// prodcode (the generic format in docs/hooks.md), or git (post-commit, no stdin)
    pub agent: String,
    /// The hook event, for agents whose payload does not name it (Copilot CLI's camelCase hooks)
    #[arg(long, value_name = "NAME")]
    pub event: Option<String>,
}

pub fn run(db: Option<PathBuf>, args: Args) -> anyhow::Result<ExitCode> {
    let received_ms = hook::now_ms();
    let db_path = db.or_else(|| crate::store::default_path().ok());
    // A panic message belongs in the hook log, not on the agent's stderr.
    let log_db = db_path.clone();
    let agent = args.agent.clone();
    std::panic::set_hook(Box::new(move |info| {
        hook::spool::log(log_db.as_deref(), &agent, &format!("panic: {info}"));
    }));
    let input = if args.agent == "git" {
        Vec::new()
    } else {
        read_stdin()
    };
    let reply = hook::handle(
        &Config {
            db_path,
            busy_timeout: BUSY_TIMEOUT,
        },
        &Call {
            agent: &args.agent,
            event: args.event.as_deref(),
            input: &input,
            cwd: std::env::current_dir().ok(),
            received_ms,
        },
    );
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(reply.as_bytes());
    let _ = stdout.flush();
    Ok(ExitCode::SUCCESS)
}

/// stdin up to [`MAX_INPUT_BYTES`]; nothing when it is a terminal (run by hand, nothing piped).
fn read_stdin() -> Vec<u8> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Vec::new();
    }
    let mut input = Vec::new();
    let _ = stdin
        .lock()
        .take(MAX_INPUT_BYTES as u64)
        .read_to_end(&mut input);
    input
}
