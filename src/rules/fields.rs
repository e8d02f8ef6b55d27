//! The field names rule expressions may use, so that a typo is an error
//! when the rule is loaded rather than a condition that is silently false.

/// Fields every event may have (DESIGN.md's list). Some are filled only by
/// some formats (`http.*` by captures, `source` by the trace listener).
pub const EVENT_FIELDS: &[&str] = &[
    "time",
    "message",
    "category",
    "level",
    "event_id",
    "event",
    "exception",
    "scopes",
    "format",
    "input",
    "line",
    "source",
    "process_id",
    "thread_id",
    "connection",
    "server_connection",
    "hub",
    "transport",
    "http.method",
    "http.url",
    "http.host",
    "http.path",
    "http.status",
    "http.duration",
    "http.wait",
    "token.length",
    "token.exp",
    "token.iat",
    "token.nbf",
    "token.lifetime",
    "token.claims",
    "ws.close.code",
    "ws.close.error",
    "ws.type",
];

/// Prefixes under which any name is a field: `http.query.<name>`, the JSON
/// console's `State.<key>`.
pub const OPEN_PREFIXES: &[&str] = &["http.query.", "State."];

/// Fields whose text is part of the record as written, so a literal they
/// must contain can be looked for in the raw bytes first.
pub const RAW_TEXT_FIELDS: &[&str] = &["message", "category", "exception", "scopes", "source"];

/// Fields the message catalog fills: placeholders of its templates and the
/// ids derived from them.
pub fn is_catalog_field(name: &str) -> bool {
    matches!(name, "connection" | "server_connection" | "hub")
        || crate::catalog::Catalog::get()
            .placeholders()
            .iter()
            .any(|p| p == name)
}

/// Fields whose value is text of the record as written (literals they must
/// contain can go into the prefilter).
pub fn is_raw_text(name: &str) -> bool {
    RAW_TEXT_FIELDS.contains(&name) || (is_catalog_field(name) && name != "hub")
}

/// True when `name` is a field of an event, given the rule's own names
/// (named regex captures).
pub fn is_known(name: &str, own: &[String]) -> bool {
    EVENT_FIELDS.contains(&name)
        || is_catalog_field(name)
        || OPEN_PREFIXES
            .iter()
            .any(|p| name.strip_prefix(p).is_some_and(|rest| !rest.is_empty()))
        || (name.starts_with('{') && name.ends_with('}'))
        || own.iter().any(|o| o == name)
}

/// The closest known name to `name`, if one is close enough to suggest.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(name, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_fields_and_suggestions() {
        assert!(is_known("http.query.hub", &[]));
        assert!(is_known("State.ServiceConnectionId", &[]));
        assert!(is_known("{OriginalFormat}", &[]));
        assert!(is_known("conn_id", &["conn_id".to_string()]));
        assert!(!is_known("http.query.", &[]));
        assert!(!is_known("categry", &[]));
        assert_eq!(
            did_you_mean("categry", EVENT_FIELDS.iter().copied()),
            Some("category")
        );
        assert_eq!(
            did_you_mean("http.statuscode", EVENT_FIELDS.iter().copied()),
            Some("http.status")
        );
        assert_eq!(did_you_mean("zzz", EVENT_FIELDS.iter().copied()), None);
    }
}
