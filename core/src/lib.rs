//! The pure cores of the Green Efficiency Code (绿效码): the grading methodology (`grading`),
//! the code format and its signatures (`code`), and the transparency log's maths (`tlog`).
//! Plain functions over plain types: no I/O, no clock, no randomness but what is passed in.
//! The service (`gec`) re-exports these modules under the same names.

pub mod code;
pub mod csvpos;
pub mod grading;
pub mod tlog;
