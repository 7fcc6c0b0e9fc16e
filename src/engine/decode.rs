//! Lenient streaming decompression of `gzip` and `deflate` bodies.
//!
//! Lenient the way curl (and balena-request's Z_SYNC_FLUSH gunzip) is: a body
//! that stops before the end of the compressed stream still yields all the
//! data that arrived, while corrupt data is an error. Output is produced in
//! bounded pieces (`drain(limit)`), so a small, highly compressed chunk can
//! never make us allocate gigabytes at once.

use super::gzip_frame;
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

/// Where the decoder is in the compressed stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    GzipHeader,
    Deflate,
    GzipTrailer,
    /// The member (or deflate stream) ended; only another gzip member may follow.
    End,
}

pub struct Decoder {
    encoding: Encoding,
    stage: Stage,
    /// Raw deflate for gzip (we frame it, see `gzip_frame`); for "deflate",
    /// zlib-wrapped or raw, whichever the first byte says.
    inflater: Option<Decompress>,
    /// CRC-32 and length of the current gzip member's output so far.
    crc: crc32fast::Hasher,
    member_len: u64,
    /// Compressed bytes fed but not yet decoded.
    pending: Bytes,
}

impl Decoder {
    pub fn new(encoding: Encoding) -> Decoder {
        Decoder {
            encoding,
            stage: match encoding {
                Encoding::Gzip => Stage::GzipHeader,
                _ => Stage::Deflate,
            },
            inflater: None,
            crc: crc32fast::Hasher::new(),
            member_len: 0,
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
            match self.stage {
                Stage::GzipHeader => {
                    match gzip_frame::header_len(&self.pending).map_err(DecodeError)? {
                        // The header is split across chunks.
                        None => break,
                        Some(len) => {
                            self.pending = self.pending.slice(len..);
                            self.crc = crc32fast::Hasher::new();
                            self.member_len = 0;
                            if let Some(inflater) = self.inflater.as_mut() {
                                inflater.reset(false);
                            }
                            self.stage = Stage::Deflate;
                        }
                    }
                }
                Stage::Deflate => {
                    if !self.inflate(&mut out, limit)? {
                        // Needs more input than we have.
                        break;
                    }
                }
                Stage::GzipTrailer => {
                    if self.pending.len() < gzip_frame::TRAILER_LEN {
                        break;
                    }
                    let crc = std::mem::take(&mut self.crc).finalize();
                    gzip_frame::check_trailer(&self.pending, crc, self.member_len)
                        .map_err(DecodeError)?;
                    self.pending = self.pending.slice(gzip_frame::TRAILER_LEN..);
                    self.stage = Stage::End;
                }
                Stage::End => {
                    // Another gzip member may follow (concatenated gzip files);
                    // anything else after the end is ignored, as zlib's gunzip does.
                    if self.encoding == Encoding::Gzip && self.pending[0] == 0x1f {
                        self.stage = Stage::GzipHeader;
                    } else {
                        self.pending = Bytes::new();
                    }
                }
            }
        }
        Ok(out)
    }

    /// Whether the stream reached its end (for gzip: a trailer whose CRC-32
    /// and length matched). A body that stops short is still decoded, as
    /// curl does; this tells the two apart.
    pub fn is_complete(&self) -> bool {
        self.stage == Stage::End
    }

    /// One inflate call into `out`'s spare room (grown up to `limit`).
    /// False when it made no progress: more input is needed.
    fn inflate(&mut self, out: &mut Vec<u8>, limit: usize) -> Result<bool, DecodeError> {
        let gzip = self.encoding == Encoding::Gzip;
        let first = self.pending[0];
        let inflater = self
            .inflater
            .get_or_insert_with(|| Decompress::new(!gzip && (first & 0x0f) == 0x08));
        if out.capacity() == out.len() {
            // Grow, but never past the limit: decompress_vec fills all
            // spare capacity (without zeroing it first).
            let grow = (limit - out.len()).min(out.capacity().max(64 * 1024));
            out.reserve_exact(grow);
        }
        let in_before = inflater.total_in();
        let out_before = out.len();
        let status = inflater
            .decompress_vec(&self.pending, out, FlushDecompress::None)
            .map_err(|e| DecodeError(e.to_string()))?;
        let consumed = (inflater.total_in() - in_before) as usize;
        let produced = &out[out_before..];
        if gzip {
            self.crc.update(produced);
            self.member_len += produced.len() as u64;
        }
        let progressed = consumed > 0 || !produced.is_empty();
        self.pending = self.pending.slice(consumed..);
        if status == Status::StreamEnd {
            self.stage = if gzip { Stage::GzipTrailer } else { Stage::End };
            return Ok(true);
        }
        Ok(progressed)
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
    fn gzip_trailer_is_checked_but_may_be_cut_short() -> TestResult {
        let data = sample();
        let good = gzip(&data)?;
        let n = good.len();
        let mut bad_crc = good.clone();
        bad_crc[n - 8] ^= 1;
        let mut bad_len = good.clone();
        bad_len[n - 1] ^= 1;
        for bad in [bad_crc, bad_len] {
            let err = decode_all(Encoding::Gzip, Bytes::from(bad)).err();
            assert!(err.is_some_and(|e| e.to_string().contains("check")));
        }
        // A body cut inside the trailer still yields all the data (curl does too).
        let cut = Bytes::copy_from_slice(&good[..n - 3]);
        assert_eq!(decode_all(Encoding::Gzip, cut)?, data);
        Ok(())
    }

    #[test]
    fn gzip_with_a_file_name_like_the_gzip_tool_writes() -> TestResult {
        let mut e = flate2::GzBuilder::new()
            .filename("balena.img")
            .comment("os image")
            .write(Vec::new(), Compression::fast());
        e.write_all(b"image bytes")?;
        let named = e.finish()?;
        for chunk_size in [1, 3, 64] {
            let mut d = Decoder::new(Encoding::Gzip);
            let mut out = Vec::new();
            for chunk in named.chunks(chunk_size) {
                d.feed(Bytes::copy_from_slice(chunk));
                out.extend(d.drain(1 << 20)?);
            }
            assert_eq!(out, b"image bytes");
        }
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

    /// The single-core inflate ceiling a `stream()` gzip download is
    /// measured against: this decoder alone on a body in memory, fed in
    /// wire-sized chunks and drained in download-sized pieces. Run with
    /// `BRN_INFLATE_FILE=<a .gz file> cargo test --release --lib
    /// inflate_ceiling -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn inflate_ceiling() -> TestResult {
        let Ok(path) = std::env::var("BRN_INFLATE_FILE") else {
            return Err("set BRN_INFLATE_FILE to a gzip file".into());
        };
        let body = Bytes::from(std::fs::read(path)?);
        let mut best = f64::MAX;
        let mut decoded = 0;
        for _ in 0..5 {
            let start = std::time::Instant::now();
            let mut d = Decoder::new(Encoding::Gzip);
            decoded = 0;
            let mut at = 0;
            while at < body.len() {
                let end = (at + 256 * 1024).min(body.len());
                d.feed(body.slice(at..end));
                at = end;
                loop {
                    let piece = d.drain(1024 * 1024)?;
                    if piece.is_empty() {
                        break;
                    }
                    decoded += piece.len();
                }
            }
            assert!(d.is_complete());
            best = best.min(start.elapsed().as_secs_f64());
        }
        println!(
            "inflate ceiling: {decoded} bytes, best of 5 {:.1} MB/s",
            decoded as f64 / 1e6 / best
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
