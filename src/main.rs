//! `ssot`: the command line of ssot. Parses arguments, calls
//! `ssot_core::service`, renders the result. No policy lives here.

mod cli;
mod commands;
mod demo;
mod render;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match commands::run(args) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("ssot: error: {e}");
            ExitCode::from(2)
        }
    }
}
