//! The HTTP shell: state, the router of every feature, and the middleware around them.

pub mod api;
pub mod auth;
pub mod csrf;
pub mod i18n;
pub mod metrics;
pub mod middleware;
pub mod pages;

use std::sync::Arc;

use axum::Router;
use sea_orm::DatabaseConnection;

use crate::config::Config;
use crate::service::throttle::LoginThrottle;

/// Cheap handles shared by every request.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    pub login_throttle: Arc<LoginThrottle>,
}

impl AppState {
    pub fn new(db: DatabaseConnection, config: Config) -> Self {
        AppState {
            db,
            config: Arc::new(config),
            login_throttle: Arc::new(LoginThrottle::default()),
        }
    }
}

/// The whole application: every feature's routes, wrapped in the middleware stack.
pub fn router(state: AppState) -> Router {
    // Install the metrics recorder before the first request is counted.
    metrics::handle();
    let routes = Router::new()
        .merge(api::router())
        .merge(pages::router())
        .merge(metrics::router());
    middleware::wrap(routes).with_state(state)
}
