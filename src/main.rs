use std::process::ExitCode;

use clap::Parser;
use vov::cli::{self, Cli, Command};
use vov::config::Settings;

fn main() -> ExitCode {
    let command = Cli::parse().command.unwrap_or(Command::Serve);
    if let Command::Openapi { output: None } = command {
        // Needs no settings: printing the spec works anywhere.
        print!("{}", cli::openapi_json());
        return ExitCode::SUCCESS;
    }
    let settings = match Settings::load() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    match actix_web::rt::System::new().block_on(cli::run(command, settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
