//! Finished calls as the settle function receives them: one batch per
//! wake-up of the JS thread (`batch_queue.rs`), many calls per batch under
//! load, where one threadsafe function (a libuv handle opened and closed)
//! per call, as a Promise from `spawn_future` needs, cost a wake-up each.

use super::batch_queue::BatchQueue;
use super::boundary::SettledJs;
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
        let mut array = std::ptr::null_mut();
        // SAFETY: N-API calls on the JS thread with the `env` napi-rs passed
        // to the threadsafe function's callback.
        unsafe {
            napi::check_status!(sys::napi_create_array_with_length(
                env,
                batch.0.len() * 2,
                &mut array
            ))?;
            for (index, (call, settled)) in batch.0.into_iter().enumerate() {
                let index = index as u32 * 2;
                let id = u32::to_napi_value(env, call)?;
                napi::check_status!(sys::napi_set_element(env, array, index, id))?;
                let value = SettledJs::to_napi_value(env, settled_to_js(settled))?;
                napi::check_status!(sys::napi_set_element(env, array, index + 1, value))?;
            }
        }
        Ok(array)
    }
}
