//! The records a call's hot path carries across N-API, each defined once,
//! with names.
//!
//! They cross as JS arrays: reading an element through N-API costs a
//! fraction of reading a named property, and V8 builds an array literal
//! faster than an object with many keys. Positions are nobody's business
//! but this file's: `js_record!` declares a plain Rust struct, its
//! conversion from (or to) a JS array in field order, and the list of its
//! field names, which `boundaryLayout()` hands to JS at load time. JS
//! (`lib/boundary.js`) turns the list into named indices, so that a reader
//! follows `wire[WIRE.baseUrl]` in `lib/wire.js` to `WireJs::base_url`
//! here. A record may have any number of fields (napi-rs's own tuples stop
//! at 16).

use super::download::NativeDownload;
use napi::bindgen_prelude::{Buffer, Either, ToNapiValue};
use napi_derive::napi;
use std::collections::HashMap;

/// Declares a boundary record. `from_js` records are read from a JS array
/// (JS builds them), `to_js` records are written as one (Rust builds them).
macro_rules! js_record {
    (from_js $(#[$meta:meta])* pub struct $name:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty,)* }) => {
        js_record!(@struct $(#[$meta])* $name { $($(#[$fmeta])* $field : $ty,)* });

        impl ::napi::bindgen_prelude::FromNapiValue for $name {
            unsafe fn from_napi_value(
                env: ::napi::sys::napi_env,
                value: ::napi::sys::napi_value,
            ) -> ::napi::Result<Self> {
                // SAFETY: `env` and `value` come from napi-rs for this call.
                let array = unsafe { <::napi::bindgen_prelude::Array as ::napi::bindgen_prelude::FromNapiValue>::from_napi_value(env, value) }?;
                if array.len() < Self::FIELDS.len() as u32 {
                    return Err(::napi::Error::new(
                        ::napi::Status::InvalidArg,
                        format!(
                            "{}: expected {} elements, got {}",
                            stringify!($name),
                            Self::FIELDS.len(),
                            array.len()
                        ),
                    ));
                }
                let mut index = 0u32;
                $(
                    let $field = array
                        .get::<$ty>(index)
                        .map_err(|e| ::napi::Error::new(
                            e.status,
                            format!("{}.{}: {}", stringify!($name), stringify!($field), e.reason),
                        ))?
                        .ok_or_else(|| ::napi::Error::new(
                            ::napi::Status::InvalidArg,
                            format!("{}.{} is missing", stringify!($name), stringify!($field)),
                        ))?;
                    index += 1;
                )*
                let _ = index;
                Ok($name { $($field,)* })
            }
        }
    };
    (to_js $(#[$meta:meta])* pub struct $name:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty,)* }) => {
        js_record!(@struct $(#[$meta])* $name { $($(#[$fmeta])* $field : $ty,)* });

        impl ::napi::bindgen_prelude::ToNapiValue for $name {
            unsafe fn to_napi_value(env: ::napi::sys::napi_env, record: Self) -> ::napi::Result<::napi::sys::napi_value> {
                // SAFETY: napi-rs calls this on the JS thread with its env.
                let mut array = unsafe { $crate::js::boundary::ArrayWriter::new(env, Self::FIELDS.len()) }?;
                $( array.push(record.$field)?; )*
                Ok(array.finish())
            }
        }
    };
    (@struct $(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty,)* }) => {
        $(#[$meta])*
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)*
        }

        impl $name {
            /// The fields, in array order.
            pub const FIELDS: &'static [&'static str] = &[$(stringify!($field)),*];
        }
    };
}

pub(super) use js_record;

js_record! { from_js
    /// What `index.js` hands over when a call starts.
    pub struct CallInitJs {
        stream: bool,
        /// The options' `url` after defaults.
        url: Option<String>,
        base_url: Option<String>,
        api_key: Option<String>,
        send_token: bool,
        refresh_token: bool,
        has_auth: bool,
        /// The caller's own `responseFormat`.
        response_format: Option<String>,
        has_request_hooks: bool,
        has_response_hooks: bool,
        /// The request, when no request hook will change the options.
        wire: Option<WireJs>,
    }
}

js_record! { from_js
    /// A request as `lib/wire.js` builds it from an options object.
    pub struct WireJs {
        url: String,
        base_url: Option<String>,
        /// `JSON.stringify(qs)`, serialised with qs's rules here.
        qs_json: Option<String>,
        method: String,
        /// `[name, value, name, value, ...]`
        headers: Vec<String>,
        body: Option<Either<String, Buffer>>,
        /// A body holding files, sent as multipart.
        form: Option<Vec<FormPartJs>>,
        follow_redirect: bool,
        decompress: bool,
        retries: u32,
        max_response_size: Option<f64>,
        /// The id of a `NativeUpload`: a streamed body, instead of `body`.
        upload: Option<u32>,
        /// Set by `forward()`: the reply comes back as it came.
        pass_through: Option<bool>,
        /// The id of a `NativeReceivedBytes` (`onDownloadProgress`).
        download_progress: Option<u32>,
        /// stream()'s `resume` attempts.
        resume_attempts: u32,
        /// stream()'s `idleTimeout` in ms.
        idle_timeout: Option<f64>,
    }
}

/// One part of a multipart body (few, and only with files: an object).
#[napi(object, object_to_js = false)]
pub struct FormPartJs {
    pub name: String,
    pub value: Option<String>,
    pub data: Option<Buffer>,
    pub filename: Option<String>,
    pub content_type: Option<String>,
}

js_record! { to_js
    /// What preparation changed in the options, for JS to show.
    pub struct PatchJs {
        url: Option<String>,
        drop_base_url: bool,
        authorization: Option<String>,
    }
}

js_record! { to_js
    /// A response as `lib/call.js` reads it.
    pub struct ResponseJs {
        status: u32,
        /// `[name, value, name, value, ...]`
        headers: Vec<String>,
        request_url: String,
        url: String,
        duration: f64,
        /// The body format: "json", "text", "blob" or "none".
        format: &'static str,
        /// The body of the json and text formats.
        text: Option<String>,
        /// The body of the blob format.
        data: Option<Buffer>,
        /// The `BalenaRequestError` message of an error status.
        error_text: Option<String>,
        /// Whether that message is the whole body instead.
        error_uses_body: bool,
        /// stream()'s body.
        download: Option<NativeDownload>,
        /// The status from which the response is an error (`errorCode`).
        error_from: u32,
        /// The wait the server asked for, when a `retry` policy gave up on it.
        retry_after_ms: Option<f64>,
        /// "form": decode the body as urlencoded (a `mime` policy decided).
        decode: Option<&'static str>,
    }
}

js_record! { to_js
    /// How a call (or its request side) settled. `kind`: 0 response, 1
    /// failure, 2 value in the JS slot, 3 error in the JS slot.
    pub struct SettledJs {
        kind: u32,
        response: Option<ResponseJs>,
        failure: Option<super::convert::FailureJs>,
        patch: Option<PatchJs>,
    }
}

/// Writes a JS array of known length, element by element: the records
/// above and the batches of finished calls and host questions.
pub struct ArrayWriter {
    env: napi::sys::napi_env,
    array: napi::sys::napi_value,
    next: u32,
}

impl ArrayWriter {
    /// # Safety
    /// On the JS thread, with the `env` napi-rs passed to the conversion
    /// under way; the writer must not outlive it.
    pub unsafe fn new(env: napi::sys::napi_env, len: usize) -> napi::Result<ArrayWriter> {
        let mut array = std::ptr::null_mut();
        // SAFETY: the caller's contract.
        napi::check_status!(unsafe {
            napi::sys::napi_create_array_with_length(env, len, &mut array)
        })?;
        Ok(ArrayWriter {
            env,
            array,
            next: 0,
        })
    }

    pub fn push<T: ToNapiValue>(&mut self, value: T) -> napi::Result<()> {
        // SAFETY: `env` is valid for the writer's life (`new`'s contract),
        // and the value set was just created in it.
        unsafe {
            let value = T::to_napi_value(self.env, value)?;
            napi::check_status!(napi::sys::napi_set_element(
                self.env, self.array, self.next, value
            ))?;
        }
        self.next += 1;
        Ok(())
    }

    pub fn finish(self) -> napi::sys::napi_value {
        self.array
    }
}

/// `snake_case` to the `camelCase` JS uses (napi-rs's own convention for
/// object fields).
fn camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn names(fields: &[&str]) -> Vec<String> {
    fields.iter().map(|name| camel_case(name)).collect()
}

/// The field names of every boundary record, in array order, for
/// `lib/boundary.js`.
#[napi(ts_return_type = "Record<string, string[]>")]
pub fn boundary_layout() -> HashMap<&'static str, Vec<String>> {
    HashMap::from([
        ("callInit", names(CallInitJs::FIELDS)),
        ("wire", names(WireJs::FIELDS)),
        ("patch", names(PatchJs::FIELDS)),
        ("response", names(ResponseJs::FIELDS)),
        ("settled", names(SettledJs::FIELDS)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_case_follows_napi_conventions() {
        assert_eq!(camel_case("base_url"), "baseUrl");
        assert_eq!(camel_case("has_request_hooks"), "hasRequestHooks");
        assert_eq!(camel_case("url"), "url");
    }

    #[test]
    fn fields_are_listed_in_declaration_order() {
        assert_eq!(WireJs::FIELDS.first(), Some(&"url"));
        assert_eq!(WireJs::FIELDS.len(), 16);
        assert_eq!(CallInitJs::FIELDS.last(), Some(&"wire"));
        assert_eq!(SettledJs::FIELDS, &["kind", "response", "failure", "patch"]);
    }
}
