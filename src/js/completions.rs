//! Finished calls as the settle function receives them: one batch per
//! wake-up of the JS thread (`batch_queue.rs`), many calls per batch under
//! load, where one threadsafe function (a libuv handle opened and closed)
//! per call, as a Promise from `spawn_future` needs, cost a wake-up each.

use super::batch_queue::BatchQueue;
use super::boundary::ArrayWriter;
use super::convert::settled_to_js;
use crate::pipeline::Settled;
use napi::bindgen_prelude::ToNapiValue;
use napi::sys;

/// Calls finished and not yet handed to JS.
pub type Completions = BatchQueue<(u32, Settled)>;

/// Calls settled in one wake-up; JS receives them as one flat array
/// `[callId, settled, callId, settled, ...]` (`lib/dispatch.js`).
pub struct SettledBatch(pub Vec<(u32, Settled)>);

impl ToNapiValue for SettledBatch {
    unsafe fn to_napi_value(env: sys::napi_env, batch: Self) -> napi::Result<sys::napi_value> {
        // SAFETY: napi-rs calls this on the JS thread, in the threadsafe
        // function's callback, with its env.
        let mut array = unsafe { ArrayWriter::new(env, batch.0.len() * 2) }?;
        for (call, settled) in batch.0 {
            array.push(call)?;
            array.push(settled_to_js(settled))?;
        }
        Ok(array.finish())
    }
}
