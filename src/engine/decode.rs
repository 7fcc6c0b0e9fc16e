//! Lenient streaming decompression of `gzip` and `deflate` bodies.
//!
//! Lenient the way curl (and balena-request's Z_SYNC_FLUSH gunzip) is: a body
//! that stops before the end of the compressed stream still yields all the
//! data that arrived, while corrupt data is an error. Output is produced in
//! bounded pieces (`drain(limit)`), so a small, highly compressed chunk can
//! never make us allocate gigabytes at once.

use bytes::Bytes;
use flate2::{Decompress, FlushDecompress, Status};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Identity,
    Gzip,
    Deflate,
}

impl Encoding {
    /// From a `Content-Encoding` header value.
    pub fn from_header(value: Option<&str>) -> Encoding {
        match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
            Some("gzip") | Some("x-gzip") => Encoding::Gzip,
            Some("deflate") => Encoding::Deflate,
            _ => Encoding::Identity,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid compressed response body: {}", self.0)
    }
}

impl std::error::Error for DecodeError {}

pub struct Decoder {
    encoding: Encoding,
    inflater: Option<Decompress>,
    /// The current gzip member (or deflate stream) reached its end.
    member_done: bool,
    /// Compressed bytes fed but not yet decoded.
    pending: Bytes,
}

impl Decoder {
    pub fn new(encoding: Encoding) -> Decoder {
        Decoder {
            encoding,
            inflater: None,
            member_done: false,
            pending: Bytes::new(),
        }
    }

    /// Hands the decoder more compressed input. Call `drain` until it returns
    /// an empty buffer before feeding again.
    pub fn feed(&mut self, chunk: Bytes) {
        if self.pending.is_empty() {
            self.pending = chunk;
        } else {
            let mut joined = Vec::with_capacity(self.pending.len() + chunk.len());
            joined.extend_from_slice(&self.pending);
            joined.extend_from_slice(&chunk);
            self.pending = Bytes::from(joined);
        }
    }

    /// Decodes pending input into at most `limit` bytes (at least some bytes
    /// while input remains and is not trailing garbage). Empty means: feed me.
    pub fn drain(&mut self, limit: usize) -> Result<Vec<u8>, DecodeError> {
        let first_size = limit.min(self.pending.len().saturating_mul(4).max(64 * 1024));
        let mut out: Vec<u8> = Vec::with_capacity(first_size);
        while !self.pending.is_empty() && out.len() < limit {
            if self.member_done {
                // Another gzip member may follow (concatenated gzip files);
                // anything else after the end is ignored, as zlib's gunzip does.
                if self.encoding == Encoding::Gzip && self.pending[0] == 0x1f {
                    self.inflater = None;
                    self.member_done = false;
                } else {
                    self.pending = Bytes::new();
                    break;
                }
            }
            let first = self.pending[0];
            let encoding = self.encoding;
            let inflater = self.inflater.get_or_insert_with(|| match encoding {
                Encoding::Gzip => Decompress::new_gzip(15),
                // "deflate" is zlib-wrapped by the standard, raw by some servers.
                _ => Decompress::new((first & 0x0f) == 0x08),
            });
            if out.capacity() == out.len() {
                // Grow, but never past the limit: decompress_vec fills all
                // spare capacity (without zeroing it first).
                let grow = (limit - out.len()).min(out.capacity().max(64 * 1024));
                out.reserve_exact(grow);
            }
            let in_before = inflater.total_in();
            let out_before = out.len();
            let status = inflater
                .decompress_vec(&self.pending, &mut out, FlushDecompress::None)
                .map_err(|e| DecodeError(e.to_string()))?;
            let consumed = (inflater.total_in() - in_before) as usize;
            let produced = out.len() - out_before;
            if status == Status::StreamEnd {
                self.member_done = true;
            }
            self.pending = self.pending.slice(consumed..);
            if consumed == 0 && produced == 0 && !self.member_done {
                // Needs more input than we have (a header split across chunks).
                break;
            }
        }
        Ok(out)
    }
}

/// Decodes a whole body at once (the `send()` path).
pub fn decode_all(encoding: Encoding, body: Bytes) -> Result<Bytes, DecodeError> {
    if encoding == Encoding::Identity || body.is_empty() {
        return Ok(body);
    }
    let mut decoder = Decoder::new(encoding);
    decoder.feed(body);
    let mut all = Vec::new();
    loop {
        let piece = decoder.drain(usize::MAX / 2)?;
        if piece.is_empty() {
            break;
        }
        if all.is_empty() {
            all = piece;
        } else {
            all.extend_from_slice(&piece);
        }
    }
    Ok(Bytes::from(all))
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};
    use flate2::Compression;
    use std::io::Write;
    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn gzip(data: &[u8]) -> std::io::Result<Vec<u8>> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data)?;
        e.finish()
    }

    fn sample() -> Vec<u8> {
        (0..200_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect()
    }

    #[test]
    fn gzip_round_trip_in_small_chunks_and_bounded_output() -> TestResult {
        let data = sample();
        let compressed = gzip(&data)?;
        let mut d = Decoder::new(Encoding::Gzip);
        let mut out = Vec::new();
        for chunk in compressed.chunks(7) {
            d.feed(Bytes::copy_from_slice(chunk));
            loop {
                let piece = d.drain(1000)?;
                assert!(piece.len() <= 1000);
                if piece.is_empty() {
                    break;
                }
                out.extend_from_slice(&piece);
            }
        }
        assert_eq!(out, data);
        Ok(())
    }

    #[test]
    fn truncated_gzip_yields_what_arrived() -> TestResult {
        let data = sample();
        let compressed = gzip(&data)?;
        let cut = &compressed[..compressed.len() - 20];
        let out = decode_all(Encoding::Gzip, Bytes::copy_from_slice(cut))?;
        assert!(out.len() > data.len() / 2);
        assert_eq!(&data[..out.len()], &out[..]);
        Ok(())
    }

    #[test]
    fn corrupt_gzip_is_an_error() -> TestResult {
        let mut compressed = gzip(&sample())?;
        for b in compressed.iter_mut().skip(20).take(40) {
            *b ^= 0x5a;
        }
        assert!(decode_all(Encoding::Gzip, Bytes::from(compressed)).is_err());
        assert!(decode_all(Encoding::Gzip, Bytes::from_static(b"not gzip at all")).is_err());
        Ok(())
    }

    #[test]
    fn deflate_zlib_and_raw_and_multi_member() -> TestResult {
        let data = b"hello hello hello deflate".to_vec();
        let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
        z.write_all(&data)?;
        let zlib = z.finish()?;
        let mut r = DeflateEncoder::new(Vec::new(), Compression::default());
        r.write_all(&data)?;
        let raw = r.finish()?;
        assert_eq!(decode_all(Encoding::Deflate, Bytes::from(zlib))?, data);
        assert_eq!(decode_all(Encoding::Deflate, Bytes::from(raw))?, data);
        let mut two = gzip(b"one ")?;
        two.extend(gzip(b"two")?);
        assert_eq!(
            &decode_all(Encoding::Gzip, Bytes::from(two))?[..],
            b"one two"
        );
        Ok(())
    }

    #[test]
    fn encoding_from_header() -> TestResult {
        assert_eq!(Encoding::from_header(Some("GZIP")), Encoding::Gzip);
        assert_eq!(Encoding::from_header(Some("deflate")), Encoding::Deflate);
        assert_eq!(Encoding::from_header(Some("br")), Encoding::Identity);
        assert_eq!(Encoding::from_header(None), Encoding::Identity);
        Ok(())
    }
}
