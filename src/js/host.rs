//! The pipeline's `Host`, implemented with one threadsafe function that calls
//! the JS host (`lib/host.js`) as `host(callId, op, args, token)`. JS answers
//! later with the synchronous `engine.reply(token, { ok, flag, text, wire })`:
//! one wake-up of the JS thread and one plain call back, instead of the two
//! wake-ups and the callbacks a returned Promise would cost. The JS side never
//! throws back: it keeps any error in the call's slot, so no JS exception
//! ever has to cross into Rust.

use super::batch_queue::{wake_after_round, BatchQueue};
use super::boundary::{ArrayWriter, PatchJs, SettledJs, WireJs};
use super::convert::{failure_to_js, patch_to_js, settled_to_js, wire_from_js, FailureJs};
use crate::pipeline::{Host, HostOp, HostReply};
use napi::bindgen_prelude::ToNapiValue;
use napi::sys;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;
use napi_derive::napi;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::oneshot;

#[napi(object, object_from_js = false)]
pub struct HostArgsJs {
    pub position: Option<u32>,
    pub base_url: Option<String>,
    pub check_refresh: Option<bool>,
    pub failure: Option<FailureJs>,
    pub patch: Option<PatchJs>,
    pub settled: Option<SettledJs>,
    pub request: Option<PolicyRequestJs>,
}

/// What a JS policy is shown of the request.
#[napi(object, object_from_js = false)]
pub struct PolicyRequestJs {
    pub method: String,
    pub url: String,
    pub base_url: Option<String>,
    /// `[name, value, name, value, ...]`
    pub headers: Vec<String>,
}

#[napi(object, object_to_js = false)]
pub struct HostReplyJs {
    pub ok: bool,
    pub flag: Option<bool>,
    pub text: Option<String>,
    pub wire: Option<WireJs>,
    /// A JS policy's response status and `[name, value, ...]` headers.
    pub status: Option<u32>,
    pub headers: Option<Vec<String>>,
}

/// One call from the pipeline into JS, converted on the JS thread.
pub struct HostCall {
    pub call: u32,
    pub op: HostOp,
    pub token: u32,
}

/// Weak: a pending host function never keeps Node's event loop alive (the
/// call's own promise does, while the call is under way).
pub type HostFn = ThreadsafeFunction<(), (), HostBatch, Status, false, true>;

/// Questions handed to JS in one wake-up (`batch_queue.rs`), as one flat
/// array `[callId, op, args, token, ...]` (`lib/dispatch.js`).
pub struct HostBatch(pub Vec<HostCall>);

impl ToNapiValue for HostBatch {
    unsafe fn to_napi_value(env: sys::napi_env, batch: Self) -> napi::Result<sys::napi_value> {
        // SAFETY: napi-rs calls this on the JS thread, in the threadsafe
        // function's callback, with its env.
        let mut array = unsafe { ArrayWriter::new(env, batch.0.len() * 4) }?;
        for question in batch.0 {
            let (call, op, args, token) = to_js_parts(question);
            array.push(call)?;
            array.push(op)?;
            array.push(args)?;
            array.push(token)?;
        }
        Ok(array.finish())
    }
}

/// Questions sent to JS and not answered yet, by token.
#[derive(Default)]
pub struct Pending {
    next: AtomicU32,
    waiting: Mutex<HashMap<u32, oneshot::Sender<HostReplyJs>>>,
}

impl Pending {
    fn waiting(&self) -> MutexGuard<'_, HashMap<u32, oneshot::Sender<HostReplyJs>>> {
        self.waiting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Delivers JS's answer; unknown tokens (answered twice) are ignored.
    pub fn answer(&self, token: u32, reply: HostReplyJs) {
        if let Some(sender) = self.waiting().remove(&token) {
            let _ = sender.send(reply);
        }
    }
}

pub struct JsHost {
    pub function: Arc<HostFn>,
    /// Questions not handed to JS yet.
    pub questions: Arc<BatchQueue<HostCall>>,
    pub pending: Arc<Pending>,
}

/// Runs on the JS thread, right before the host function is called.
fn to_js_parts(call: HostCall) -> (u32, &'static str, HostArgsJs, u32) {
    let mut args = HostArgsJs {
        position: None,
        base_url: None,
        check_refresh: None,
        failure: None,
        patch: None,
        settled: None,
        request: None,
    };
    let name = match call.op {
        HostOp::Authorize { check_refresh } => {
            args.check_refresh = Some(check_refresh);
            "authorize"
        }
        HostOp::RefreshToken { base_url } => {
            args.base_url = Some(base_url);
            "refreshToken"
        }
        HostOp::IsExpired => "isExpired",
        HostOp::ExpiredToken => "expiredToken",
        HostOp::RequestHook {
            position,
            failure,
            patch,
        } => {
            args.position = Some(position);
            args.failure = failure.map(failure_to_js);
            args.patch = patch.map(patch_to_js);
            "requestHook"
        }
        HostOp::ResponseHook { position, settled } => {
            args.position = Some(position);
            args.settled = settled.map(|settled| settled_to_js(*settled));
            "responseHook"
        }
        HostOp::Policy {
            position,
            request,
            settled,
        } => {
            args.position = Some(position);
            args.settled = settled.map(|settled| settled_to_js(*settled));
            args.request = request.map(|view| PolicyRequestJs {
                method: view.method,
                url: view.url,
                base_url: view.base_url,
                headers: view
                    .headers
                    .0
                    .into_iter()
                    .flat_map(|(name, value)| [name, value])
                    .collect(),
            });
            "policy"
        }
    };
    (call.call, name, args, call.token)
}

impl Host for JsHost {
    fn call(
        &self,
        call: u32,
        op: HostOp,
    ) -> impl Future<Output = Result<HostReply, String>> + Send {
        let token = self.pending.next.fetch_add(1, Ordering::Relaxed);
        let (sender, receiver) = oneshot::channel();
        self.pending.waiting().insert(token, sender);
        if self.questions.push(HostCall { call, op, token }) {
            let function = self.function.clone();
            let questions = self.questions.clone();
            let pending = self.pending.clone();
            wake_after_round(move || {
                let status = function.call((), ThreadsafeFunctionCallMode::NonBlocking);
                if status != Status::Ok {
                    // JS cannot be reached (Node is closing): the questions
                    // queued fail ("JavaScript did not answer").
                    for question in questions.take() {
                        pending.waiting().remove(&question.token);
                    }
                }
            });
        }
        async move {
            let reply = receiver
                .await
                .map_err(|_| "JavaScript did not answer".to_string())?;
            let wire = match reply.wire {
                Some(wire) => Some(wire_from_js(wire)?),
                None => None,
            };
            let headers = reply.headers.map(|flat| {
                flat.chunks_exact(2)
                    .map(|pair| (pair[0].clone(), pair[1].clone()))
                    .collect()
            });
            Ok(HostReply {
                ok: reply.ok,
                flag: reply.flag.unwrap_or(false),
                text: reply.text,
                wire,
                status: reply.status.and_then(|s| u16::try_from(s).ok()),
                headers,
            })
        }
    }
}
