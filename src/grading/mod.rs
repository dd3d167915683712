//! The grading methodology GEC-M 2025.1 (methodology.md), as pure functions over plain types.

pub mod uscc;

pub use uscc::Uscc;
