//! Green Efficiency Code (绿效码): grades industrial firms, signs their codes, and keeps the
//! public log of every code issued. `router` and `run` are the whole service; `main.rs` only
//! calls [`cli::main`].

// The OpenAPI document is one large `json!` literal.
#![recursion_limit = "512"]

pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod files;
pub mod service;
pub mod store;
pub mod web;

// The pure cores live in their own crate (`core/`), which names no runtime, database or clock;
// they keep their paths here.
pub use gec_core::{code, csvpos, grading, tlog};

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
        files::dir(&config.data_dir, files::Access::Private).with_context(|| {
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
        let keys = state.keys.current();
        let logins = service::demo::seed(&state.db, &state.caches, &keys, &state.config.public_url)
            .await
            .context("seeding the demo")?;
        say(format_args!(
            "Demo logins (public demo passwords: never use --demo where real users reach):"
        ));
        for login in &logins {
            say(format_args!(
                "  {:<10} {:<18} password {}  {}",
                login.role, login.username, login.password, login.note
            ));
        }
    }
    if let Some(bind) = state.config.metrics_bind {
        let listener = TcpListener::bind(bind)
            .await
            .with_context(|| format!("binding the metrics address {bind}"))?;
        say(format_args!(
            "operator metrics on http://{}/metrics",
            listener.local_addr()?
        ));
        let operator = web::operator_router(state.clone());
        tokio::spawn(async move {
            let serving = axum::serve(listener, operator).with_graceful_shutdown(shutdown_signal());
            if let Err(err) = serving.await {
                tracing::error!(%err, "the metrics listener stopped");
            }
        });
    }
    // Every replica sends the webhook outbox (claims keep them from sending one delivery twice).
    tokio::spawn(service::webhooks::run_worker(
        state.db.clone(),
        state.config.webhook_allow_private,
        shutdown_signal(),
    ));
    let shutdown = shutdown_signal();
    let listener = TcpListener::bind(state.config.bind)
        .await
        .with_context(|| format!("binding {}", state.config.bind))?;
    say(format_args!(
        "public URL in codes: {}",
        state.config.public_url
    ));
    say(format_args!(
        "gec serving on http://{}",
        listener.local_addr()?
    ));
    serve(listener, state, shutdown).await?;
    db.close().await.context("closing the database")?;
    Ok(())
}

/// Prints a line for the operator; a closed standard output is no reason to stop serving.
fn say(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{line}");
}

/// How long a client may take to send a request's headers: a slow-loris client that trickles
/// them is cut off instead of holding a connection for ever.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `state` on `listener` until `shutdown` completes, then lets in-flight requests finish
/// for at most [`SHUTDOWN_GRACE`]. Connections are served by hyper directly (rather than
/// `axum::serve`) so that the header read timeout can be set.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto;
    use tower::Service;

    let app = router(state.clone());
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: wait a moment rather than spin.
                    tracing::warn!(%err, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let (app, state) = (app.clone(), state.clone());
        let service = hyper::service::service_fn(
            move |mut request: hyper::Request<hyper::body::Incoming>| {
                // A kept scan page or tile goes out at once; the rest take the whole way.
                let kept = web::fast::answer(&state, &request);
                // Who is on the other end (the login throttle counts per client address).
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                let mut app = app.clone();
                async move {
                    match kept {
                        Some(response) => Ok(response),
                        None => app.call(request).await,
                    }
                }
            },
        );
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_READ_TIMEOUT);
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
        });
    }
    drop(listener);
    tracing::info!("shutting down: finishing in-flight requests");
    tokio::select! {
        _ = graceful.shutdown() => {},
        _ = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!("requests still running after the grace period; stopping anyway");
        }
    }
    Ok(())
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
