//! Property tests over the code that input from JS or the network reaches:
//! whatever the input, no panic, and the outputs keep their invariants.

use super::body_format::BodyFormat;
use super::decode::{decode_all, Decoder, Encoding};
use super::error_message::error_text;
use super::{qs, url};
use bytes::Bytes;
use proptest::prelude::*;
use serde_json::Value;

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((".{0,8}", inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn qs_output_is_always_url_safe(value in json_value()) {
        let out = qs::stringify(&value);
        prop_assert!(out.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%=&".contains(&b)), "{}", out);
    }

    #[test]
    fn url_building_never_panics(u in ".{0,40}", base in proptest::option::of(".{0,40}"), key in ".{0,10}", q in proptest::option::of(".{0,20}")) {
        let _ = url::append_api_key(&u, base.as_deref(), &key);
        let _ = url::request_url(&u, base.as_deref(), q.as_deref());
        let _ = url::is_absolute(&u);
    }

    #[test]
    fn api_key_keeps_the_url_text(path in "/[a-z$=&' ]{0,20}", key in "[A-Za-z0-9]{1,10}") {
        let out = url::append_api_key(&path, Some("http://127.0.0.1:1"), &key);
        prop_assert!(out.is_ok());
        let out = out.unwrap_or_default();
        prop_assert!(out.starts_with(&path));
        let expected_end = format!("apikey={}", key);
        prop_assert!(out.ends_with(&expected_end));
    }

    #[test]
    fn decoding_garbage_never_panics_and_stays_bounded(data in prop::collection::vec(any::<u8>(), 0..2048), cut in 1usize..64, gzip in any::<bool>()) {
        let encoding = if gzip { Encoding::Gzip } else { Encoding::Deflate };
        let mut decoder = Decoder::new(encoding);
        'feed: for chunk in data.chunks(cut) {
            decoder.feed(Bytes::copy_from_slice(chunk));
            loop {
                match decoder.drain(100) {
                    Ok(piece) if piece.is_empty() => break,
                    Ok(piece) => prop_assert!(piece.len() <= 100),
                    Err(_) => break 'feed,
                }
            }
        }
        let _ = decode_all(encoding, Bytes::from(data));
    }

    #[test]
    fn gzip_decodes_to_its_data_or_fails_never_silently_wrong(
        data in prop::collection::vec(0u8..4, 0..4096),
        name in proptest::option::of("[a-z]{1,8}"),
        cut in 1usize..700,
        flip in any::<prop::sample::Index>(),
    ) {
        let mut builder = flate2::GzBuilder::new();
        if let Some(name) = name {
            builder = builder.filename(name);
        }
        let mut encoder = builder.write(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut encoder, &data).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let compressed = encoder.finish().map_err(|e| TestCaseError::fail(e.to_string()))?;
        // Intact, in arbitrary chunks: exactly the data.
        let mut decoder = Decoder::new(Encoding::Gzip);
        let mut out = Vec::new();
        for chunk in compressed.chunks(cut) {
            decoder.feed(Bytes::copy_from_slice(chunk));
            loop {
                let piece = decoder.drain(1000).map_err(|e| TestCaseError::fail(e.to_string()))?;
                if piece.is_empty() {
                    break;
                }
                out.extend(piece);
            }
        }
        prop_assert_eq!(&out, &data);
        prop_assert!(decoder.is_complete());
        // One corrupted byte: an error, the exact data (a header field such
        // as the time stamp may change), or a stream that never reached its
        // end (decoded leniently, like a truncated one) -- never other bytes
        // from a stream that claims to be complete.
        let mut corrupt = compressed.clone();
        let at = flip.index(corrupt.len());
        corrupt[at] ^= 0x41;
        let mut decoder = Decoder::new(Encoding::Gzip);
        decoder.feed(Bytes::from(corrupt));
        let mut decoded = Vec::new();
        let failed = loop {
            match decoder.drain(1 << 20) {
                Ok(piece) if piece.is_empty() => break false,
                Ok(piece) => decoded.extend(piece),
                Err(_) => break true,
            }
        };
        if !failed && decoder.is_complete() {
            prop_assert_eq!(&decoded, &data);
        }
    }

    #[test]
    fn error_text_never_panics(body in prop::collection::vec(any::<u8>(), 0..256), format in 0u8..4) {
        let format = [BodyFormat::None, BodyFormat::Blob, BodyFormat::Json, BodyFormat::Text][format as usize];
        let _ = error_text(format, &body);
    }
}
