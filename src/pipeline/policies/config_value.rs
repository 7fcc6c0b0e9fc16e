//! Reading a policy's options object (the JSON the JS factory was given),
//! with messages that name the policy, the option and what was wrong, e.g.
//! "retry: `maxRetries` must be a non-negative integer, got \"3\"".
//! Options that are absent or `null` take their defaults (JS callers pass
//! `undefined` for "not given"); options we do not know are ignored, as
//! rest.js and Azure ignore them.

use serde_json::{Map, Value};

/// The options object, or an empty one for `undefined`/`null`.
pub fn options<'a>(
    policy: &str,
    value: &'a Value,
) -> Result<Option<&'a Map<String, Value>>, String> {
    match value {
        Value::Null => Ok(None),
        Value::Object(map) => Ok(Some(map)),
        other => Err(format!("{policy}: options must be an object, got {other}")),
    }
}

/// One option's value, `None` when absent or null.
pub fn field<'a>(options: Option<&'a Map<String, Value>>, name: &str) -> Option<&'a Value> {
    options
        .and_then(|map| map.get(name))
        .filter(|v| !v.is_null())
}

pub fn string(policy: &str, name: &str, value: Option<&Value>) -> Result<Option<String>, String> {
    match value {
        None => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(other) => Err(format!("{policy}: `{name}` must be a string, got {other}")),
    }
}

pub fn boolean(policy: &str, name: &str, value: Option<&Value>) -> Result<Option<bool>, String> {
    match value {
        None => Ok(None),
        Some(Value::Bool(flag)) => Ok(Some(*flag)),
        Some(other) => Err(format!("{policy}: `{name}` must be a boolean, got {other}")),
    }
}

/// A whole non-negative number (JS numbers arrive as integers or floats;
/// `3.0` is accepted, `3.5` is not).
pub fn whole(policy: &str, name: &str, value: Option<&Value>) -> Result<Option<u64>, String> {
    let Some(value) = value else {
        return Ok(None);
    };
    let whole = value.as_u64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= u64::MAX as f64)
            .map(|f| f as u64)
    });
    whole
        .map(Some)
        .ok_or_else(|| format!("{policy}: `{name}` must be a non-negative integer, got {value}"))
}

pub fn string_list(
    policy: &str,
    name: &str,
    value: Option<&Value>,
) -> Result<Option<Vec<String>>, String> {
    let Some(value) = value else {
        return Ok(None);
    };
    let wrong = || format!("{policy}: `{name}` must be an array of strings, got {value}");
    let items = value.as_array().ok_or_else(wrong)?;
    items
        .iter()
        .map(|item| item.as_str().map(str::to_string).ok_or_else(wrong))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// A list of HTTP status codes (100 to 999).
pub fn status_list(
    policy: &str,
    name: &str,
    value: Option<&Value>,
) -> Result<Option<Vec<u16>>, String> {
    let Some(value) = value else {
        return Ok(None);
    };
    let wrong = || format!("{policy}: `{name}` must be an array of HTTP status codes, got {value}");
    let items = value.as_array().ok_or_else(wrong)?;
    items
        .iter()
        .map(|item| {
            item.as_u64()
                .filter(|code| (100..=999).contains(code))
                .and_then(|code| u16::try_from(code).ok())
                .ok_or_else(wrong)
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn options_must_be_an_object_or_nothing() {
        assert!(matches!(options("p", &Value::Null), Ok(None)));
        assert!(matches!(options("p", &json!({})), Ok(Some(_))));
        assert_eq!(
            options("p", &json!(3)),
            Err("p: options must be an object, got 3".to_string())
        );
    }

    #[test]
    fn whole_numbers_accept_integral_floats_only() {
        assert_eq!(whole("p", "n", Some(&json!(3))), Ok(Some(3)));
        assert_eq!(whole("p", "n", Some(&json!(3.0))), Ok(Some(3)));
        assert_eq!(whole("p", "n", None), Ok(None));
        for bad in [json!(3.5), json!(-1), json!("3"), json!(true)] {
            let message = whole("p", "n", Some(&bad)).err();
            assert_eq!(
                message,
                Some(format!("p: `n` must be a non-negative integer, got {bad}"))
            );
        }
    }

    #[test]
    fn lists_check_every_item() {
        assert_eq!(
            string_list("p", "l", Some(&json!(["a", "b"]))),
            Ok(Some(vec!["a".to_string(), "b".to_string()]))
        );
        assert!(string_list("p", "l", Some(&json!(["a", 1]))).is_err());
        assert!(string_list("p", "l", Some(&json!("a"))).is_err());
        assert_eq!(
            status_list("p", "s", Some(&json!([429]))),
            Ok(Some(vec![429]))
        );
        assert!(status_list("p", "s", Some(&json!([42]))).is_err());
        assert!(status_list("p", "s", Some(&json!(["429"]))).is_err());
    }

    #[test]
    fn null_is_absent() {
        let value = json!({ "a": null });
        let map = options("p", &value).ok().flatten();
        assert_eq!(field(map, "a"), None);
        assert_eq!(field(map, "b"), None);
    }
}
