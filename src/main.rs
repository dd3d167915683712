//! The `gec` binary: a shim over the library so that tests build exactly what runs.

fn main() -> std::process::ExitCode {
    gec::cli::main()
}
