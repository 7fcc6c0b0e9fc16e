//! `Engine`: one per factory instance. It owns the pooled HTTP client, the
//! host function, the cancel handles of the calls under way, and the queue
//! through which finished calls are settled (`completions.rs`).
//!
//! JS hands over the calls it started in one tick together
//! (`startBatch`), and learns of finished calls in batches through the
//! `settle` function; `lib/dispatch.js` is the JS half of this.

use super::batch_queue::wake_after_round;
use super::batch_queue::BatchQueue;
use super::boundary::CallInitJs;
use super::completions::{Completions, SettledBatch};
use super::convert::{call_init_from_js, internal_failure};
use super::host::{HostBatch, HostCall, HostReplyJs, JsHost, Pending};
use super::policies::{build_policies, NativePolicyJs};
use crate::engine::transport::Transport;
use crate::pipeline::{self, CallInit, Failure, FailureKind, Outcome, Policies, Settled};
use futures::future::{AbortHandle, AbortRegistration};
use futures::FutureExt;
use napi::bindgen_prelude::{Array, Function};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, Status};
use napi_derive::napi;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, MutexGuard};

/// Weak: it keeps Node's event loop alive only while `hold()` says calls
/// are under way.
type SettleFn = ThreadsafeFunction<(), (), SettledBatch, Status, false, true>;

struct Inner {
    transport: Arc<Transport>,
    /// The pipeline's native policies; each call takes the list current
    /// when it starts.
    policies: Mutex<Policies>,
    host: Arc<JsHost>,
    calls: Mutex<HashMap<u32, AbortHandle>>,
    completions: Arc<Completions>,
    settle: SettleFn,
}

impl Inner {
    /// A poisoned lock only means another call panicked while holding it;
    /// the map itself is still usable.
    fn calls(&self) -> MutexGuard<'_, HashMap<u32, AbortHandle>> {
        self.calls
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn policies(&self) -> MutexGuard<'_, Policies> {
        self.policies
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queues a finished call; the calls finishing in the same round of
    /// the runtime settle together (`batch_queue.rs`).
    fn finish(self: &Arc<Self>, call: u32, settled: Settled) {
        if self.completions.push((call, settled)) {
            let inner = self.clone();
            wake_after_round(move || {
                // Fails only while Node shuts down, when nobody waits any more.
                let _ = inner
                    .settle
                    .call((), ThreadsafeFunctionCallMode::NonBlocking);
            });
        }
    }

    async fn run(self: Arc<Self>, call: u32, init: CallInit, registration: AbortRegistration) {
        let run = pipeline::run(
            &self.host,
            self.transport.as_ref(),
            call,
            init,
            registration,
        );
        // A bug must never abort the user's process: a panic settles the call.
        let settled = AssertUnwindSafe(run)
            .catch_unwind()
            .await
            .unwrap_or_else(|_| {
                internal_failure("internal error in balena-request-native (please report it)")
            });
        self.calls().remove(&call);
        self.finish(call, settled);
    }
}

#[napi]
pub struct Engine {
    inner: Arc<Inner>,
}

#[napi]
impl Engine {
    /// `host(callId, op, args, token)` takes the pipeline's questions to JS;
    /// JS answers each with `engine.reply(token, answer)`. `settle(batch)`
    /// receives finished calls as `[callId, settled, ...]`.
    #[napi(constructor)]
    /// `pool`: another engine whose connections this one shares
    /// (`request.clone()`).
    pub fn new(
        host: Function<'_, HostBatch, ()>,
        settle: Function<'_, SettledBatch, ()>,
        pool: Option<&Engine>,
    ) -> napi::Result<Engine> {
        let questions = Arc::new(BatchQueue::<HostCall>::default());
        let asked = questions.clone();
        let function = host
            .build_threadsafe_function()
            .callee_handled::<false>()
            .weak::<true>()
            .build_callback(move |_| Ok(HostBatch(asked.take())))?;
        let completions = Arc::new(Completions::default());
        let queue = completions.clone();
        let settle = settle
            .build_threadsafe_function()
            .callee_handled::<false>()
            .weak::<true>()
            .build_callback(move |_| Ok(SettledBatch(queue.take())))?;
        let transport = match pool {
            Some(engine) => engine.inner.transport.clone(),
            None => Arc::new(Transport::new().map_err(napi::Error::from_reason)?),
        };
        Ok(Engine {
            inner: Arc::new(Inner {
                transport,
                host: Arc::new(JsHost {
                    function: Arc::new(function),
                    questions,
                    pending: Arc::new(Pending::default()),
                }),
                calls: Mutex::new(HashMap::new()),
                policies: Mutex::new(Arc::new([])),
                completions,
                settle,
            }),
        })
    }

    /// Starts calls: `[callId, init, callId, init, ...]`, the calls JS
    /// started in one tick, of which `cancelled` were cancelled before they
    /// got here (they settle as cancelled without sending a byte). Each
    /// settles through `settle`, a call whose init cannot be read included.
    #[napi(ts_args_type = "starts: Array<number | CallInitJs>, cancelled?: number[]")]
    pub fn start_batch(&self, starts: Array, cancelled: Option<Vec<u32>>) -> napi::Result<()> {
        // The ids first: a batch with a bad one is refused whole, before
        // any call is registered (JS then settles them all).
        let ids = (0..starts.len())
            .step_by(2)
            .map(|index| starts.get::<u32>(index).map(Option::unwrap_or_default))
            .collect::<napi::Result<Vec<u32>>>()?;
        let policies = self.inner.policies().clone();
        let mut runs = Vec::with_capacity(ids.len());
        for (call, index) in ids.into_iter().zip((0..starts.len()).step_by(2)) {
            let init = starts
                .get::<CallInitJs>(index + 1)
                .map_err(|e| e.reason)
                .and_then(|init| init.ok_or_else(|| "the call has no init".to_string()))
                .and_then(call_init_from_js);
            match init {
                Ok(mut init) => {
                    init.policies = policies.clone();
                    let (handle, registration) = AbortHandle::new_pair();
                    self.inner.calls().insert(call, handle);
                    runs.push((call, init, registration));
                }
                Err(message) => self.inner.finish(
                    call,
                    Settled {
                        outcome: Outcome::Failure(Failure::new(
                            FailureKind::InvalidRequest,
                            message,
                            false,
                        )),
                        patch: None,
                    },
                ),
            }
        }
        for call in cancelled.unwrap_or_default() {
            self.cancel(call);
        }
        // One task hands the batch to the runtime: one wake-up of the
        // engine's thread, however many calls started.
        let inner = self.inner.clone();
        napi::bindgen_prelude::spawn(async move {
            for (call, init, registration) in runs {
                tokio::spawn(inner.clone().run(call, init, registration));
            }
            // The runtime runs the task spawned last first (its LIFO slot);
            // an empty one takes that place, so that the calls start in
            // the order JS started them (a `concurrency` queue is FIFO).
            // Spawning each call from the JS thread instead (the shared
            // queue is FIFO) measured ~1 µs per request slower at c64; the
            // runtime's `disable_lifo_slot` is not in stable tokio.
            tokio::spawn(async {});
        });
        Ok(())
    }

    /// The pipeline's native policies, outermost first (`lib/pipeline.js`
    /// calls it whenever the pipeline changes); `loggers[i]` is the
    /// `logger` function of `policies[i]`, if any.
    #[napi(
        ts_args_type = "policies: Array<[string, string]>, loggers: Array<Function | undefined>"
    )]
    pub fn set_policies(&self, policies: Vec<NativePolicyJs>, loggers: Array) -> napi::Result<()> {
        let built = build_policies(policies, loggers)?;
        *self.inner.policies() = built.into();
        Ok(())
    }

    /// Keeps Node's event loop alive (`true`, calls under way) or lets it
    /// end (`false`, none left); JS calls it on each change.
    #[napi]
    pub fn hold(&self, env: Env, busy: bool) -> napi::Result<()> {
        let tsfn = self.inner.settle.raw();
        // SAFETY: called on the JS thread with its env; the threadsafe
        // function lives as long as `inner`, which `self` holds.
        let status = unsafe {
            if busy {
                napi::sys::napi_ref_threadsafe_function(env.raw(), tsfn)
            } else {
                napi::sys::napi_unref_threadsafe_function(env.raw(), tsfn)
            }
        };
        napi::check_status!(status)
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
