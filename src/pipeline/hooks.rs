//! Stages 3 and 5: the user's interceptors, each attached like
//! `promise.then(hook, errorHook)`. JS runs the hooks on the call's slot, from
//! the snapshot of `request.interceptors` it takes when the phase starts (as
//! balena-request does), so a hook that removes itself or replaces the array
//! changes nothing for the phase under way. The pipeline asks for one hook
//! at a time and only learns whether the slot then holds a value or an
//! error, and whether another hook follows.

use super::host::{Host, HostOp, HostReply};
use super::types::{Failure, FailureKind, Outcome, Patch, Settled, Wire};
use super::Current;

/// Runs the request hooks; on success, also returns the wire request JS
/// built from the options the last hook produced.
pub async fn request_phase<H: Host>(
    host: &H,
    call: u32,
    mut current: Current,
    patch: Option<&Patch>,
) -> (Current, Option<Wire>) {
    let mut patch = patch.cloned();
    let mut position = 0;
    loop {
        // A native failure crosses into the JS slot with the first hook.
        let failure = match std::mem::replace(&mut current, Current::JsError) {
            Current::Failure(failure) => Some(failure),
            _ => None,
        };
        let op = HostOp::RequestHook {
            position,
            failure,
            patch: patch.take(),
        };
        let reply: HostReply = match host.call(call, op).await {
            Ok(reply) => reply,
            Err(message) => {
                return (
                    Current::Failure(Failure::new(FailureKind::Host, message, false)),
                    None,
                )
            }
        };
        current = if reply.ok {
            Current::Value
        } else {
            Current::JsError
        };
        // `flag`: another hook follows; otherwise `wire` is the request.
        if !reply.flag {
            return (current, reply.wire);
        }
        position += 1;
    }
}

/// Runs the response hooks (JS runs them in reverse array order) over what
/// the request side settled with.
pub async fn response_phase<H: Host>(host: &H, call: u32, settled: Settled) -> Settled {
    let mut first = Some(settled);
    let mut position = 0;
    loop {
        let op = HostOp::ResponseHook {
            position,
            settled: first.take().map(Box::new),
        };
        let reply = match host.call(call, op).await {
            Ok(reply) => reply,
            Err(message) => {
                return Settled {
                    outcome: Outcome::Failure(Failure::new(FailureKind::Host, message, false)),
                    patch: None,
                }
            }
        };
        if !reply.flag {
            return Settled {
                outcome: if reply.ok {
                    Outcome::JsValue
                } else {
                    Outcome::JsError
                },
                patch: None,
            };
        }
        position += 1;
    }
}
