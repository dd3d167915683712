//! Use cases that touch several tables in one transaction, shared by the web and the CLI.

pub mod accounts;
pub mod appeals;
pub mod assessments;
pub mod audit;
pub mod benchmarks;
pub mod cache;
pub mod codes;
pub mod credentials;
pub mod demo;
pub mod firms;
pub mod flat;
pub mod import;
pub mod issue;
pub mod keys;
pub mod keystore;
pub mod log;
pub mod paging;
pub mod recompute;
pub mod records;
pub mod regrade;
pub mod revoke;
pub mod throttle;
pub mod verdict;
pub mod verification;
pub mod watch;
