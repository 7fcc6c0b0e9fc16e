//! balena-request-native: a drop-in for the npm package `balena-request` with
//! a native engine. `engine` is pure Rust (no N-API), `pipeline` orders the
//! stages of a request, `js` is the thin binding Node sees.
#![deny(clippy::all)]

pub mod engine;
pub mod js;
pub mod pipeline;
