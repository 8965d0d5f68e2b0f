//! The `privai` command.

fn main() -> std::process::ExitCode {
    privai::cli::main()
}
