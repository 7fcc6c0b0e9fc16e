//! A policy written in JS (`{ name, sendRequest(request, next) }`), as a
//! step of the native chain. The JS side (`lib/policy-step.js`) runs
//! `sendRequest`; each time it calls `next(request)` the host call returns
//! with that request, the rest of the chain runs here, and its result goes
//! back to JS with the next host call; when `sendRequest` settles, the host
//! call returns without a request and its response (or error) is in the
//! call's JS slot. Its `next` calls are served one at a time.

use super::host::{Host, HostOp, PolicyRequestView};
use super::policies::{
    HeaderList, Next, Policy, PolicyFailure, PolicyFailureKind, PolicyFuture, PolicyRequest,
    PolicyResponse,
};
use super::policy_chain::{split, ChainState, Producer};
use super::types::Settled;
use std::sync::Arc;

pub(super) struct JsPolicy<H> {
    pub host: Arc<H>,
    pub call: u32,
    pub position: u32,
    pub state: Arc<ChainState>,
}

fn unreachable_js(message: String) -> PolicyFailure {
    PolicyFailure::new(PolicyFailureKind::Other, message)
}

impl<H: Host + 'static> Policy for JsPolicy<H> {
    fn name(&self) -> &str {
        "js"
    }

    fn send<'a>(&'a self, request: PolicyRequest, next: Next<'a>) -> PolicyFuture<'a> {
        Box::pin(async move {
            let view = PolicyRequestView {
                method: request.effective_method(),
                url: request.url.clone(),
                base_url: request.base_url.clone(),
                headers: request.headers.clone(),
            };
            let mut op = HostOp::Policy {
                position: self.position,
                request: Some(view),
                settled: None,
            };
            loop {
                let reply = self
                    .host
                    .call(self.call, op)
                    .await
                    .map_err(unreachable_js)?;
                if !reply.flag {
                    // sendRequest settled; what it gave is in the JS slot.
                    self.state.set_producer(Producer::Js);
                    return if reply.ok {
                        let mut response = PolicyResponse::new(reply.status.unwrap_or(200));
                        response.headers = HeaderList(reply.headers.unwrap_or_default());
                        Ok(response)
                    } else {
                        Err(PolicyFailure::new(
                            PolicyFailureKind::Js,
                            "a JS policy threw (the error is in the call's slot)",
                        ))
                    };
                }
                let Some(wire) = reply.wire else {
                    return Err(unreachable_js(
                        "a JS policy's next() gave no request".into(),
                    ));
                };
                // The request as the JS policy passed it to next(); the
                // parts it cannot change ride along as they were.
                let (mut asked, _) = split(wire);
                if matches!(asked.body, super::policies::PolicyBody::None) {
                    asked.body = request.body.clone();
                }
                let outcome = next.run(asked).await;
                op = HostOp::Policy {
                    position: self.position,
                    request: None,
                    settled: Some(Box::new(Settled {
                        outcome: self.state.settle(outcome),
                        patch: None,
                    })),
                };
            }
        })
    }
}
