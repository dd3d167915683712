//! Use cases that touch several tables in one transaction, shared by the web and the CLI.

pub mod accounts;
pub mod credentials;
pub mod demo;
pub mod firms;
pub mod keys;
pub mod throttle;
