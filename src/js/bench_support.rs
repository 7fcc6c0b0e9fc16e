//! Benchmark support, not part of the request API: `npm run bench` calls
//! this to measure the ceiling of our own gzip decoder, the speed a download
//! could reach if the network and JS cost nothing. It runs the very
//! `Decoder` downloads use, with the same per-pull output limit.

use crate::engine::decode::{Decoder, Encoding};
use bytes::Bytes;
use napi::bindgen_prelude::Buffer;
use napi_derive::napi;
use std::time::{Duration, Instant};

/// The most decoded output a download hands out per pull
/// (src/engine/download.rs's DECODED_CHUNK), so each `drain` here does the
/// work one pull does.
const PULL: usize = 1024 * 1024;

/// Decodes the gzip body `gzip` again and again on the calling thread (it
/// blocks the JS thread: benchmarks only) until at least `seconds` have
/// passed, and returns the decoded output's speed in MB/s (10^6 bytes), the
/// unit the benchmark's download rows use. Each pass starts a new `Decoder`
/// and checks the body's CRC-32, as a download does.
#[napi]
pub fn inflate_throughput(gzip: Buffer, seconds: f64) -> napi::Result<f64> {
    let body = Bytes::copy_from_slice(&gzip);
    let window = Duration::try_from_secs_f64(seconds)
        .map_err(|e| napi::Error::from_reason(format!("seconds: {e}")))?;
    let start = Instant::now();
    let mut decoded: u64 = 0;
    loop {
        decoded += decode_once(body.clone())?;
        let elapsed = start.elapsed();
        if elapsed >= window {
            return Ok(decoded as f64 / 1e6 / elapsed.as_secs_f64());
        }
    }
}

/// One whole pass over the body: its decoded length.
fn decode_once(body: Bytes) -> napi::Result<u64> {
    let mut decoder = Decoder::new(Encoding::Gzip);
    decoder.feed(body);
    let mut decoded: u64 = 0;
    loop {
        let piece = decoder
            .drain(PULL)
            .map_err(|e| napi::Error::from_reason(e.to_string()))?;
        if piece.is_empty() {
            break;
        }
        decoded += piece.len() as u64;
    }
    // An empty or cut body would make the loop spin on nothing (or report a
    // speed for data that was never there).
    if decoded == 0 || !decoder.is_complete() {
        return Err(napi::Error::from_reason(
            "inflateThroughput: not a complete gzip body",
        ));
    }
    Ok(decoded)
}
