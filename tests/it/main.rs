//! The one integration-test binary: drives the real `prodcode` binary over real pipes, against
//! real git repositories and SQLite files in temporary directories.

mod cli;
mod confine;
mod curate;
mod durability;
mod eval;
mod harbor;
mod hooks;
mod import;
mod install;
mod link;
mod link_live;
mod link_random;
mod live_claude;
mod live_codex;
mod live_copilot;
mod live_eval;
mod live_gemini;
mod lsp;
mod mcp;
mod model_server;
mod neovim;
mod privacy;
mod reports;
mod support;
mod team;
mod tidy;
mod tools;
mod vscode;
