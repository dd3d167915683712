//! The database tables as sea-orm entities, and the queries on them, one file per table group.

pub mod accounts;
pub mod assessments;
pub mod audit;
pub mod certifications;
pub mod firms;
pub mod tokens;
pub mod vetoes;
