//! 绿色服务: providers publish services, regulators approve (or suspend) them, anyone lists the
//! approved ones (`catalogue`); a firm is recommended the services that match the levers of its way
//! up (`recommend`), and requests one; the provider answers (`requests`). Every step is an audit
//! event.

mod catalogue;
mod recommend;
mod requests;

pub use catalogue::*;
pub use recommend::*;
pub use requests::*;
