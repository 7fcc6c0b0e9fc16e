//! Stages 3 and 5: the user's interceptors, each attached like
//! `promise.then(hook, errorHook)`. JS runs the hook on the call's slot; the
//! pipeline only learns whether the slot then holds a value or an error.
//! A phase without hooks never crosses into JS.

use super::host::{Host, HostOp};
use super::types::{Failure, FailureKind, Outcome, Patch, Settled, Wire};
use super::Current;

/// Runs the request hooks; on success with hooks, also returns the wire
/// request JS built from the options the last hook produced.
pub async fn request_phase<H: Host>(
    host: &H,
    call: u32,
    hooks: &[u32],
    mut current: Current,
    patch: Option<&Patch>,
) -> (Current, Option<Wire>) {
    let mut wire = None;
    let mut patch = patch.cloned();
    for (position, &index) in hooks.iter().enumerate() {
        // A native failure crosses into the JS slot with the first hook.
        let failure = match std::mem::replace(&mut current, Current::JsError) {
            Current::Failure(failure) => Some(failure),
            _ => None,
        };
        let op = HostOp::RequestHook {
            index,
            failure,
            patch: patch.take(),
            last: position + 1 == hooks.len(),
        };
        current = match host.call(call, op).await {
            Ok(reply) if reply.ok => {
                wire = reply.wire;
                Current::Value
            }
            Ok(_) => Current::JsError,
            Err(message) => {
                return (
                    Current::Failure(Failure::new(FailureKind::Host, message, false)),
                    None,
                )
            }
        };
    }
    (current, wire)
}

/// Runs the response hooks (already in reverse order) over what the request
/// side settled with.
pub async fn response_phase<H: Host>(
    host: &H,
    call: u32,
    hooks: &[u32],
    settled: Settled,
) -> Settled {
    let mut first = Some(settled);
    let mut ok = true;
    for &index in hooks {
        let op = HostOp::ResponseHook {
            index,
            settled: first.take().map(Box::new),
        };
        match host.call(call, op).await {
            Ok(reply) => ok = reply.ok,
            Err(message) => {
                return Settled {
                    outcome: Outcome::Failure(Failure::new(FailureKind::Host, message, false)),
                    patch: None,
                }
            }
        }
    }
    match first {
        // No hooks ran: the request side's result is the call's result.
        Some(settled) => settled,
        None => Settled {
            outcome: if ok {
                Outcome::JsValue
            } else {
                Outcome::JsError
            },
            patch: None,
        },
    }
}
