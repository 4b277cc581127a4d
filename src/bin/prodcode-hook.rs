//! `prodcode-hook <agent>`: what agents' hooks run (`prodcode install` writes it when it sits
//! beside `prodcode`). The same as `prodcode hook <agent>`, in a binary that links only the
//! hook: an agent waits for every call, and starting the whole `prodcode` binary was about half
//! of one (issue 16).

fn main() -> std::process::ExitCode {
    prodcode::cli::hook::hook_program_main()
}
