//! The boundary to JavaScript as the pipeline sees it. The binding layer
//! implements it with a threadsafe function; tests implement it in Rust.

use super::policies::HeaderList;
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
    /// Apply `then(request, requestError)` of the hook at `position` of the
    /// request phase (JS snapshots the hooks at position 0; `failure`: the
    /// slot gets this error first; `patch`: the prepared options are
    /// materialised first). Reply `flag` if another hook follows, else the
    /// wire request (when the slot holds options).
    RequestHook {
        position: u32,
        failure: Option<Failure>,
        patch: Option<Patch>,
    },
    /// Apply `then(response, responseError)` of the hook at `position` of
    /// the response phase; `settled` (position 0 only) becomes the slot's
    /// content first. Reply `flag` if another hook follows.
    ResponseHook {
        position: u32,
        settled: Option<Box<Settled>>,
    },
    /// Run the JS policy at `position` of the pipeline, or go on with it:
    /// `request` (first step only) is the request as the policy gets it;
    /// `settled` is the result of the `next(request)` it asked for last.
    /// Reply `flag` with `wire` when it calls `next(request)` (again);
    /// otherwise it is done: `ok` with the `status` and `headers` of the
    /// response it resolved with (kept in the call's slot), or not `ok`
    /// (the error it threw is in the slot).
    Policy {
        position: u32,
        request: Option<PolicyRequestView>,
        settled: Option<Box<Settled>>,
    },
}

/// What a JS policy is shown of the request (its options object is the
/// call's options with these).
pub struct PolicyRequestView {
    pub method: String,
    pub url: String,
    pub base_url: Option<String>,
    pub headers: HeaderList,
}

/// `ok`: the slot holds a value (or the op succeeded); otherwise the slot
/// holds the error.
pub struct HostReply {
    pub ok: bool,
    pub flag: bool,
    pub text: Option<String>,
    pub wire: Option<Wire>,
    /// A JS policy's response: its status and headers.
    pub status: Option<u16>,
    pub headers: Option<Vec<(String, String)>>,
}

impl HostReply {
    pub fn ok() -> HostReply {
        HostReply {
            ok: true,
            flag: false,
            text: None,
            wire: None,
            status: None,
            headers: None,
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
