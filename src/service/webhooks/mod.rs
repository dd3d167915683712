//! Pushed alerts to banks (Standard Webhooks): a bank registers a URL and gets a `whsec_` secret
//! once (`registration`); whenever a firm it watches (its watchlist, and every firm it has approved
//! an application from) gets a new, superseded, revoked or expiring code, a delivery is written to
//! an outbox in the same transaction as the change (`outbox`). A worker (every replica runs one; a
//! claim keeps two from sending the same delivery) posts it signed, and retries with backoff until
//! the bank answers 2xx (`delivery`): nothing is lost when the service restarts.
//!
//! A webhook URL is a request made on a bank's behalf: private, loopback, link-local and other
//! special addresses are refused (server-side request forgery) unless the operator allows them
//! (`guard`).

mod delivery;
mod guard;
mod outbox;
mod registration;

pub use delivery::*;
pub use guard::*;
pub use outbox::*;
pub use registration::*;
