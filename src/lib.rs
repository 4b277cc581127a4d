//! prodcode turns real AI-assisted coding sessions into an execution-checked benchmark of the
//! developer's own codebase, and serves as the harness that evaluates agents on it.
//!
//! The crate is one library with one binary. Each module owns one thing; `docs/ARCHITECTURE.md`
//! is the map, with the invariant each module keeps.

pub mod attribution;
pub mod capture;
pub mod cli;
pub mod clock;
pub mod config;
pub mod curate;
pub mod demo;
pub mod eval;
pub mod git;
pub mod linediff;
pub mod link;
pub mod lsp;
pub mod mcp;
pub mod model;
pub mod reattach;
pub mod spool;
pub mod store;
pub mod tools;
