//! The pipeline's `Host`, implemented with one threadsafe function that calls
//! the JS host (`lib/host.js`) as `host(callId, op, args, token)`. JS answers
//! later with the synchronous `engine.reply(token, { ok, flag, text, wire })`:
//! one wake-up of the JS thread and one plain call back, instead of the two
//! wake-ups and the callbacks a returned Promise would cost. The JS side never
//! throws back: it keeps any error in the call's slot, so no JS exception
//! ever has to cross into Rust.

use super::boundary::{PatchJs, SettledJs, WireJs};
use super::convert::{failure_to_js, patch_to_js, settled_to_js, wire_from_js, FailureJs};
use crate::pipeline::{Host, HostOp, HostReply};
use napi::bindgen_prelude::FnArgs;
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

pub type HostArgs = FnArgs<(u32, String, HostArgsJs, u32)>;
/// Weak: a pending host function never keeps Node's event loop alive (the
/// call's own promise does, while the call is under way).
pub type HostFn = ThreadsafeFunction<HostCall, (), HostArgs, Status, false, true>;

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
    pub function: HostFn,
    pub pending: Arc<Pending>,
}

/// Runs on the JS thread, right before the host function is called.
pub fn to_js_args(call: HostCall) -> HostArgs {
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
    FnArgs::from((call.call, name.to_string(), args, call.token))
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
        let status = self.function.call(
            HostCall { call, op, token },
            ThreadsafeFunctionCallMode::NonBlocking,
        );
        if status != Status::Ok {
            self.pending.waiting().remove(&token);
        }
        async move {
            if status != Status::Ok {
                return Err(format!("cannot reach JavaScript: {status}"));
            }
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
