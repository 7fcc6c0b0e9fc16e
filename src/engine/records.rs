//! Splits a decoded response body into JSON records as its chunks arrive:
//! RFC 7464 JSON text sequences (`application/json-seq`, each record is
//! RS + JSON text + LF) and line-delimited JSON (NDJSON / JSON Lines, one
//! JSON text per line). Only the framing is done here; the record text is
//! parsed by the caller (JS hands it to V8's `JSON.parse`).

/// RFC 7464's record separator.
const RS: u8 = 0x1e;

/// How records are delimited in the body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordFraming {
    /// `application/json-seq`: a record starts at each RS.
    JsonSeq,
    /// NDJSON / JSON Lines: a record ends at each LF.
    Lines,
}

impl RecordFraming {
    /// The framing a Content-Type announces, if it is a record stream. The
    /// media type is matched case-insensitively and parameters are ignored.
    pub fn of_content_type(content_type: &str) -> Option<RecordFraming> {
        let essence = content_type.split(';').next().unwrap_or("").trim();
        let is = |name: &str| essence.eq_ignore_ascii_case(name);
        if is("application/json-seq") {
            Some(RecordFraming::JsonSeq)
        } else if is("application/x-ndjson")
            || is("application/jsonl")
            || is("application/x-jsonlines")
        {
            Some(RecordFraming::Lines)
        } else {
            None
        }
    }

    fn delimiter(self) -> u8 {
        match self {
            RecordFraming::JsonSeq => RS,
            RecordFraming::Lines => b'\n',
        }
    }

    /// How many line-end bytes a record's raw bytes may carry beyond its
    /// text: CRLF after a JSON text in a sequence, CR before a line's LF.
    fn line_end_slack(self) -> usize {
        match self {
            RecordFraming::JsonSeq => 2,
            RecordFraming::Lines => 1,
        }
    }

    /// The record's text: its raw bytes (between delimiters) without the
    /// whitespace before it and the line end that closes it.
    fn text(self, raw: &[u8]) -> &[u8] {
        let raw = without_leading_blanks(raw);
        let raw = match self {
            RecordFraming::JsonSeq => raw.strip_suffix(b"\n").unwrap_or(raw),
            RecordFraming::Lines => raw,
        };
        raw.strip_suffix(b"\r").unwrap_or(raw)
    }
}

/// A record longer than the limit: where it starts in the body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordTooLarge {
    /// Byte offset (in the decoded body) of the record's first byte.
    pub offset: u64,
    pub limit: usize,
}

/// Feeds chunks in, hands complete records out with their body offsets.
/// Memory is bounded by the limit: only the unfinished record is kept.
pub struct RecordSplitter {
    framing: RecordFraming,
    max_record_bytes: usize,
    /// The raw bytes of the record not yet closed by a delimiter.
    pending: Vec<u8>,
    /// Body offset of the first byte of `pending` (of the current record).
    pending_start: u64,
    /// Body offset of the next byte fed.
    offset: u64,
    /// Started in the middle of a body: bytes up to the next delimiter
    /// belong to a record whose start was not seen, and are dropped.
    resyncing: bool,
    failure: Option<RecordTooLarge>,
}

/// JSON's whitespace, which JSON.parse skips before a text: it is not kept
/// nor counted against the limit, so that blank lines of any length are
/// ignored whether or not they span chunks.
fn without_leading_blanks(bytes: &[u8]) -> &[u8] {
    let blanks = bytes
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .count();
    &bytes[blanks..]
}

impl RecordSplitter {
    /// A splitter for a body read from its first byte.
    pub fn new(framing: RecordFraming, max_record_bytes: usize) -> RecordSplitter {
        RecordSplitter::starting_at(framing, max_record_bytes, 0, None)
    }

    /// A splitter for a body whose first `offset` bytes went by unseen,
    /// `last_byte` the last of them: unless that closed a record, it starts
    /// at the next record boundary.
    pub fn starting_at(
        framing: RecordFraming,
        max_record_bytes: usize,
        offset: u64,
        last_byte: Option<u8>,
    ) -> RecordSplitter {
        RecordSplitter {
            framing,
            max_record_bytes,
            pending: Vec::new(),
            pending_start: offset,
            offset,
            resyncing: last_byte.is_some_and(|byte| byte != framing.delimiter()),
            failure: None,
        }
    }

    /// The oversized record that stopped the splitter, if one did.
    pub fn failure(&self) -> Option<RecordTooLarge> {
        self.failure
    }

    /// Splits `chunk`, calling `emit(offset, text)` for each record it
    /// completes. After a record over the limit nothing more is emitted.
    pub fn feed<E, F: FnMut(u64, &[u8]) -> Result<(), E> + ?Sized>(
        &mut self,
        chunk: &[u8],
        emit: &mut F,
    ) -> Result<Result<(), RecordTooLarge>, E> {
        if let Some(failure) = self.failure {
            return Ok(Err(failure));
        }
        let delimiter = self.framing.delimiter();
        let mut rest = chunk;
        while let Some(at) = memchr::memchr(delimiter, rest) {
            let (head, tail) = (&rest[..at], &rest[at + 1..]);
            if self.resyncing {
                self.resyncing = false;
            } else if self.pending.is_empty() {
                let start = self.offset;
                if let Err(failure) = self.complete(start, head, emit)? {
                    return Ok(Err(failure));
                }
            } else {
                let mut raw = std::mem::take(&mut self.pending);
                raw.extend_from_slice(head);
                let outcome = self.complete(self.pending_start, &raw, emit)?;
                // Keep the allocation for the next record that spans chunks.
                raw.clear();
                self.pending = raw;
                if let Err(failure) = outcome {
                    return Ok(Err(failure));
                }
            }
            self.offset += at as u64 + 1;
            self.pending_start = self.offset;
            rest = tail;
        }
        if !self.resyncing {
            let kept = if self.pending.is_empty() {
                without_leading_blanks(rest)
            } else {
                rest
            };
            if self.pending.len() + kept.len()
                > self.max_record_bytes + self.framing.line_end_slack()
            {
                return Ok(Err(self.fail(self.pending_start)));
            }
            self.pending.extend_from_slice(kept);
        }
        self.offset += rest.len() as u64;
        Ok(Ok(()))
    }

    /// The body ended: its last record counts even without a final line end.
    pub fn finish<E, F: FnMut(u64, &[u8]) -> Result<(), E> + ?Sized>(
        &mut self,
        emit: &mut F,
    ) -> Result<Result<(), RecordTooLarge>, E> {
        if let Some(failure) = self.failure {
            return Ok(Err(failure));
        }
        let raw = std::mem::take(&mut self.pending);
        if self.resyncing {
            return Ok(Ok(()));
        }
        self.complete(self.pending_start, &raw, emit)
    }

    fn complete<E, F: FnMut(u64, &[u8]) -> Result<(), E> + ?Sized>(
        &mut self,
        start: u64,
        raw: &[u8],
        emit: &mut F,
    ) -> Result<Result<(), RecordTooLarge>, E> {
        let text = self.framing.text(raw);
        // Blank records (empty lines, RS RS) carry no JSON text.
        if text.is_empty() {
            return Ok(Ok(()));
        }
        if text.len() > self.max_record_bytes {
            return Ok(Err(self.fail(start)));
        }
        emit(start, text)?;
        Ok(Ok(()))
    }

    fn fail(&mut self, offset: u64) -> RecordTooLarge {
        let failure = RecordTooLarge {
            offset,
            limit: self.max_record_bytes,
        };
        self.failure = Some(failure);
        self.pending = Vec::new();
        failure
    }
}

/// Records handed over together as one string: crossing into JS once per
/// chunk, with one string to decode, costs far less than a string per record.
/// `marks` holds, per record, its body offset and where its text ends in the
/// string, counted in UTF-16 units (what JS's `slice` takes).
#[derive(Debug, Default, PartialEq)]
pub struct RecordBatch {
    pub text: String,
    pub marks: Vec<f64>,
}

/// UTF-16 units of valid UTF-8: one per character, two for those that take
/// four bytes. Counting bytes this way (every byte that does not continue a
/// character, plus every four-byte lead) vectorises.
fn utf16_len(text: &[u8]) -> usize {
    text.iter()
        .map(|&b| usize::from((b as i8) >= -0x40) + usize::from(b >= 0xf0))
        .sum()
}

/// Gathers emitted records into a `RecordBatch`.
#[derive(Default)]
pub struct RecordBatcher {
    bytes: Vec<u8>,
    /// Per record: body offset and end of its bytes in `bytes`.
    records: Vec<(u64, usize)>,
}

impl RecordBatcher {
    pub fn add(&mut self, offset: u64, text: &[u8]) {
        self.bytes.extend_from_slice(text);
        self.records.push((offset, self.bytes.len()));
    }

    /// The batch. Text that is not UTF-8 gets replacement characters, as a
    /// `send()` body does, each record decoded on its own so that a bad
    /// sequence never joins the next record's bytes.
    pub fn finish(self) -> RecordBatch {
        let mut marks = Vec::with_capacity(self.records.len() * 2);
        let (mut start, mut units) = (0, 0);
        // Valid as a whole is not enough: a sequence may be cut by a record
        // boundary and completed by the next record's first bytes.
        let valid = std::str::from_utf8(&self.bytes).is_ok_and(|text| {
            self.records
                .iter()
                .all(|(_, end)| text.is_char_boundary(*end))
        });
        let text = if valid {
            for (offset, end) in &self.records {
                units += utf16_len(self.bytes.get(start..*end).unwrap_or(&[]));
                marks.push(*offset as f64);
                marks.push(units as f64);
                start = *end;
            }
            String::from_utf8(self.bytes).unwrap_or_default()
        } else {
            let mut text = String::new();
            for (offset, end) in &self.records {
                let record = String::from_utf8_lossy(self.bytes.get(start..*end).unwrap_or(&[]));
                units += utf16_len(record.as_bytes());
                text.push_str(&record);
                marks.push(*offset as f64);
                marks.push(units as f64);
                start = *end;
            }
            text
        };
        RecordBatch { text, marks }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::convert::Infallible;

    type Records = Vec<(u64, Vec<u8>)>;

    /// Feeds the chunks, then finishes; the records, or the first failure.
    fn split(
        framing: RecordFraming,
        limit: usize,
        chunks: &[&[u8]],
    ) -> Result<Result<Records, RecordTooLarge>, Infallible> {
        let mut splitter = RecordSplitter::new(framing, limit);
        split_with(&mut splitter, chunks)
    }

    fn split_with(
        splitter: &mut RecordSplitter,
        chunks: &[&[u8]],
    ) -> Result<Result<Records, RecordTooLarge>, Infallible> {
        let mut records = Vec::new();
        let mut emit = |offset: u64, text: &[u8]| -> Result<(), Infallible> {
            records.push((offset, text.to_vec()));
            Ok(())
        };
        for chunk in chunks {
            if let Err(failure) = splitter.feed(chunk, &mut emit)? {
                return Ok(Err(failure));
            }
        }
        if let Err(failure) = splitter.finish(&mut emit)? {
            return Ok(Err(failure));
        }
        Ok(Ok(records))
    }

    #[test]
    fn content_types() {
        let of = RecordFraming::of_content_type;
        assert_eq!(of("application/json-seq"), Some(RecordFraming::JsonSeq));
        assert_eq!(
            of("Application/X-NDJSON; charset=utf-8"),
            Some(RecordFraming::Lines)
        );
        assert_eq!(of(" application/jsonl "), Some(RecordFraming::Lines));
        assert_eq!(of("application/x-jsonlines"), Some(RecordFraming::Lines));
        assert_eq!(of("application/json"), None);
        assert_eq!(of("text/plain"), None);
        assert_eq!(of(""), None);
    }

    #[test]
    fn lines_with_blank_lines_crlf_and_no_final_newline() -> Result<(), Infallible> {
        let body = b"{\"a\":1}\r\n\n  \n[2]\n\r\n3";
        assert_eq!(
            split(RecordFraming::Lines, 100, &[body])?,
            Ok(vec![
                (0, b"{\"a\":1}".to_vec()),
                (13, b"[2]".to_vec()),
                (19, b"3".to_vec())
            ])
        );
        Ok(())
    }

    #[test]
    fn json_seq_records_and_offsets() -> Result<(), Infallible> {
        let body = b"\x1e{\"a\":1}\n\x1e\x1e\n\x1e[2]\r\n\x1e3";
        assert_eq!(
            split(RecordFraming::JsonSeq, 100, &[&body[..5], &body[5..]])?,
            Ok(vec![
                (1, b"{\"a\":1}".to_vec()),
                (13, b"[2]".to_vec()),
                (19, b"3".to_vec())
            ])
        );
        Ok(())
    }

    #[test]
    fn limit_counts_the_text_without_its_line_end() -> Result<(), Infallible> {
        // Exactly the limit passes, with LF, CRLF or no line end at all.
        for body in [&b"12345\n"[..], b"12345\r\n", b"12345"] {
            let one_byte_chunks: Vec<&[u8]> = body.chunks(1).collect();
            let records = split(RecordFraming::Lines, 5, &one_byte_chunks)?;
            assert_eq!(records, Ok(vec![(0, b"12345".to_vec())]));
        }
        let records = split(RecordFraming::JsonSeq, 5, &[b"\x1e12345\r\n\x1e1"])?;
        assert_eq!(records.map(|r| r.len()), Ok(2));
        let one_byte_chunks: Vec<&[u8]> = b"\x1e12345\r\n\x1e1".chunks(1).collect();
        let records = split(RecordFraming::JsonSeq, 5, &one_byte_chunks)?;
        assert_eq!(records.map(|r| r.len()), Ok(2));
        // One byte more fails, naming where the record starts.
        let failure = split(RecordFraming::Lines, 5, &[b"1\n", b"123", b"456\n"])?;
        assert_eq!(
            failure,
            Err(RecordTooLarge {
                offset: 2,
                limit: 5
            })
        );
        let failure = split(RecordFraming::Lines, 5, &[b"1\n123456"])?;
        assert_eq!(
            failure,
            Err(RecordTooLarge {
                offset: 2,
                limit: 5
            })
        );
        let failure = split(RecordFraming::JsonSeq, 5, &[b"\x1e1\n\x1e123456\n"])?;
        assert_eq!(
            failure,
            Err(RecordTooLarge {
                offset: 4,
                limit: 5
            })
        );
        Ok(())
    }

    #[test]
    fn an_unterminated_record_fails_as_soon_as_it_is_over_the_limit() -> Result<(), Infallible> {
        let mut splitter = RecordSplitter::new(RecordFraming::Lines, 1024);
        let mut emit = |_: u64, _: &[u8]| -> Result<(), Infallible> { Ok(()) };
        let chunk = [b'x'; 1000];
        assert_eq!(splitter.feed(&chunk, &mut emit)?, Ok(()));
        let failure = RecordTooLarge {
            offset: 0,
            limit: 1024,
        };
        assert_eq!(splitter.feed(&chunk, &mut emit)?, Err(failure));
        assert!(splitter.pending.capacity() < 4096);
        assert_eq!(splitter.feed(b"\n1\n", &mut emit)?, Err(failure));
        assert_eq!(splitter.failure(), Some(failure));
        Ok(())
    }

    #[test]
    fn blank_lines_longer_than_the_limit_are_still_ignored() -> Result<(), Infallible> {
        let blank = [b' '; 50];
        let chunks: [&[u8]; 4] = [b"1\n", &blank, &blank, b"\r\n  2 \n"];
        let records = split(RecordFraming::Lines, 2, &chunks)?;
        assert_eq!(records, Ok(vec![(0, b"1".to_vec()), (104, b"2 ".to_vec())]));
        Ok(())
    }

    #[test]
    fn starting_mid_body_skips_to_the_next_record() -> Result<(), Infallible> {
        let lines = RecordFraming::Lines;
        let mut splitter = RecordSplitter::starting_at(lines, 100, 10, Some(b't'));
        let records = split_with(&mut splitter, &[b"ail\":1}\n{\"b\"", b":2}\n"])?;
        assert_eq!(records, Ok(vec![(18, b"{\"b\":2}".to_vec())]));
        let seq = RecordFraming::JsonSeq;
        let mut splitter = RecordSplitter::starting_at(seq, 100, 4, Some(b'['));
        let records = split_with(&mut splitter, &[b"2]\n\x1e[3]\n"])?;
        assert_eq!(records, Ok(vec![(8, b"[3]".to_vec())]));
        Ok(())
    }

    #[test]
    fn starting_right_after_a_delimiter_loses_nothing() -> Result<(), Infallible> {
        let lines = RecordFraming::Lines;
        let mut splitter = RecordSplitter::starting_at(lines, 100, 4, Some(b'\n'));
        let records = split_with(&mut splitter, &[b"[2]\n[3]"])?;
        assert_eq!(
            records,
            Ok(vec![(4, b"[2]".to_vec()), (8, b"[3]".to_vec())])
        );
        let seq = RecordFraming::JsonSeq;
        let mut splitter = RecordSplitter::starting_at(seq, 100, 5, Some(0x1e));
        let records = split_with(&mut splitter, &[b"[2]\n\x1e[3]\n"])?;
        assert_eq!(
            records,
            Ok(vec![(5, b"[2]".to_vec()), (10, b"[3]".to_vec())])
        );
        Ok(())
    }

    #[test]
    fn batches_mark_record_ends_in_utf16_units() {
        let mut batcher = RecordBatcher::default();
        batcher.add(3, "\"é\"".as_bytes());
        batcher.add(9, "\"😀\"".as_bytes());
        batcher.add(20, b"1");
        let batch = batcher.finish();
        assert_eq!(batch.text, "\"é\"\"😀\"1");
        assert_eq!(batch.marks, vec![3.0, 3.0, 9.0, 7.0, 20.0, 8.0]);
        assert_eq!(RecordBatcher::default().finish(), RecordBatch::default());
    }

    #[test]
    fn batches_replace_bad_utf8_within_each_record() {
        let mut batcher = RecordBatcher::default();
        // A lead byte at the end of one record and a continuation byte at
        // the start of the next: two replacements, not one character.
        batcher.add(0, b"\"a\xc3");
        batcher.add(5, b"\xa9\"");
        let batch = batcher.finish();
        assert_eq!(batch.text, "\"a\u{fffd}\u{fffd}\"");
        assert_eq!(batch.marks, vec![0.0, 3.0, 5.0, 5.0]);
    }

    /// Builds a body from record texts (with blank lines between some) and
    /// the records the splitter must find in it, with their offsets.
    fn body_of(framing: RecordFraming, records: &[(String, u8)]) -> (Vec<u8>, Records) {
        let mut body = Vec::new();
        let mut expected = Vec::new();
        for (text, style) in records {
            if framing == RecordFraming::JsonSeq {
                body.push(RS);
            }
            expected.push((body.len() as u64, text.as_bytes().to_vec()));
            body.extend_from_slice(text.as_bytes());
            // Line ends, and blank records between some (an empty line;
            // in a sequence an RS with nothing or only a line end after it).
            let after: &[u8] = match (framing, style % 4) {
                (_, 0) => b"\n",
                (_, 1) => b"\r\n",
                (RecordFraming::Lines, 2) => b"\n\n",
                (RecordFraming::Lines, _) => b"\r\n \t\r\n",
                (RecordFraming::JsonSeq, 2) => b"\n\x1e\n",
                (RecordFraming::JsonSeq, _) => b"\r\n\x1e",
            };
            body.extend_from_slice(after);
        }
        (body, expected)
    }

    proptest! {
        #[test]
        fn any_chunking_gives_the_same_records(
            texts in proptest::collection::vec("[^\r\n\u{1e} \t]([^\r\n\u{1e}]{0,40}[^\r\n\u{1e} \t])?", 0..20),
            styles in proptest::collection::vec(0u8..4, 20),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..12),
            seq in any::<bool>(),
            drop_last_line_end in any::<bool>(),
        ) {
            let framing = if seq { RecordFraming::JsonSeq } else { RecordFraming::Lines };
            let records: Vec<(String, u8)> = texts.into_iter().zip(styles).collect();
            let (mut body, expected) = body_of(framing, &records);
            if drop_last_line_end && !records.is_empty() {
                while body.last().is_some_and(|b| matches!(b, b'\r' | b'\n' | b' ' | b'\t')) {
                    body.pop();
                }
            }
            let mut offsets: Vec<usize> = cuts.iter().map(|i| i.index(body.len() + 1)).collect();
            offsets.push(0);
            offsets.push(body.len());
            offsets.sort_unstable();
            let chunks: Vec<&[u8]> = offsets.windows(2).map(|w| &body[w[0]..w[1]]).collect();
            let got = split(framing, 1024, &chunks).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
            prop_assert_eq!(got, Ok(expected.clone()));
            // The same records at any limit at least the longest text; one
            // below the longest fails, at the offset of the first too long.
            let longest = expected.iter().map(|(_, t)| t.len()).max().unwrap_or(0);
            if longest > 0 {
                let got = split(framing, longest, &chunks).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
                prop_assert_eq!(got, Ok(expected.clone()));
                let first_long = expected.iter().find(|(_, t)| t.len() == longest).map(|(o, _)| *o).unwrap_or(0);
                let got = split(framing, longest - 1, &chunks).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
                prop_assert_eq!(got, Err(RecordTooLarge { offset: first_long, limit: longest - 1 }));
            }
        }
    }
}
