//! `RecordSplitter`: the JS handle of the engine's record splitter. The
//! stream feeds it the body's chunks as it pushes them and parses the record
//! texts it gets back with `JSON.parse`.

use crate::engine::records::{self, RecordBatcher, RecordFraming};
use napi::bindgen_prelude::{BufferSlice, Float64Array};
use napi_derive::napi;

/// Framing codes shared with lib/records.js.
const JSON_SEQ: u32 = 1;
const LINES: u32 = 2;

/// The framing code of a record-stream Content-Type (1: json-seq, 2: lines),
/// or `null` for any other type.
#[napi]
pub fn record_framing(content_type: String) -> Option<u32> {
    RecordFraming::of_content_type(&content_type).map(|framing| match framing {
        RecordFraming::JsonSeq => JSON_SEQ,
        RecordFraming::Lines => LINES,
    })
}

#[napi]
pub struct RecordSplitter {
    inner: records::RecordSplitter,
}

/// The records the splitter emits, as `[text, marks]` (see `RecordBatch`):
/// one string and one typed array per chunk, however many records.
fn collect(
    run: impl FnOnce(
        &mut dyn FnMut(u64, &[u8]) -> napi::Result<()>,
    ) -> napi::Result<Result<(), records::RecordTooLarge>>,
) -> napi::Result<(String, Float64Array)> {
    let mut batcher = RecordBatcher::default();
    // A record over the limit is not an error here: the records before it
    // are returned, and JS reads where it started from `tooLargeAt`.
    let _too_large = run(&mut |offset, text| {
        batcher.add(offset, text);
        Ok(())
    })?;
    let batch = batcher.finish();
    Ok((batch.text, Float64Array::new(batch.marks)))
}

#[napi]
impl RecordSplitter {
    /// `startOffset` is how many body bytes went by before this splitter was
    /// made and `lastByte` the last of them (-1 for none): unless that byte
    /// closed a record, the splitter starts at the next record boundary.
    #[napi(constructor)]
    pub fn new(
        framing: u32,
        max_record_bytes: f64,
        start_offset: f64,
        last_byte: i32,
    ) -> napi::Result<RecordSplitter> {
        let framing = match framing {
            JSON_SEQ => RecordFraming::JsonSeq,
            LINES => RecordFraming::Lines,
            other => {
                return Err(napi::Error::from_reason(format!(
                    "Unknown record framing {other}"
                )))
            }
        };
        let limit = if max_record_bytes.is_finite() && max_record_bytes >= 0.0 {
            max_record_bytes as usize
        } else {
            usize::MAX / 2
        };
        Ok(RecordSplitter {
            inner: records::RecordSplitter::starting_at(
                framing,
                limit,
                start_offset as u64,
                u8::try_from(last_byte).ok(),
            ),
        })
    }

    /// The records `chunk` completes. After a record over the limit,
    /// `tooLargeAt` says where it started and nothing more is returned.
    #[napi(ts_return_type = "[string, Float64Array]")]
    pub fn push(&mut self, chunk: BufferSlice) -> napi::Result<(String, Float64Array)> {
        let inner = &mut self.inner;
        collect(|emit| inner.feed(&chunk, emit))
    }

    /// The last record, if the body did not end with a line end.
    #[napi(ts_return_type = "[string, Float64Array]")]
    pub fn finish(&mut self) -> napi::Result<(String, Float64Array)> {
        let inner = &mut self.inner;
        collect(|emit| inner.finish(emit))
    }

    /// Body offset of the record that went over the limit, or `null`.
    #[napi(getter)]
    pub fn too_large_at(&self) -> Option<f64> {
        self.inner.failure().map(|failure| failure.offset as f64)
    }
}
