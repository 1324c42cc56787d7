//! The `alliance` command's library: command-line commands and the bundled demo data.
//! `main.rs` only parses arguments and starts the runtime.

pub mod commands;
pub mod demo;
pub mod governance;
pub mod logging;
