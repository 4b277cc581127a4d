//! Capture from coding agents: hook payloads, transcript importers, agent configuration, and
//! the privacy rules every captured prompt passes through.
//!
//! Invariant: wire types for outside JSON live here and skip unknown fields and values instead of
//! rejecting a record. A hook never fails or blocks its agent. Uses `model`, `store`,
//! `attribution` and `git`; knows nothing of LSP.

pub mod hook;
pub mod import;
pub mod install;
pub mod privacy;
