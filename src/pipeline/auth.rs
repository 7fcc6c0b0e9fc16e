//! Stage 2: token refresh and the Bearer header, through the JS `auth` object.

use super::host::{Host, HostOp};
use super::types::{CallInit, Failure, FailureKind, Patch};
use super::Current;
use crate::engine::url;

/// `Err` carries what the slot holds instead of the options.
pub async fn authorize<H: Host>(
    host: &H,
    call: u32,
    init: &CallInit,
    patch: &mut Patch,
) -> Result<(), Current> {
    if !init.has_auth || !init.send_token {
        return Ok(());
    }
    let check_refresh = init.refresh_token;
    let reply = ask(host, call, HostOp::Authorize { check_refresh }).await?;
    let reply = if reply.flag {
        let is_relative = init.url.as_deref().is_some_and(|u| !url::is_absolute(u));
        if let (Some(base_url), true) = (init.base_url.clone(), is_relative) {
            ask(host, call, HostOp::RefreshToken { base_url }).await?;
        }
        if ask(host, call, HostOp::IsExpired).await?.flag {
            ask(host, call, HostOp::ExpiredToken).await?;
            return Err(Current::JsError);
        }
        ask(
            host,
            call,
            HostOp::Authorize {
                check_refresh: false,
            },
        )
        .await?
    } else {
        reply
    };
    patch.authorization = reply.text;
    Ok(())
}

async fn ask<H: Host>(host: &H, call: u32, op: HostOp) -> Result<super::host::HostReply, Current> {
    match host.call(call, op).await {
        Ok(reply) if reply.ok => Ok(reply),
        Ok(_) => Err(Current::JsError),
        Err(message) => Err(Current::Failure(Failure::new(
            FailureKind::Host,
            message,
            false,
        ))),
    }
}
