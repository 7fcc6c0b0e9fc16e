//! The binding of the policy pipeline (`lib/pipeline.js`,
//! `lib/policies.js`): checking a policy's options when its factory is
//! called, Azure's ordering, and the native policies an engine runs.

use super::boundary::js_record;
use crate::pipeline::policies::log::LogSink;
use crate::pipeline::policies::order::{order, Entry};
use crate::pipeline::policies::registry;
use crate::pipeline::Step;
use napi::bindgen_prelude::{Array, Function};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;
use napi_derive::napi;
use serde_json::Value;
use std::sync::Arc;

js_record! { from_js
    /// One `addPolicy` as `lib/pipeline.js` keeps it.
    pub struct OrderEntryJs {
        name: String,
        phase: Option<String>,
        after_phase: Option<String>,
        before_policies: Vec<String>,
        after_policies: Vec<String>,
    }
}

js_record! { from_js
    /// A policy of the pipeline: for a native one, its factory's name and
    /// its options as JSON (functions left out); for a JS one, its name
    /// and no options.
    pub struct NativePolicyJs {
        name: String,
        options: Option<String>,
    }
}

/// The indices of `entries` in Azure's order, outermost first; throws the
/// ordering error (a duplicate name, a cycle, a bad phase).
#[napi(ts_args_type = "entries: Array<[string, string?, string?, string[], string[]]>")]
pub fn order_policies(entries: Vec<OrderEntryJs>) -> napi::Result<Vec<u32>> {
    let entries = entries
        .into_iter()
        .map(|e| {
            Entry::from_options(
                &e.name,
                e.phase.as_deref(),
                e.after_phase.as_deref(),
                e.before_policies,
                e.after_policies,
            )
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| napi::Error::from_reason(e.to_string()))?;
    let placed = order(&entries).map_err(|e| napi::Error::from_reason(e.to_string()))?;
    Ok(placed.into_iter().map(|i| i as u32).collect())
}

fn options_of(name: &str, options: &str) -> napi::Result<Value> {
    serde_json::from_str(options)
        .map_err(|e| napi::Error::from_reason(format!("{name}: options: {e}")))
}

/// Builds the policy once to check its options; throws what is wrong.
#[napi(ts_args_type = "policy: [string, string]")]
pub fn check_policy(policy: NativePolicyJs) -> napi::Result<()> {
    let options = policy.options.as_deref().unwrap_or("{}");
    registry::build(&policy.name, &options_of(&policy.name, options)?, None)
        .map(|_| ())
        .map_err(napi::Error::from_reason)
}

/// A `log` policy's JS `logger`, called with each record (as JSON text,
/// which `lib/policies.js` parses) without waiting for it.
struct JsLogger(ThreadsafeFunction<String, (), String, Status, false, true>);

impl LogSink for JsLogger {
    fn write(&self, record: &str) {
        let _ = self
            .0
            .call(record.to_string(), ThreadsafeFunctionCallMode::NonBlocking);
    }
}

/// The steps of a pipeline, outermost first, with the `logger` of each
/// (`undefined` for none) at the same index of `loggers`. A JS policy's
/// step is known to JS by its index.
pub fn build_policies(policies: Vec<NativePolicyJs>, loggers: Array) -> napi::Result<Vec<Step>> {
    let mut built = Vec::with_capacity(policies.len());
    for (index, policy) in policies.iter().enumerate() {
        let Some(options) = policy.options.as_deref() else {
            built.push(Step::Js(index as u32));
            continue;
        };
        let logger = loggers
            .get::<Option<Function<'_, String, ()>>>(index as u32)?
            .flatten();
        let sink: Option<Arc<dyn LogSink>> = match logger {
            Some(function) => Some(Arc::new(JsLogger(
                function
                    .build_threadsafe_function()
                    .callee_handled::<false>()
                    .weak::<true>()
                    .build_callback(|ctx| Ok(ctx.value))?,
            ))),
            None => None,
        };
        built.push(Step::Native(
            registry::build(&policy.name, &options_of(&policy.name, options)?, sink)
                .map_err(napi::Error::from_reason)?,
        ));
    }
    Ok(built)
}
