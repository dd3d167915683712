//! The `gec` command line: `serve` (the default) and the operator's offline tools.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};

use crate::config::{self, Config};
use crate::grading::Uscc;
use crate::service::accounts::{self, NewAccount, Role};
use crate::store::audit::Actor;

mod backup;
mod codes;
mod grade;
mod http;
mod import;
mod log;
mod tiles;
mod witness;

#[derive(Parser)]
#[command(
    name = "gec",
    version,
    about = "Green Efficiency Code (绿效码) service and tools"
)]
struct Cli {
    /// Where the SQLite database and the signing keys live.
    #[arg(
        long,
        env = "GEC_DATA_DIR",
        default_value = "./gec-data",
        global = true
    )]
    data_dir: PathBuf,
    /// `postgres://…` for PostgreSQL; by default SQLite in the data directory.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API, the pages and the log (the default; bare `gec` also seeds the demo).
    Serve(ServeArgs),
    /// Manage accounts.
    #[command(subcommand)]
    Accounts(AccountsCommand),
    /// Grade an assessment (methodology GEC-M 2025.1) and print its trace and trace hash.
    Grade(grade::GradeArgs),
    /// The way up (methodology §9): what single change reaches each higher grade.
    WayUp(grade::GradeArgs),
    /// The carbon-efficiency level (methodology §10, GEC-C 2025.1): print its trace and hash.
    Carbon(grade::GradeArgs),
    /// The carbon way up (GEC-CP 2025.1): what single change reaches each better carbon level.
    CarbonWayUp(grade::GradeArgs),
    /// Verify a code offline against a key set, or against a service.
    Verify(codes::VerifyArgs),
    /// Write a QR image of a text (a code's URL).
    Qr(codes::QrArgs),
    /// Manage the signing keys in the data directory.
    #[command(subcommand)]
    Keys(codes::KeysCommand),
    /// Import many firms' yearly data from a CSV file (all or nothing).
    Import(import::ImportArgs),
    /// 无感申报: file every registered firm whose figures of a year all came from data sources.
    NoTouch(import::NoTouchArgs),
    /// Recompute every firm's current grade and report which would change.
    Regrade(log::RegradeArgs),
    /// Witness, mirror and recover the transparency log.
    #[command(subcommand)]
    Log(log::LogCommand),
    /// Run a witness that cosigns logs' checkpoints (c2sp.org/tlog-witness).
    #[command(subcommand)]
    Witness(witness::WitnessCommand),
    /// Write a consistent copy of the SQLite database (while the service runs).
    Backup(backup::BackupArgs),
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "GEC_BIND", default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// Base URL printed into codes (scheme://host[:port]); by default from --bind.
    #[arg(long, env = "GEC_PUBLIC_URL")]
    public_url: Option<String>,
    /// Seed demo accounts and firms (public passwords: for trying the service only).
    #[arg(long)]
    demo: bool,
    /// Address of the operator's listener for Prometheus `/metrics` (off by default; keep it on
    /// the operator's network, e.g. 127.0.0.1:9100).
    #[arg(long, env = "GEC_METRICS_BIND")]
    metrics_bind: Option<SocketAddr>,
    /// A reverse proxy in front of the service (repeatable, or comma-separated in the
    /// environment): its X-Forwarded-For names the client.
    #[arg(
        long = "trusted-proxy",
        env = "GEC_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    trusted_proxies: Vec<std::net::IpAddr>,
    /// Let webhooks target private, loopback and link-local addresses (an on-premises bank
    /// network); refused by default.
    #[arg(long, env = "GEC_WEBHOOK_ALLOW_PRIVATE", value_parser = clap::builder::BoolishValueParser::new(), default_value_t = false)]
    webhook_allow_private: bool,
    /// A witness that cosigns the log's checkpoints, as `VKEY=URL` (its verifier key and its
    /// submission prefix); repeatable, or comma-separated in the environment.
    #[arg(long = "witness", env = "GEC_WITNESSES", value_delimiter = ',', value_parser = crate::service::log_guard::WitnessConfig::parse)]
    witnesses: Vec<crate::service::log_guard::WitnessConfig>,
    /// The signature algorithm of a new deployment's first code key: `ed25519`, or `sm2` (SM2
    /// over SM3, the national commercial algorithms). An existing key ring keeps its keys;
    /// `gec keys rotate --alg` changes them.
    #[arg(long, env = "GEC_SIGNING_ALG", default_value = "ed25519", value_parser = codes::parse_algorithm)]
    signing_alg: crate::code::Algorithm,
    /// The scanner page (`/verify`) warns when the status list it kept offline is older than
    /// this many hours.
    #[arg(long, env = "GEC_SCANNER_MAX_AGE_HOURS", default_value_t = 24, value_parser = clap::value_parser!(u64).range(1..=8760))]
    scanner_max_age_hours: u64,
}

#[derive(Subcommand)]
enum AccountsCommand {
    /// Create an account; the password is read from standard input (one line).
    Add {
        #[arg(long)]
        role: Role,
        #[arg(long)]
        username: String,
        /// The firm's USCC (firm accounts only).
        #[arg(long)]
        firm: Option<String>,
        /// Organisation name (a bank's or an agency's).
        #[arg(long)]
        org: Option<String>,
        /// The fields a data source may attest, separated by commas (data sources only):
        /// energy carriers (electricity_kwh, natural_gas_m3, …), green_power_kwh,
        /// value_added_10k_cny, waste_generated_t, waste_utilized_t, waste_stock_utilized_t.
        #[arg(long)]
        fields: Option<String>,
    },
    /// List accounts.
    List,
}

impl clap::ValueEnum for Role {
    fn value_variants<'a>() -> &'a [Self] {
        &[
            Role::Regulator,
            Role::Bank,
            Role::Firm,
            Role::Provider,
            Role::Source,
        ]
    }
    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()))
    }
}

pub fn main() -> ExitCode {
    init_tracing();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("gec=info,tower_http=info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

async fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    let database_url = cli
        .database_url
        .clone()
        .unwrap_or_else(|| config::default_database_url(&cli.data_dir));
    match cli.command {
        None => {
            serve(
                cli.data_dir,
                database_url,
                ServeArgs {
                    demo: true,
                    ..parse_serve_env()?
                },
            )
            .await
        }
        Some(Command::Serve(args)) => serve(cli.data_dir, database_url, args).await,
        Some(Command::Grade(args)) => Ok(grade::run(&args)),
        Some(Command::WayUp(args)) => Ok(grade::run_way_up(&args)),
        Some(Command::Carbon(args)) => Ok(grade::run_carbon(&args)),
        Some(Command::CarbonWayUp(args)) => Ok(grade::run_carbon_way_up(&args)),
        Some(Command::Verify(args)) => codes::run_verify(&cli.data_dir, &args),
        Some(Command::Qr(args)) => codes::run_qr(&args),
        Some(Command::Keys(command)) => {
            let public_url = std::env::var("GEC_PUBLIC_URL")
                .ok()
                .map(|u| config::parse_public_url(&u).map_err(anyhow::Error::msg))
                .transpose()?
                .unwrap_or_else(|| {
                    config::public_url_for_bind(SocketAddr::from(([127, 0, 0, 1], 8080)))
                });
            codes::run_keys(
                &cli.data_dir,
                &config::log_origin_for(&public_url),
                &command,
            )
        }
        Some(Command::Regrade(args)) => {
            let db = open_db(&cli.data_dir, &database_url, None).await?;
            log::run_regrade(&db, &args).await
        }
        Some(Command::Log(log::LogCommand::Recover { from })) => {
            let db = open_db(
                &cli.data_dir,
                &database_url,
                Some(crate::db::BATCH_CACHE_KIB),
            )
            .await?;
            tiles::run_recover(&cli.data_dir, &db, &from).await
        }
        Some(Command::Log(log::LogCommand::Mirror { server, dir })) => {
            tokio::task::spawn_blocking(move || tiles::run_mirror(&server, &dir)).await?
        }
        Some(Command::Log(command)) => {
            let data_dir = cli.data_dir.clone();
            tokio::task::spawn_blocking(move || log::run_log(&data_dir, &command)).await?
        }
        Some(Command::Witness(command)) => witness::run(&cli.data_dir, &command).await,
        Some(Command::Backup(args)) => {
            let db = open_db(&cli.data_dir, &database_url, None).await?;
            backup::run(&db, &args).await
        }
        Some(Command::Import(args)) => {
            let db = open_db(&cli.data_dir, &database_url, None).await?;
            import::run(&db, &cli.data_dir, &args).await
        }
        Some(Command::NoTouch(args)) => {
            let db = open_db(&cli.data_dir, &database_url, None).await?;
            import::no_touch(&db, &args).await
        }
        Some(Command::Accounts(command)) => {
            let db = open_db(&cli.data_dir, &database_url, None).await?;
            accounts_command(&db, command).await
        }
    }
}

/// Bare `gec` takes the serve options from the environment only.
fn parse_serve_env() -> anyhow::Result<ServeArgs> {
    let bind = match std::env::var("GEC_BIND") {
        Ok(text) => text.parse().with_context(|| format!("GEC_BIND={text:?}"))?,
        Err(_) => SocketAddr::from(([127, 0, 0, 1], 8080)),
    };
    Ok(ServeArgs {
        bind,
        public_url: std::env::var("GEC_PUBLIC_URL").ok(),
        demo: false,
        metrics_bind: match std::env::var("GEC_METRICS_BIND") {
            Ok(text) => Some(
                text.parse()
                    .with_context(|| format!("GEC_METRICS_BIND={text:?}"))?,
            ),
            Err(_) => None,
        },
        trusted_proxies: match std::env::var("GEC_TRUSTED_PROXIES") {
            Ok(text) => text
                .split(',')
                .filter(|t| !t.trim().is_empty())
                .map(|t| {
                    t.trim()
                        .parse()
                        .with_context(|| format!("GEC_TRUSTED_PROXIES: {t:?}"))
                })
                .collect::<anyhow::Result<_>>()?,
            Err(_) => Vec::new(),
        },
        webhook_allow_private: matches!(
            std::env::var("GEC_WEBHOOK_ALLOW_PRIVATE").as_deref(),
            Ok("1" | "true" | "yes" | "on")
        ),
        witnesses: match std::env::var("GEC_WITNESSES") {
            Ok(text) => text
                .split(',')
                .filter(|t| !t.trim().is_empty())
                .map(|t| {
                    crate::service::log_guard::WitnessConfig::parse(t.trim())
                        .map_err(|e| anyhow::anyhow!("GEC_WITNESSES: {e}"))
                })
                .collect::<anyhow::Result<_>>()?,
            Err(_) => Vec::new(),
        },
        signing_alg: match std::env::var("GEC_SIGNING_ALG") {
            Ok(text) => codes::parse_algorithm(text.trim())
                .map_err(|e| anyhow::anyhow!("GEC_SIGNING_ALG: {e}"))?,
            Err(_) => crate::code::Algorithm::DEFAULT,
        },
        scanner_max_age_hours: match std::env::var("GEC_SCANNER_MAX_AGE_HOURS") {
            Ok(text) => text
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|h| (1..=8760).contains(h))
                .ok_or_else(|| anyhow::anyhow!("GEC_SCANNER_MAX_AGE_HOURS: 1 to 8760 hours"))?,
            Err(_) => 24,
        },
    })
}

async fn serve(
    data_dir: PathBuf,
    database_url: String,
    args: ServeArgs,
) -> anyhow::Result<ExitCode> {
    let public_url = match &args.public_url {
        Some(text) => config::parse_public_url(text).map_err(anyhow::Error::msg)?,
        None => config::public_url_for_bind(args.bind),
    };
    let config = Config {
        bind: args.bind,
        data_dir,
        database_url,
        public_url,
        demo: args.demo,
        metrics_bind: args.metrics_bind,
        trusted_proxies: args.trusted_proxies,
        code_cache_ttl: code_cache_ttl()?,
        webhook_allow_private: args.webhook_allow_private,
        witnesses: args.witnesses,
        signing_alg: args.signing_alg,
        scanner_max_age_secs: args.scanner_max_age_hours * 3600,
    };
    crate::run(config).await?;
    Ok(ExitCode::SUCCESS)
}

/// `GEC_CODE_CACHE_MS`: how long verification keeps a code's facts (default 1,000 ms).
fn code_cache_ttl() -> anyhow::Result<std::time::Duration> {
    match std::env::var("GEC_CODE_CACHE_MS") {
        Ok(text) => {
            let ms: u64 = text
                .parse()
                .with_context(|| format!("GEC_CODE_CACHE_MS={text:?}"))?;
            Ok(std::time::Duration::from_millis(ms))
        }
        Err(_) => Ok(crate::service::cache::FRESH_FOR),
    }
}

/// Opens and migrates the database (creating the data directory for SQLite). `cache_kib`: a
/// larger SQLite page cache for a batch that reads much of the database (recovery).
pub async fn open_db(
    data_dir: &std::path::Path,
    database_url: &str,
    cache_kib: Option<u32>,
) -> anyhow::Result<crate::db::Db> {
    if database_url.starts_with("sqlite:") {
        crate::files::dir(data_dir, crate::files::Access::Private)
            .with_context(|| format!("creating the data directory {}", data_dir.display()))?;
    }
    crate::db::connect_with(database_url, cache_kib)
        .await
        .context("opening and migrating the database")
}

async fn accounts_command(
    db: &crate::db::Db,
    command: AccountsCommand,
) -> anyhow::Result<ExitCode> {
    match command {
        AccountsCommand::Add {
            role,
            username,
            firm,
            org,
            fields,
        } => {
            let attests = match fields {
                Some(text) => crate::service::readings::parse_fields(&text)
                    .map_err(|m| anyhow::anyhow!("--fields: {m}"))?,
                None => Vec::new(),
            };
            let firm = firm
                .map(|text| Uscc::parse(&text).map_err(|m| anyhow::anyhow!("--firm: {m}")))
                .transpose()?;
            let mut password = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut password)
                .context("reading the password from standard input")?;
            let password = password.trim_end_matches(['\n', '\r']).to_owned();
            if password.is_empty() {
                bail!("password: give it on standard input, one line");
            }
            let new = NewAccount {
                username,
                password,
                role,
                firm,
                org,
                attests,
            };
            let created = accounts::create_account(db, &Actor::system("cli"), new)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", serde_json::to_string(&created)?);
        }
        AccountsCommand::List => {
            for a in accounts::list_accounts(db)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
            {
                println!(
                    "{:>5}  {:<10} {:<24} {:<18} {}",
                    a.id,
                    a.role,
                    a.username,
                    a.firm_uscc.as_deref().unwrap_or("-"),
                    a.org.as_deref().unwrap_or("")
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
