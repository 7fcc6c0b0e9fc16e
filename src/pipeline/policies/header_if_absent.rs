//! The policy behind `basicAuth` and `userAgent`: one header with a value
//! fixed when the policy is made, added to requests that lack it (a value
//! the caller, the auth stage or an inner policy set wins).

use super::{Next, Policy, PolicyFuture, PolicyRequest};

pub struct HeaderIfAbsent {
    /// The factory's name, which the pipeline orders and removes it by.
    pub policy: &'static str,
    pub header: &'static str,
    pub value: String,
}

impl Policy for HeaderIfAbsent {
    fn name(&self) -> &str {
        self.policy
    }

    fn send<'a>(&'a self, mut request: PolicyRequest, next: Next<'a>) -> PolicyFuture<'a> {
        request
            .headers
            .set_if_absent(self.header, self.value.clone());
        next.run(request)
    }
}
