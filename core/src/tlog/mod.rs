//! The transparency log's maths (token.md §5) as pure functions: RFC 9162 hashing, roots and
//! proofs computed from stored subtree hashes, their verification, and C2SP checkpoints.

pub mod checkpoint;
pub mod entry;
pub mod merkle;
pub mod tiles;
pub mod witness;

pub use checkpoint::{Checkpoint, CheckpointError};
pub use entry::{Entry, IssueEntry, RevokeEntry};
pub use merkle::{Hash, NodeId};
