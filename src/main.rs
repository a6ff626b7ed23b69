//! The `ballot-intake` binary: everything is in the library; this only exits.

fn main() -> std::process::ExitCode {
    ballot_intake::cli::main()
}
