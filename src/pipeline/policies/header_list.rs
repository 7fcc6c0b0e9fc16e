//! Header lines as a policy sees them: an ordered list of (name, value)
//! pairs whose names compare without regard to letter case, as HTTP names
//! do. A list rather than a map, because the order and spelling the caller
//! gave are what goes on the wire (`engine/request_headers.rs`).

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderList(pub Vec<(String, String)>);

impl HeaderList {
    pub fn new() -> HeaderList {
        HeaderList(Vec::new())
    }

    /// The first value of `name`, whatever its letter case.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Replaces every line of `name` by one line, kept where the first was
    /// (so the caller's spelling of the name survives), or appended.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        match self
            .0
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some(first) => {
                self.0[first].1 = value;
                let mut index = 0;
                self.0.retain(|(n, _)| {
                    let keep = index <= first || !n.eq_ignore_ascii_case(name);
                    index += 1;
                    keep
                });
            }
            None => self.0.push((name.to_string(), value)),
        }
    }

    /// Sets `name` only when the request has no line of that name; says
    /// whether it did.
    pub fn set_if_absent(&mut self, name: &str, value: impl Into<String>) -> bool {
        if self.contains(name) {
            return false;
        }
        self.0.push((name.to_string(), value.into()));
        true
    }

    /// Removes every line of `name`; says whether there was one.
    pub fn remove(&mut self, name: &str) -> bool {
        let before = self.0.len();
        self.0.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.0.len() != before
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }
}

impl<const N: usize> From<[(&str, &str); N]> for HeaderList {
    fn from(lines: [(&str, &str); N]) -> HeaderList {
        HeaderList(
            lines
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_without_case() {
        let headers = HeaderList::from([("Content-Type", "text/plain")]);
        assert_eq!(headers.get("content-type"), Some("text/plain"));
        assert!(headers.contains("CONTENT-TYPE"));
        assert_eq!(headers.get("accept"), None);
    }

    #[test]
    fn set_keeps_the_first_spelling_and_place_and_drops_the_rest() {
        let mut headers = HeaderList::from([("x-a", "1"), ("Accept", "a"), ("ACCEPT", "b")]);
        headers.set("accept", "c");
        assert_eq!(headers, HeaderList::from([("x-a", "1"), ("Accept", "c")]));
        headers.set("X-New", "n");
        assert_eq!(headers.0.last(), Some(&("X-New".into(), "n".into())));
    }

    #[test]
    fn set_if_absent_never_overwrites() {
        let mut headers = HeaderList::from([("authorization", "Bearer t")]);
        assert!(!headers.set_if_absent("Authorization", "Basic x"));
        assert_eq!(headers.get("Authorization"), Some("Bearer t"));
        assert!(headers.set_if_absent("X-Request-Id", "id"));
        assert_eq!(headers.get("x-request-id"), Some("id"));
    }

    #[test]
    fn remove_takes_every_line_of_the_name() {
        let mut headers = HeaderList::from([("Cookie", "a"), ("x", "1"), ("cookie", "b")]);
        assert!(headers.remove("COOKIE"));
        assert_eq!(headers, HeaderList::from([("x", "1")]));
        assert!(!headers.remove("cookie"));
    }
}
