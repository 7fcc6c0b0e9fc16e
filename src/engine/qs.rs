//! Query strings serialised with the rules of the npm `qs` package's
//! `stringify` at its defaults, which is what balena-request uses for `qs`:
//! nested objects as `a[b]=1`, arrays with indices `a[0]=1`, keys and values
//! percent-encoded as RFC 3986 (so the brackets travel as `%5B`/`%5D`),
//! `null` as an empty value, empty arrays and objects left out.
//!
//! Why not `serde_qs`: it leaves brackets unencoded and handles `null`
//! differently, so the server would receive other bytes than from upstream.
//! Input is the JSON form of the JS value (`JSON.stringify` on the JS side),
//! which also gives Dates their ISO form, as `qs` does by default.

use serde_json::Value;

/// Serialise a JSON value like `qs.stringify(value)`. Non-objects give "".
pub fn stringify(value: &Value) -> String {
    let mut pairs: Vec<String> = Vec::new();
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                push_pairs(&mut pairs, key, child);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                push_pairs(&mut pairs, &index.to_string(), child);
            }
        }
        _ => {}
    }
    pairs.join("&")
}

fn push_pairs(pairs: &mut Vec<String>, prefix: &str, value: &Value) {
    match value {
        Value::Null => pairs.push(format!("{}=", encode(prefix))),
        Value::Bool(b) => pairs.push(format!("{}={}", encode(prefix), b)),
        Value::Number(n) => pairs.push(format!("{}={}", encode(prefix), js_number(n))),
        Value::String(s) => pairs.push(format!("{}={}", encode(prefix), encode(s))),
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                push_pairs(pairs, &format!("{prefix}[{index}]"), child);
            }
        }
        Value::Object(map) => {
            for (key, child) in map {
                push_pairs(pairs, &format!("{prefix}[{key}]"), child);
            }
        }
    }
}

/// A number as JavaScript's `String(n)` writes it for the values JSON carries.
fn js_number(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    match n.as_f64() {
        // Integral doubles print without a fraction in JS below 1e21.
        Some(f) if f.fract() == 0.0 && f.abs() < 1e21 => format!("{f:.0}"),
        Some(f) => f.to_string(),
        None => n.to_string(),
    }
}

/// Percent-encode everything but RFC 3986 unreserved characters, uppercase
/// hex, UTF-8 bytes: the default encoder of `qs`.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char)
            }
            _ => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('%');
                out.push(HEX[(byte >> 4) as usize] as char);
                out.push(HEX[(byte & 15) as usize] as char);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flat_values() {
        assert_eq!(
            stringify(&json!({"a": 1, "b": "x y", "c": true})),
            "a=1&b=x%20y&c=true"
        );
    }

    #[test]
    fn nested_objects_and_arrays() {
        assert_eq!(stringify(&json!({"a": {"b": 1}})), "a%5Bb%5D=1");
        assert_eq!(stringify(&json!({"a": [1, 2]})), "a%5B0%5D=1&a%5B1%5D=2");
        assert_eq!(stringify(&json!({"a": [{"b": "c"}]})), "a%5B0%5D%5Bb%5D=c");
    }

    #[test]
    fn null_empty_and_odd_values() {
        assert_eq!(stringify(&json!({"a": null})), "a=");
        assert_eq!(stringify(&json!({"a": [], "b": {}})), "");
        assert_eq!(
            stringify(&json!({"$filter": "name eq 'x'"})),
            "%24filter=name%20eq%20%27x%27"
        );
        assert_eq!(stringify(&json!({"é": "ü"})), "%C3%A9=%C3%BC");
        assert_eq!(stringify(&json!({"n": 1.5, "m": 2.0})), "n=1.5&m=2");
        assert_eq!(stringify(&json!("str")), "");
        assert_eq!(stringify(&json!(["x"])), "0=x");
    }
}
