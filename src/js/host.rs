//! The pipeline's `Host`, implemented with one threadsafe function that calls
//! the JS host (`lib/host.js`) as `host(callId, op, args)`. The JS side never
//! throws back: it answers `{ ok, flag, text, wire }` and keeps any error in
//! the call's slot, so no JS exception ever has to cross into Rust.

use super::convert::{
    failure_to_js, patch_to_js, settled_to_js, FailureJs, PatchJs, SettledJs, WireJs,
};
use crate::pipeline::{Host, HostOp, HostReply, Wire};
use napi::bindgen_prelude::{FnArgs, Promise};
use napi::threadsafe_function::ThreadsafeFunction;
use napi::Status;
use napi_derive::napi;
use std::future::Future;

#[napi(object, object_from_js = false)]
pub struct HostArgsJs {
    pub index: Option<u32>,
    pub base_url: Option<String>,
    pub check_refresh: Option<bool>,
    pub last: Option<bool>,
    pub failure: Option<FailureJs>,
    pub patch: Option<PatchJs>,
    pub settled: Option<SettledJs>,
}

#[napi(object, object_to_js = false)]
pub struct HostReplyJs {
    pub ok: bool,
    pub flag: Option<bool>,
    pub text: Option<String>,
    pub wire: Option<WireJs>,
}

/// One call from the pipeline into JS, converted on the JS thread.
pub struct HostCall {
    pub call: u32,
    pub op: HostOp,
}

pub type HostArgs = FnArgs<(u32, String, HostArgsJs)>;
/// Weak: a pending host function never keeps Node's event loop alive.
pub type HostFn = ThreadsafeFunction<HostCall, Promise<HostReplyJs>, HostArgs, Status, false, true>;

pub struct JsHost {
    pub function: HostFn,
}

/// Runs on the JS thread, right before the host function is called.
pub fn to_js_args(call: HostCall) -> HostArgs {
    let mut args = HostArgsJs {
        index: None,
        base_url: None,
        check_refresh: None,
        last: None,
        failure: None,
        patch: None,
        settled: None,
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
            index,
            failure,
            patch,
            last,
        } => {
            args.index = Some(index);
            args.failure = failure.map(failure_to_js);
            args.patch = patch.map(patch_to_js);
            args.last = Some(last);
            "requestHook"
        }
        HostOp::ResponseHook { index, settled } => {
            args.index = Some(index);
            args.settled = settled.map(settled_to_js);
            "responseHook"
        }
    };
    FnArgs::from((call.call, name.to_string(), args))
}

impl Host for JsHost {
    fn call(
        &self,
        call: u32,
        op: HostOp,
    ) -> impl Future<Output = Result<HostReply, String>> + Send {
        let pending = self.function.call_async_catch(HostCall { call, op });
        async move {
            let promise = pending
                .await
                .map_err(|e| format!("cannot reach JavaScript: {e}"))?;
            let reply = promise
                .await
                .map_err(|e| format!("JavaScript host failed: {e}"))?;
            let wire = match reply.wire {
                Some(wire) => Some(Wire::try_from(wire)?),
                None => None,
            };
            Ok(HostReply {
                ok: reply.ok,
                flag: reply.flag.unwrap_or(false),
                text: reply.text,
                wire,
            })
        }
    }
}
