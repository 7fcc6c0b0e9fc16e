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
    fn error_text_never_panics(body in prop::collection::vec(any::<u8>(), 0..256), format in 0u8..4) {
        let format = [BodyFormat::None, BodyFormat::Blob, BodyFormat::Json, BodyFormat::Text][format as usize];
        let _ = error_text(format, &body);
    }
}
