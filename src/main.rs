use std::process::ExitCode;

use clap::Parser;
use vov::cli::{self, Cli, Command};
use vov::config::Settings;

/// Keeps resident memory close to what is in use. glibc's allocator otherwise keeps freed
/// large blocks (argon2's 19 MiB per password check, a 1,000-item batch) in per-thread arenas
/// and raises its mmap threshold after the first one: measured, a sync of 10,000 people left
/// 135 MB resident; with these two settings its peak is 46 MB.
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; it runs before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

fn main() -> ExitCode {
    tune_allocator();
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
