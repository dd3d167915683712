//! The database tables as sea-orm entities, and the queries on them, one file per table group.

pub mod accounts;
pub mod appeals;
pub mod applications;
pub mod assessments;
pub mod audit;
pub mod benchmarks;
pub mod certifications;
pub mod codes;
pub mod columns;
pub mod firms;
pub mod keys;
pub mod notify;
pub mod policies;
pub mod products;
pub mod service_requests;
pub mod services;
pub mod tlog;
pub mod tokens;
pub mod vetoes;
pub mod watchlist;
pub mod webhooks;
