//! The boundary to JavaScript as the pipeline sees it. The binding layer
//! implements it with a threadsafe function; tests implement it in Rust.

use super::types::{Failure, Patch, Settled, Wire};
use std::future::Future;

pub enum HostOp {
    /// `check_refresh`: first ask `utils.shouldRefreshKey(auth)`; if it says
    /// yes, reply `flag: true` and nothing else. Otherwise reply the
    /// Authorization header value (`text`), if a token is to be sent.
    Authorize { check_refresh: bool },
    /// `refreshToken({ baseUrl })`.
    RefreshToken { base_url: String },
    /// `auth.isExpired()` in `flag`.
    IsExpired,
    /// Put `BalenaExpiredToken(await auth.getKey())` in the call's slot.
    ExpiredToken,
    /// Apply `then(request, requestError)` of interceptor `index` to the slot
    /// (`failure`: the slot gets this error first; `patch`: the first hook
    /// materialises the prepared options). `last`: reply the wire request.
    RequestHook {
        index: u32,
        failure: Option<Failure>,
        patch: Option<Patch>,
        last: bool,
    },
    /// Apply `then(response, responseError)` of interceptor `index`;
    /// `settled` (first response hook only) becomes the slot's content.
    ResponseHook {
        index: u32,
        settled: Option<Box<Settled>>,
    },
}

/// `ok`: the slot holds a value (or the op succeeded); otherwise the slot
/// holds the error.
pub struct HostReply {
    pub ok: bool,
    pub flag: bool,
    pub text: Option<String>,
    pub wire: Option<Wire>,
}

impl HostReply {
    pub fn ok() -> HostReply {
        HostReply {
            ok: true,
            flag: false,
            text: None,
            wire: None,
        }
    }

    pub fn error() -> HostReply {
        HostReply {
            ok: false,
            ..HostReply::ok()
        }
    }
}

pub trait Host: Send + Sync {
    /// An `Err` means JS could not be reached (the environment is closing).
    fn call(&self, call: u32, op: HostOp)
        -> impl Future<Output = Result<HostReply, String>> + Send;
}
