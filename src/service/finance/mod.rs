//! 绿色金融: banks publish products (`products`); a firm applies with its consent to share its figures,
//! the bank that owns the product reads the application (every read of consented data recorded for
//! the firm to see) and decides (`applications`); regulators see what the code did for finance
//! (`summary`).

mod applications;
pub mod attachments;
mod decisions;
mod products;
mod summary;

pub use applications::*;
pub use decisions::*;
pub use products::*;
pub use summary::*;
