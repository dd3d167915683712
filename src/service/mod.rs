//! Use cases that touch several tables in one transaction, shared by the web and the CLI.

pub mod accounts;
pub mod assessments;
pub mod benchmarks;
pub mod credentials;
pub mod demo;
pub mod firms;
pub mod import;
pub mod keys;
pub mod records;
pub mod throttle;
