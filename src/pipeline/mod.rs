//! The request pipeline, in the order a request meets its stages:
//!
//! 1. `prepare`: defaults were merged by JS; here the apiKey is appended and
//!    baseUrl dropped for absolute URLs (a `Patch` JS applies to what it shows).
//! 2. `auth`: token refresh, expired-token failure, Bearer header.
//! 3. `hooks`: request hooks, in array order, `then(request, requestError)`.
//! 4. `exchange`: wire request to transport (retries, redirects), body
//!    decoded by `responseFormat`, error status mapped.
//! 5. `hooks`: response hooks, in reverse order, `then(response, responseError)`.
//!
//! Stages that need JavaScript (the `auth` object, user hooks) go through the
//! `Host` trait; values that only JS can hold (options objects with signals
//! and Blobs, responses a hook replaced) stay on the JS side, in the call's
//! slot, and the pipeline tracks only whether that slot holds a value or an
//! error. Stages 1 to 4 can be cancelled (timeout, AbortSignal); the response
//! hooks cannot, as in balena-request.

mod auth;
mod exchange;
mod hooks;
pub mod host;
mod js_policy;
pub mod policies;
mod policy_chain;
mod prepare;
mod types;

pub use exchange::Mode;
pub use host::{Host, HostOp, HostReply};
pub use types::*;

use crate::engine::transport::Transport;
use futures::future::{AbortRegistration, Abortable};
use std::sync::{Arc, Mutex};

/// What the JS slot of the call holds at a point of the pipeline, or the
/// native failure that has not crossed into JS yet.
#[derive(Debug)]
pub enum Current {
    Value,
    JsError,
    Failure(Failure),
}

/// Runs one `send()` or `stream()` call to its end.
pub async fn run<H: Host + 'static>(
    host: &Arc<H>,
    transport: &Transport,
    call: u32,
    init: CallInit,
    abort: AbortRegistration,
) -> Settled {
    let patch = prepare::prepare(&init);
    // The patch as far as the request side got (auth adds the header), kept
    // outside the cancellable part so that a cancelled call still has it.
    let latest = Mutex::new(patch.as_ref().ok().cloned());
    let has_response_hooks = init.has_response_hooks;
    let until_response = Abortable::new(
        request_side(host, transport, call, init, patch, &latest),
        abort,
    );
    let outcome = match until_response.await {
        Ok(outcome) => outcome,
        Err(_aborted) => Outcome::Failure(Failure::new(
            FailureKind::Cancelled,
            "The operation was aborted",
            true,
        )),
    };
    let settled = Settled {
        outcome,
        patch: latest
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner()),
    };
    if has_response_hooks {
        hooks::response_phase(host.as_ref(), call, settled).await
    } else {
        settled
    }
}

async fn request_side<H: Host + 'static>(
    host: &Arc<H>,
    transport: &Transport,
    call: u32,
    init: CallInit,
    patch: Result<Patch, Failure>,
    latest: &Mutex<Option<Patch>>,
) -> Outcome {
    let mut patch = match patch {
        Ok(patch) => patch,
        Err(failure) => {
            if !init.has_request_hooks {
                return Outcome::Failure(failure);
            }
            let current =
                hooks::request_phase(host.as_ref(), call, Current::Failure(failure), None).await;
            return finish_request_failure(current.0);
        }
    };
    let current = match auth::authorize(host.as_ref(), call, &init, &mut patch).await {
        Ok(()) => Current::Value,
        Err(current) => current,
    };
    if let Ok(mut slot) = latest.lock() {
        *slot = Some(patch.clone());
    }
    let (current, wire) = if init.has_request_hooks {
        hooks::request_phase(host.as_ref(), call, current, Some(&patch)).await
    } else {
        let wire = init.wire.map(|wire| patch.apply(wire));
        (current, wire)
    };
    let wire = match current {
        Current::Value => wire,
        other => return finish_request_failure(other),
    };
    match wire {
        // JS could not turn the options into a request; the error is in its slot.
        None => Outcome::JsError,
        Some(wire) => {
            policy_chain::exchange_through(
                host,
                call,
                &init.policies,
                transport,
                wire,
                init.response_format.as_deref(),
                init.mode,
            )
            .await
        }
    }
}

fn finish_request_failure(current: Current) -> Outcome {
    match current {
        Current::Failure(failure) => Outcome::Failure(failure),
        _ => Outcome::JsError,
    }
}
