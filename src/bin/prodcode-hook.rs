//! `prodcode-hook <agent>`: what agents' hooks run (`prodcode install` writes it when it sits
//! beside `prodcode`). The same as `prodcode hook <agent>`, in a binary that links only the
//! hook: an agent waits for every call, and starting the whole `prodcode` binary was about half
//! of one (issue 16).
//!
//! Its `main` is the C one, without Rust's runtime setup: that setup installs a stack-overflow
//! handler, which reads and parses `/proc/self/maps` to find the main thread's stack, several
//! system calls and a few percent of a hook call. What the hook needs of it, standard
//! descriptors that are open and SIGPIPE ignored, [`prodcode::cli::hook::prepare_process`]
//! does. Arguments still come from `std::env` (glibc hands them to std before `main`).
#![no_main]

use std::ffi::{c_char, c_int};

#[unsafe(no_mangle)]
pub extern "C" fn main(_argc: c_int, _argv: *const *const c_char) -> c_int {
    prodcode::cli::hook::prepare_process();
    if prodcode::cli::hook::hook_program_main() == std::process::ExitCode::SUCCESS {
        0
    } else {
        1
    }
}
