use clap::Parser;

/// See the comment on `mimalloc` in Cargo.toml: measured, not assumed.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // A `.env` file is optional; real environment variables win over it.
    let _ = dotenvy::dotenv();
    match shoplink::cli::run(shoplink::cli::Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("shoplink: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
