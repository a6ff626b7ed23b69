//! The `ballot-intake` program: the command line over `ballot-intake-core`, and the
//! desktop application (`ballot-intake-window`) when built with the `gui` feature.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
