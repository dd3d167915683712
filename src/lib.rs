//! Green Efficiency Code (绿效码): grades industrial firms, signs their codes, and keeps the
//! public log of every code issued. `router` and `run` are the whole service; `main.rs` only
//! calls [`cli::main`].

// The OpenAPI document is one large `json!` literal.
#![recursion_limit = "512"]

pub mod cli;
pub mod code;
pub mod config;
pub mod csvpos;
pub mod db;
pub mod error;
pub mod grading;
pub mod service;
pub mod store;
pub mod tlog;
pub mod web;

use std::future::Future;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;

pub use config::Config;
pub use web::{AppState, router};

/// How long in-flight requests may take to finish once shutdown has begun.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// Opens the database (creating and migrating it), seeds the demo if asked, and serves until
/// SIGINT or SIGTERM.
pub async fn run(config: Config) -> anyhow::Result<()> {
    if config.database_url.starts_with("sqlite:") {
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!("creating the data directory {}", config.data_dir.display())
        })?;
    }
    let db = db::connect(&config.database_url)
        .await
        .context("opening and migrating the database")?;
    let demo = config.demo;
    let state = AppState::open(db.clone(), config)
        .await
        .context("opening the key ring and the log")?;
    if demo {
        let logins = service::demo::seed(&state)
            .await
            .context("seeding the demo")?;
        println!("Demo logins (public demo passwords: never use --demo where real users reach):");
        for login in &logins {
            println!(
                "  {:<10} {:<18} password {}  {}",
                login.role, login.username, login.password, login.note
            );
        }
    }
    if !web::images::has_cjk_font() {
        tracing::warn!(
            "no CJK font found: badge PNGs will lack Chinese glyphs (install fonts-wqy-microhei)"
        );
    }
    tokio::spawn(record_key_changes(state.clone()));
    let shutdown = shutdown_signal();
    let listener = TcpListener::bind(state.config.bind)
        .await
        .with_context(|| format!("binding {}", state.config.bind))?;
    println!("gec serving on http://{}", listener.local_addr()?);
    println!("public URL in codes: {}", state.config.public_url);
    serve(listener, state, shutdown).await?;
    db.close().await.context("closing the database")?;
    Ok(())
}

/// Keeps `signing_keys` in step with key-ring changes made while the service runs.
async fn record_key_changes(state: AppState) {
    let mut interval = tokio::time::interval(Duration::from_secs(5));
    let mut last = String::new();
    loop {
        interval.tick().await;
        let keys = state.keys.current();
        let fingerprint = serde_json::to_string(&keys.document).unwrap_or_default();
        if fingerprint != last {
            match state.keys.record(&state.db).await {
                Ok(()) => last = fingerprint,
                Err(err) => tracing::warn!(%err, "recording the keys in the database failed"),
            }
        }
    }
}

/// Serves `state` on `listener` until `shutdown` completes, then lets in-flight requests finish
/// for at most [`SHUTDOWN_GRACE`].
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stopping_tx, stopping) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stopping_tx.send(true);
    });
    let mut graceful = stopping.clone();
    let server = axum::serve(listener, router(state)).with_graceful_shutdown(async move {
        let _ = graceful.wait_for(|stop| *stop).await;
        tracing::info!("shutting down: finishing in-flight requests");
    });
    let mut deadline = stopping;
    tokio::select! {
        result = server => result,
        _ = async move {
            let _ = deadline.wait_for(|stop| *stop).await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => {
            tracing::warn!("requests still running after the grace period; stopping anyway");
            Ok(())
        }
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM (what `docker stop` and systemd send). The handlers
/// are installed when this is called, not when first polled, so a signal that arrives just
/// after start-up is not lost.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let terminate = signal(SignalKind::terminate());
        let interrupt = signal(SignalKind::interrupt());
        async move {
            match (terminate, interrupt) {
                (Ok(mut terminate), Ok(mut interrupt)) => {
                    tokio::select! {
                        _ = terminate.recv() => {},
                        _ = interrupt.recv() => {},
                    }
                }
                _ => std::future::pending::<()>().await,
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
