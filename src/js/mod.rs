//! The binding layer: what Node sees. It converts between JS values and the
//! pipeline's plain data and implements the pipeline's `Host` with a
//! threadsafe function; it holds no request logic of its own.

mod batch_queue;
pub mod bench_support;
pub mod boundary;
mod completions;
mod convert;
mod download;
mod engine;
mod host;
pub mod policies;
mod records;
mod upload;

pub use boundary::boundary_layout;
pub use download::NativeDownload;
pub use engine::Engine;
pub use policies::{check_policy, order_policies};
pub use records::{record_framing, RecordSplitter};
pub use upload::{NativeReceivedBytes, NativeUpload};
