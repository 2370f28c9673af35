//! `ssot`: the command line of ssot. Parses arguments into requests, calls
//! `ssot_core::Ssot`, prints the result. No policy lives here.

mod cli;
mod commands;
mod demo;
mod exit;

use std::process::ExitCode;

/// mimalloc rather than the system allocator: a plan of a million artifacts
/// allocates millions of small strings and lists; mimalloc reuses freed
/// memory instead of returning it to the kernel and faulting it back in
/// (measured in `benches/RESULTS.md`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::error::ErrorKind;
use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches};

fn main() -> ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let command_mode = cli::gate_command_given(&argv);
    let no_verdict = if command_mode {
        exit::GATE_NO_VERDICT
    } else {
        exit::NO_VERDICT
    };
    let parsed = cli::Cli::command()
        .try_get_matches_from(&argv)
        .and_then(|m| cli::Cli::from_arg_matches(&m).map(|c| (c, m)));
    let (args, flags) = match parsed {
        Ok((a, m)) => {
            let given = |id: &str| m.value_source(id) == Some(ValueSource::CommandLine);
            let flags = commands::GivenFlags {
                state: given("state"),
                config: given("config"),
            };
            (a, flags)
        }
        Err(e) => {
            return match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                    let _ = e.print();
                    ExitCode::from(exit::OK)
                }
                _ => {
                    // clap's text starts with "error: "; ssot's errors all start "ssot: error: ".
                    let text = e.render().to_string();
                    if text.starts_with("error:") {
                        eprint!("ssot: {text}");
                    } else {
                        eprint!("{text}"); // the help, shown for a missing subcommand
                    }
                    ExitCode::from(no_verdict)
                }
            };
        }
    };
    match commands::run(args, flags) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("ssot: error: {e}");
            ExitCode::from(no_verdict)
        }
    }
}
