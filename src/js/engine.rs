//! `Engine`: one per factory instance. It owns the pooled HTTP client, the
//! host function, the function that settles calls, and the cancel handles
//! of the calls under way.
//!
//! Calls settle through one long-lived threadsafe function (`settle(callId,
//! settled)`) rather than one Promise each: napi-rs makes a threadsafe
//! function, with its own libuv handle, for every Promise it resolves from
//! another thread, while a shared one lets libuv coalesce the completions of
//! many calls into one wake-up of the JS thread. It keeps Node's event loop
//! alive only while calls are under way (`busy()` / `idle()` from JS).

use super::convert::{call_init_from_js, internal_failure, settled_to_js, CallInitJs, SettledJs};
use super::host::{to_js_args, HostArgs, HostReplyJs, JsHost, Pending};
use crate::engine::transport::Transport;
use crate::pipeline::{self, Settled};
use futures::future::AbortHandle;
use futures::FutureExt;
use napi::bindgen_prelude::{spawn, FnArgs, Function};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, Status};
use napi_derive::napi;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, MutexGuard};

pub type SettleArgs = FnArgs<(u32, SettledJs)>;
/// Created weak (unref'd); `busy()` refs it while calls are under way.
type SettleFn = ThreadsafeFunction<(u32, Settled), (), SettleArgs, Status, false, true>;

struct Inner {
    transport: Transport,
    host: JsHost,
    calls: Mutex<HashMap<u32, AbortHandle>>,
    settle: Mutex<SettleFn>,
}

/// A poisoned lock only means another call panicked while holding it; what
/// it guards is still usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Inner {
    fn calls(&self) -> MutexGuard<'_, HashMap<u32, AbortHandle>> {
        lock(&self.calls)
    }
}

#[napi]
pub struct Engine {
    inner: Arc<Inner>,
}

#[napi]
impl Engine {
    /// `host(callId, op, args, token)` takes the pipeline's questions to JS;
    /// JS answers each with `engine.reply(token, answer)`. `settle(callId,
    /// settled)` receives each call's end. Neither may throw.
    #[napi(constructor)]
    pub fn new(
        host: Function<'_, HostArgs, ()>,
        settle: Function<'_, SettleArgs, ()>,
    ) -> napi::Result<Engine> {
        let function = host
            .build_threadsafe_function()
            .callee_handled::<false>()
            .weak::<true>()
            .build_callback(|ctx| Ok(to_js_args(ctx.value)))?;
        let settle = settle
            .build_threadsafe_function()
            .callee_handled::<false>()
            .weak::<true>()
            .build_callback(|ctx| {
                let (call, settled) = ctx.value;
                Ok(FnArgs::from((call, settled_to_js(settled))))
            })?;
        let transport = Transport::new().map_err(napi::Error::from_reason)?;
        Ok(Engine {
            inner: Arc::new(Inner {
                transport,
                host: JsHost {
                    function,
                    pending: Arc::new(Pending::default()),
                },
                calls: Mutex::new(HashMap::new()),
                settle: Mutex::new(settle),
            }),
        })
    }

    /// Runs a call through the pipeline; `settle(call, ...)` gets its end.
    #[napi]
    pub fn start(&self, call: u32, init: CallInitJs) -> napi::Result<()> {
        let init = call_init_from_js(init)
            .map_err(|message| napi::Error::new(napi::Status::InvalidArg, message))?;
        let (handle, registration) = AbortHandle::new_pair();
        self.inner.calls().insert(call, handle);
        let inner = self.inner.clone();
        spawn(async move {
            let run = pipeline::run(&inner.host, &inner.transport, call, init, registration);
            // A bug must never abort the user's process: a panic settles the call.
            let settled = AssertUnwindSafe(run)
                .catch_unwind()
                .await
                .unwrap_or_else(|_| {
                    internal_failure("internal error in balena-request-native (please report it)")
                });
            inner.calls().remove(&call);
            // Fails only while Node tears the environment down: nobody waits then.
            let _ =
                lock(&inner.settle).call((call, settled), ThreadsafeFunctionCallMode::NonBlocking);
        });
        Ok(())
    }

    /// Calls are under way: keep Node's event loop alive until `idle()`.
    #[napi]
    #[allow(deprecated)] // refer/unref are the N-API calls for exactly this
    pub fn busy(&self, env: Env) -> napi::Result<()> {
        lock(&self.inner.settle).refer(&env)
    }

    /// No call is under way: let Node exit when it has nothing else to do.
    #[napi]
    #[allow(deprecated)]
    pub fn idle(&self, env: Env) -> napi::Result<()> {
        lock(&self.inner.settle).unref(&env)
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
