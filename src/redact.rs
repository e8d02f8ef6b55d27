//! Keeping secrets out of every output.
//!
//! Logs and captures carry access tokens (`access_token=` in WebSocket and
//! SSE URLs, `accessToken` in negotiate responses, `Authorization: Bearer`),
//! connection strings (`AccessKey=`), SAS signatures (`sig=`) and cookies.
//! Every text the tool prints — terminal, JSON, excerpts, summaries, fields
//! — goes through [`redact`]. A JWT is replaced by its length and claims,
//! never shown whole; other secrets by their length.

use base64::Engine as _;
use regex::Regex;
use std::borrow::Cow;
use std::sync::LazyLock;

/// One pattern per kind of secret; group `v` is the secret itself.
static PATTERNS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        // JWTs anywhere: header.payload.signature, base64url.
        r"(?P<v>eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*)",
        // Query or form parameters that carry secrets.
        r"(?i)(?:access_token|accesstoken|sig|signature|client_secret|password|pwd|api[-_]?key|token)=(?P<v>[^&\s\x22'<>;,]+)",
        // Connection-string parts.
        r"(?i)(?:AccessKey|SharedAccessKey|AccountKey|Password|ClientSecret)=(?P<v>[^;\s\x22']+)",
        // JSON members.
        r#"(?i)"(?:accessToken|access_token|AccessToken|token|password|secret|sig)"\s*:\s*"(?P<v>[^"]+)""#,
        // Headers.
        r"(?i)\bAuthorization\s*[:=]\s*(?:Bearer|Basic|SharedAccessSignature|Signature)?\s*(?P<v>[^\s\x22',;]+)",
        r"(?i)\bBearer\s+(?P<v>[A-Za-z0-9._~+/=-]{8,})",
        r"(?i)^(?:Set-)?Cookie\s*:\s*(?P<v>.+)$",
        r"(?i)\b(?:Set-)?Cookie\s*:\s*(?P<v>[^\r\n]+)",
    ]
    .iter()
    .map(|p| Regex::new(p).expect("redaction patterns are valid"))
    .collect()
});

/// Quick test: texts without any of these cannot hold a secret we know.
static HINTS: LazyLock<aho_corasick::AhoCorasick> = LazyLock::new(|| {
    aho_corasick::AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .build([
            "eyJ",
            "token",
            "sig",
            "key=",
            "secret",
            "password",
            "pwd=",
            "authorization",
            "bearer",
            "cookie",
            "signature",
        ])
        .expect("literal hints build")
});

/// `text` with every secret replaced; borrows when there is none.
pub fn redact(text: &str) -> Cow<'_, str> {
    if !HINTS.is_match(text) {
        return Cow::Borrowed(text);
    }
    let mut out = text.to_string();
    for re in PATTERNS.iter() {
        if !re.is_match(&out) {
            continue;
        }
        let mut result = String::with_capacity(out.len());
        let mut last = 0;
        for caps in re.captures_iter(&out) {
            let v = caps.name("v").expect("every pattern has group v");
            if v.as_str().starts_with('[') && v.as_str().contains("redacted") {
                continue;
            }
            result.push_str(&out[last..v.start()]);
            result.push_str(&replacement(v.as_str()));
            last = v.end();
        }
        result.push_str(&out[last..]);
        out = result;
    }
    Cow::Owned(out)
}

/// What stands in for a secret: a JWT's length and claims, or a length.
fn replacement(secret: &str) -> String {
    match jwt_claims(secret) {
        Some(claims) => format!("[redacted JWT, {} chars, claims {claims}]", secret.len()),
        None => format!("[redacted, {} chars]", secret.len()),
    }
}

/// The claims of a JWT as compact JSON (long values shortened), if it is one.
pub fn jwt_claims(token: &str) -> Option<String> {
    let mut parts = token.split('.');
    let (_header, payload) = (parts.next()?, parts.next()?);
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let obj = value.as_object()?;
    let mut shown = serde_json::Map::new();
    // Long strings and long lists (a user's 400 roles) are shortened: the
    // claims are shown to say what the token holds, not to reproduce it.
    fn short(v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::String(s) if s.chars().count() > 64 => {
                serde_json::Value::String(format!("{}…", s.chars().take(64).collect::<String>()))
            }
            serde_json::Value::Array(items) if items.len() > 4 => {
                let mut kept: Vec<serde_json::Value> = items[..3].iter().map(short).collect();
                kept.push(serde_json::Value::String(format!(
                    "… {} more",
                    items.len() - 3
                )));
                serde_json::Value::Array(kept)
            }
            other => other.clone(),
        }
    }
    for (k, v) in obj {
        shown.insert(k.clone(), short(v));
    }
    Some(serde_json::Value::Object(shown).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJodHRwczovL2NvbnRvc28uc2VydmljZS5zaWduYWxyLm5ldC9jbGllbnQvP2h1Yj1jaGF0IiwiZXhwIjoxNzA1MzEwNjA1LCJpYXQiOjE3MDUzMDcwMDV9.c2lnbmF0dXJlLXNlY3JldC1ieXRlcw";

    #[test]
    fn jwts_become_length_and_claims() {
        let s =
            format!("GET wss://x.service.signalr.net/client/?hub=chat&access_token={JWT} HTTP/1.1");
        let r = redact(&s);
        assert!(!r.contains("c2lnbmF0dXJl"), "{r}");
        assert!(!r.contains("eyJhbGci"), "{r}");
        assert!(r.contains("\"exp\":1705310605"), "{r}");
        assert!(r.contains(&format!("{} chars", JWT.len())), "{r}");
    }

    #[test]
    fn other_secrets() {
        for (input, secret) in [
            (
                "Endpoint=https://x.service.signalr.net;AccessKey=abcDEF123+/=;Version=1.0;",
                "abcDEF123",
            ),
            (
                "https://acct.blob.core.windows.net/c?sv=2020&sig=Zm9vYmFyYmF6%3D&se=2024",
                "Zm9vYmFyYmF6",
            ),
            (
                "Authorization: Bearer opaque-token-value-123",
                "opaque-token-value-123",
            ),
            (
                "Cookie: ARRAffinity=abc123; session=xyz",
                "ARRAffinity=abc123",
            ),
            (
                "{\"url\":\"https://x/client\",\"accessToken\":\"not-a-jwt-but-secret\"}",
                "not-a-jwt-but-secret",
            ),
            ("password=hunter2&user=a", "hunter2"),
        ] {
            let r = redact(input);
            assert!(!r.contains(secret), "{input} -> {r}");
            assert!(r.contains("[redacted"), "{input} -> {r}");
        }
    }

    #[test]
    fn plain_text_is_untouched_and_borrowed() {
        let s = "Service connection 3c9f connected.";
        assert!(matches!(redact(s), Cow::Borrowed(_)));
        assert_eq!(redact("hub=chat&id=abc"), "hub=chat&id=abc");
    }
}
