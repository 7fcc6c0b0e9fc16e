//! `Engine`: one per factory instance. It owns the pooled HTTP client, the
//! host function, and the cancel handles of the calls under way.

use super::convert::{call_init_from_js, internal_failure, settled_to_js, CallInitJs, SettledJs};
use super::host::{to_js_args, HostArgs, HostReplyJs, JsHost, Pending};
use crate::engine::transport::Transport;
use crate::pipeline;
use futures::future::AbortHandle;
use futures::FutureExt;
use napi::bindgen_prelude::{Function, PromiseRaw};
use napi::Env;
use napi_derive::napi;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, MutexGuard};

struct Inner {
    transport: Transport,
    host: JsHost,
    calls: Mutex<HashMap<u32, AbortHandle>>,
}

impl Inner {
    /// A poisoned lock only means another call panicked while holding it;
    /// the map itself is still usable.
    fn calls(&self) -> MutexGuard<'_, HashMap<u32, AbortHandle>> {
        self.calls
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[napi]
pub struct Engine {
    inner: Arc<Inner>,
}

#[napi]
impl Engine {
    /// `host(callId, op, args, token)` takes the pipeline's questions to JS;
    /// JS answers each with `engine.reply(token, answer)`.
    #[napi(constructor)]
    pub fn new(host: Function<'_, HostArgs, ()>) -> napi::Result<Engine> {
        let function = host
            .build_threadsafe_function()
            .callee_handled::<false>()
            .weak::<true>()
            .build_callback(|ctx| Ok(to_js_args(ctx.value)))?;
        let transport = Transport::new().map_err(napi::Error::from_reason)?;
        Ok(Engine {
            inner: Arc::new(Inner {
                transport,
                host: JsHost {
                    function,
                    pending: Arc::new(Pending::default()),
                },
                calls: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// Runs a call through the pipeline; resolves with how it settled.
    #[napi(ts_return_type = "Promise<SettledJs>")]
    pub fn start<'env>(
        &self,
        env: &'env Env,
        call: u32,
        init: CallInitJs,
    ) -> napi::Result<PromiseRaw<'env, SettledJs>> {
        let init = call_init_from_js(init)
            .map_err(|message| napi::Error::new(napi::Status::InvalidArg, message))?;
        let (handle, registration) = AbortHandle::new_pair();
        self.inner.calls().insert(call, handle);
        let inner = self.inner.clone();
        env.spawn_future(async move {
            let run = pipeline::run(&inner.host, &inner.transport, call, init, registration);
            // A bug must never abort the user's process: a panic settles the call.
            let settled = AssertUnwindSafe(run)
                .catch_unwind()
                .await
                .unwrap_or_else(|_| {
                    internal_failure("internal error in balena-request-native (please report it)")
                });
            inner.calls().remove(&call);
            Ok(settled_to_js(settled))
        })
    }

    /// The JS host's answer to the question `token`.
    #[napi]
    pub fn reply(&self, token: u32, answer: HostReplyJs) {
        self.inner.host.pending.answer(token, answer);
    }

    /// Cancels the request side of a call (timeout, AbortSignal).
    #[napi]
    pub fn cancel(&self, call: u32) {
        if let Some(handle) = self.inner.calls().remove(&call) {
            handle.abort();
        }
    }
}
