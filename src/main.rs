use std::process::ExitCode;

// glibc malloc was a fifth of the server's time under load.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;
use fieldforge::app::{Server, shutdown_signal};
use fieldforge::config::{Cli, Command};
use fieldforge::{db, graphql, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init();
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::PrintSchema => {
            print!("{}", graphql::sdl());
            Ok(())
        }
        Command::Migrate => migrate(&cli.settings.database_url).await,
        Command::Serve => serve(cli.settings).await,
        Command::SeedDemo => seed_demo(&cli.settings).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("fieldforge: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn migrate(url: &str) -> Result<(), String> {
    let db = db::connect(url).await.map_err(|e| format!("database: {e}"))?;
    db::migrate(url, &db).await.map_err(|e| format!("migration: {e}"))?;
    tracing::info!("migrations applied");
    Ok(())
}

async fn serve(settings: fieldforge::config::Settings) -> Result<(), String> {
    let server = Server::build(settings).await.map_err(|e| e.to_string())?;
    server.run(shutdown_signal()).await.map_err(|e| e.to_string())
}

async fn seed_demo(settings: &fieldforge::config::Settings) -> Result<(), String> {
    let db = db::connect(&settings.database_url).await.map_err(|e| format!("database: {e}"))?;
    db::migrate(&settings.database_url, &db).await.map_err(|e| format!("migration: {e}"))?;
    let (tokens, _) = fieldforge::auth::token::TokenService::new(settings.jwt_secret.as_deref(), settings.token_ttl)
        .map_err(|e| e.to_string())?;
    let logins = fieldforge::seed::seed(&db, &tokens).await.map_err(|e| e.to_string())?;
    print!("{}", fieldforge::seed::describe(&logins));
    Ok(())
}
