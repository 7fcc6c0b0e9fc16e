//! A scripted terminal for the policies' unit tests: it answers each call
//! with the next scripted outcome, in order, and records every request it
//! got. This tests a policy's own logic; the exchange and real servers are
//! the integration tests' business.

use super::{
    Next, Policy, PolicyFailure, PolicyFailureKind, PolicyFuture, PolicyOutcome, PolicyRequest,
};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

pub struct Script {
    replies: Mutex<VecDeque<PolicyOutcome>>,
    requests: Mutex<Vec<PolicyRequest>>,
}

impl Script {
    pub fn new(replies: Vec<PolicyOutcome>) -> Script {
        Script {
            replies: Mutex::new(replies.into()),
            requests: Mutex::new(Vec::new()),
        }
    }

    fn answer(&self, request: PolicyRequest) -> PolicyOutcome {
        if let Ok(mut requests) = self.requests.lock() {
            requests.push(request);
        }
        let next = self.replies.lock().ok().and_then(|mut r| r.pop_front());
        next.unwrap_or_else(|| {
            Err(PolicyFailure::new(
                PolicyFailureKind::Other,
                "the script has no more replies",
            ))
        })
    }

    /// Runs `request` through `policies` (outermost first) to this script.
    pub async fn run(&self, policies: &[Arc<dyn Policy>], request: PolicyRequest) -> PolicyOutcome {
        let terminal = |request: PolicyRequest| -> PolicyFuture<'_> {
            let outcome = self.answer(request);
            Box::pin(async move { outcome })
        };
        Next::chain(policies, &terminal).run(request).await
    }

    /// The requests the terminal got, in order.
    pub fn requests(&self) -> Result<Vec<PolicyRequest>, String> {
        self.requests
            .lock()
            .map(|r| r.clone())
            .map_err(|_| "poisoned".to_string())
    }
}

/// One policy as a chain.
pub fn one(policy: impl Policy + 'static) -> Vec<Arc<dyn Policy>> {
    vec![Arc::new(policy)]
}
