//! Stage 1: what balena-request's `prepareOptions` does to the URL.

use super::types::{CallInit, Failure, FailureKind, Patch};
use crate::engine::url;

pub fn prepare(init: &CallInit) -> Result<Patch, Failure> {
    let mut patch = Patch::default();
    let url_text = match &init.url {
        Some(url_text) => url_text,
        // Building the wire request reports the missing url later.
        None => return Ok(patch),
    };
    let absolute = url::is_absolute(url_text);
    patch.drop_base_url = absolute && init.base_url.is_some();
    if let Some(key) = init.api_key.as_deref().filter(|k| !k.is_empty()) {
        let with_key = url::append_api_key(url_text, init.base_url.as_deref(), key)
            .map_err(|e| Failure::new(FailureKind::InvalidUrl, e.to_string(), false))?;
        patch.url = Some(with_key);
    }
    Ok(patch)
}
