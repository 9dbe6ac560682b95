//! The command line: `shoplink [serve]`, `shoplink create-user`, `shoplink sandbox`.

use std::io::{IsTerminal, Read};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use sqlx::SqlitePool;

use crate::configuration::Settings;
use crate::domain::UserRole;
use crate::password::Hasher;
use crate::services::accounts::{self, CreateUserError};
use crate::startup::Application;
use crate::{sandbox, store, telemetry};

#[derive(Parser)]
#[command(
    name = "shoplink",
    version,
    about = "Links a partner's shops to ITS (Zalo ZNS, call centre)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the web app (the default). Without ITS_BASE_URL it also runs the ITS sandbox.
    Serve,
    /// Create a user; the password is read from standard input when it is not a terminal.
    CreateUser {
        #[arg(long, value_parser = ["admin", "owner"])]
        role: String,
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "")]
        name: String,
    },
    /// Run only the ITS sandbox, on its own address.
    Sandbox {
        #[arg(long, default_value = "127.0.0.1:8090", env = "SANDBOX_BIND")]
        bind: SocketAddr,
        /// The partner api_key the sandbox accepts (generated and printed when not given).
        #[arg(long, env = "SANDBOX_API_KEY")]
        api_key: Option<String>,
        #[arg(long, default_value = "data/sandbox-standalone.db")]
        database: PathBuf,
    },
    /// Write a consistent copy of the live database (VACUUM INTO); safe while the app runs.
    Backup {
        /// The new file to write (must not exist).
        path: PathBuf,
    },
    /// Re-seal every stored secret (shop keys, webhook signing secrets) under a new secret,
    /// in one transaction. The new secret (64 hex characters) is read from standard input.
    RotateKey,
    /// Fill the database with many realistic shops (for trying the admin pages and the
    /// benchmark). Only adds rows; prints the seeded users' passwords.
    Seed {
        /// How many shops to add.
        #[arg(long)]
        shops: u64,
        /// Over how many new owners (default: one per 20 shops).
        #[arg(long)]
        owners: Option<u64>,
        /// The database file (default: DATABASE_URL).
        #[arg(long)]
        database: Option<PathBuf>,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::from_env()?;
    telemetry::init(settings.log_format);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings).await,
        Command::CreateUser { role, email, name } => {
            create_user(settings, &role, &email, &name).await
        }
        Command::Sandbox {
            bind,
            api_key,
            database,
        } => run_sandbox(bind, api_key, database).await,
        Command::Backup { path } => backup(settings, &path).await,
        Command::RotateKey => rotate_key(settings).await,
        Command::Seed {
            shops,
            owners,
            database,
        } => crate::seed::run_cli(settings, shops, owners, database).await,
    }
}

/// Commands that work on existing data refuse a database file that is not there: opening
/// it would create a fresh empty one (and a backup of nothing would "succeed").
fn existing_database(settings: &Settings, command: &str) -> anyhow::Result<()> {
    let path = &settings.database_path;
    anyhow::ensure!(
        path.is_file(),
        "{command}: there is no database at {} (looked there because of DATABASE_URL and the working directory {}); nothing was done",
        path.display(),
        std::env::current_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_else(|_| "?".into())
    );
    Ok(())
}

async fn backup(settings: Settings, path: &std::path::Path) -> anyhow::Result<()> {
    existing_database(&settings, "backup")?;
    let db = store::connect(&settings.database_path).await?;
    crate::services::maintenance::backup(&db, path).await?;
    println!("backup written to {}", path.display());
    println!("it holds sealed shop keys only: keep SECRET_KEY (not in the backup) to read them after a restore");
    Ok(())
}

async fn rotate_key(settings: Settings) -> anyhow::Result<()> {
    use crate::crypto::{KeySealer, SecretKey};
    existing_database(&settings, "rotate-key")?;
    if settings.secret_key.is_none() {
        // Without SECRET_KEY the current secret is the sandbox's file: never generate one
        // here (nothing stored could open with it).
        let path = settings.data_dir.join("secret.key");
        anyhow::ensure!(
            path.is_file(),
            "rotate-key: SECRET_KEY is not set and there is no {}; nothing was done",
            path.display()
        );
    }
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text)?;
    let new_secret = SecretKey::parse(text.trim()).map_err(|_| {
        anyhow::anyhow!("standard input must hold the new secret: 64 hexadecimal characters")
    })?;
    let old_secret = crate::startup::app_secret(&settings)?;
    anyhow::ensure!(
        old_secret.key_id() != new_secret.key_id(),
        "the new secret is the current one"
    );
    let db = store::connect(&settings.database_path).await?;
    let old = KeySealer::new(&old_secret).with_previous(settings.secret_key_previous.as_ref());
    let report =
        crate::services::maintenance::rotate_keys(&db, &old, &KeySealer::new(&new_secret)).await?;
    let per_table: Vec<String> = report
        .resealed_by_table
        .iter()
        .map(|(table, n)| format!("{table}: {n}"))
        .collect();
    println!(
        "re-sealed {} stored secret(s) ({}; {} already under the new secret)",
        report.resealed,
        per_table.join(", "),
        report.already_current
    );
    if settings.secret_key.is_none() {
        // Sandbox mode keeps its secret in the data directory: replace it there.
        let path = settings.data_dir.join("secret.key");
        let tmp = settings.data_dir.join("secret.key.new");
        let _ = std::fs::remove_file(&tmp);
        crate::startup::write_private(&tmp, &new_secret.to_hex())?;
        std::fs::rename(&tmp, &path)?;
        println!("the new secret replaces {}", path.display());
    } else {
        println!("now set SECRET_KEY to the new secret and restart; SECRET_KEY_PREVIOUS is no longer needed");
    }
    Ok(())
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let sandbox_mode = settings.is_sandbox();
    let app = Application::build(settings).await?;
    if sandbox_mode {
        create_demo_users(app.db()).await?;
    }
    println!();
    println!("shoplink is running at {}", app.public_url());
    if let Some(origin) = app.sandbox_origin() {
        println!("ITS sandbox (built in) at {origin}/shops — no real provider is used");
    }
    println!();
    app.run_until_stopped().await?;
    Ok(())
}

/// On the first run in sandbox mode only: a demo admin and owner, passwords printed once.
async fn create_demo_users(db: &SqlitePool) -> anyhow::Result<()> {
    if store::users::count(db).await? > 0 {
        return Ok(());
    }
    println!("First run in sandbox mode: created demo users (the passwords are shown only now):");
    for (role, email, name) in [
        (UserRole::Admin, "admin@shoplink.local", "Quản trị viên"),
        (UserRole::Owner, "owner@shoplink.local", "Chủ cửa hàng"),
    ] {
        let password = crate::crypto::random_token()[..16].to_owned();
        accounts::create_user(db, &Hasher::default(), email, name, role, &password)
            .await
            .map_err(|e| anyhow::anyhow!("creating the demo {} failed: {e}", role.as_str()))?;
        println!("  {:<6} {email}  password: {password}", role.as_str());
    }
    Ok(())
}

async fn create_user(
    settings: Settings,
    role: &str,
    email: &str,
    name: &str,
) -> anyhow::Result<()> {
    let role =
        UserRole::parse(role).map_err(|_| anyhow::anyhow!("--role must be admin or owner"))?;
    let password = read_password()?;
    let db = store::connect(&settings.database_path).await?;
    match accounts::create_user(&db, &Hasher::default(), email, name, role, &password).await {
        Ok(id) => {
            println!("created {} {email} ({id})", role.as_str());
            Ok(())
        }
        Err(CreateUserError::BadEmail(e)) => {
            let m = crate::i18n::Messages::for_lang(crate::i18n::Lang::En);
            anyhow::bail!("{}", m.text(e.into()))
        }
        Err(CreateUserError::WeakPassword(problem)) => {
            let m = crate::i18n::Messages::for_lang(crate::i18n::Lang::En);
            anyhow::bail!("{}", m.text(problem.msg_key()))
        }
        Err(e) => Err(e.into()),
    }
}

fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let second = rpassword::prompt_password("Repeat the password: ")?;
        anyhow::ensure!(first == second, "the two passwords differ");
        Ok(first)
    } else {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        Ok(text.trim_end_matches(['\n', '\r']).to_owned())
    }
}

async fn run_sandbox(
    bind: SocketAddr,
    api_key: Option<String>,
    database: PathBuf,
) -> anyhow::Result<()> {
    let api_key = api_key.unwrap_or_else(|| format!("sandbox_{}", crate::crypto::random_token()));
    let listener = TcpListener::bind(bind)?;
    if let Some(dir) = database.parent().filter(|d| !d.as_os_str().is_empty()) {
        store::create_private_dir(dir)?;
    }
    store::create_private_file(&database)?;
    let running = sandbox::start(
        sandbox::SandboxSettings {
            api_key: api_key.clone(),
            database_path: database,
            faults: sandbox::Faults::default(),
            partner_name: "shoplink (sandbox)".into(),
            white_label: false,
            registered_redirect_urls: Vec::new(),
        },
        listener,
    )
    .await?;
    println!("ITS sandbox at {}", running.origin);
    println!("  ITS_BASE_URL={}", running.base_url);
    println!("  ITS_API_KEY={api_key}");
    println!(
        "fake Zalo (OA permission page, test phone) at {}",
        running.zalo_origin
    );
    running.server.await?;
    Ok(())
}
