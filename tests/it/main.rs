//! The one integration-test binary (every extra file under tests/ is another full link).
//! Each test gets a fresh database: temporary SQLite by default, a fresh PostgreSQL database
//! when `TEST_DATABASE_URL` is set.

mod helpers;

mod accounts;
mod authz;
mod bad_input;
mod bank;
mod browser;
mod bulk_approval;
mod carbon;
mod cli_checks;
mod codes;
mod crash;
mod desks;
mod explaining;
mod faults;
mod finance;
mod firm_form;
mod foundation;
mod grading;
mod green;
mod hardening;
mod hostile;
mod import;
mod incidents;
mod interop;
mod issuance;
mod kept_pages;
mod keys;
mod ladder;
mod log_scale;
mod openapi;
mod pages;
mod pages_desks;
mod published;
mod readings;
mod readings_checks;
mod readings_filing;
mod recompute;
mod records;
mod regulator_desk;
mod replicas;
mod scanner;
mod scanning;
mod schemathesis;
mod sm2;
mod submissions;
mod throttle;
mod tlog;
mod webhooks;
mod workbooks;
mod year;
