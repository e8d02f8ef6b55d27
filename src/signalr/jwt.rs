//! Access tokens: a JWT's length and claims, never the token.
//!
//! The service rejects tokens longer than 4 K and expired ones (401), so the
//! length and the `exp`/`iat`/`nbf` claims are what a user needs to see.
//! The signature is never checked: we only read what the token says.

use crate::event::Value;
use crate::time::Timestamp;
use base64::Engine as _;
use std::borrow::Cow;

/// What a token says about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenInfo {
    /// Its length in bytes (the service's 4 K limit counts these).
    pub length: usize,
    /// Expiry, issue and not-before times, when the token is a JWT with them.
    pub exp: Option<Timestamp>,
    /// Issued at.
    pub iat: Option<Timestamp>,
    /// Not before.
    pub nbf: Option<Timestamp>,
    /// The claims as compact JSON with long values shortened (see
    /// [`crate::redact::jwt_claims`]).
    pub claims: Option<String>,
}

impl TokenInfo {
    /// Reads `token`; any text is a token, a JWT tells more.
    pub fn inspect(token: &str) -> TokenInfo {
        let payload = token.split('.').nth(1).and_then(|p| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p.trim_end_matches('='))
                .ok()
        });
        let claims: Option<serde_json::Value> =
            payload.and_then(|p| serde_json::from_slice(&p).ok());
        let time = |name: &str| {
            let secs = claims.as_ref()?.get(name)?.as_f64()?;
            let at = chrono::DateTime::from_timestamp(secs as i64, 0)?;
            Some(Timestamp::instant(at.naive_utc(), 0))
        };
        TokenInfo {
            length: token.len(),
            exp: time("exp"),
            iat: time("iat"),
            nbf: time("nbf"),
            claims: crate::redact::jwt_claims(token),
        }
    }

    /// From `nbf` (else `iat`) to `exp`, in seconds.
    pub fn lifetime_secs(&self) -> Option<i64> {
        Some(self.exp?.sort_key().0 - self.nbf.or(self.iat)?.sort_key().0)
    }

    /// The rule-language fields `token.*`.
    pub fn fields(&self) -> Vec<(String, Value<'static>)> {
        let mut out = vec![("token.length".to_string(), Value::Num(self.length as f64))];
        for (name, t) in [
            ("token.exp", self.exp),
            ("token.iat", self.iat),
            ("token.nbf", self.nbf),
        ] {
            if let Some(t) = t {
                out.push((name.to_string(), Value::Time(t)));
            }
        }
        if let Some(secs) = self.lifetime_secs() {
            out.push((
                "token.lifetime".to_string(),
                Value::Dur(secs.saturating_mul(1_000_000_000)),
            ));
        }
        if let Some(c) = &self.claims {
            out.push((
                "token.claims".to_string(),
                Value::Str(Cow::Owned(c.clone())),
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Header `{"alg":"HS256","typ":"JWT"}`, payload with iat 1705307005
    /// and exp 1705310605 (one hour later).
    const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJodHRwczovL2NvbnRvc28uc2VydmljZS5zaWduYWxyLm5ldC9jbGllbnQvP2h1Yj1jaGF0IiwiZXhwIjoxNzA1MzEwNjA1LCJpYXQiOjE3MDUzMDcwMDV9.c2lnbmF0dXJlLXNlY3JldC1ieXRlcw";

    #[test]
    fn a_jwt_gives_length_times_and_lifetime() {
        let t = TokenInfo::inspect(JWT);
        assert_eq!(t.length, JWT.len());
        assert_eq!(t.exp.unwrap().to_string(), "2024-01-15T09:23:25Z");
        let fields = t.fields();
        let lifetime = fields.iter().find(|(k, _)| k == "token.lifetime").unwrap();
        assert_eq!(lifetime.1, Value::Dur(3600 * 1_000_000_000));
        let claims = fields.iter().find(|(k, _)| k == "token.claims").unwrap();
        assert!(claims.1.to_text().contains("\"exp\":1705310605"));
        assert!(!claims.1.to_text().contains("c2lnbmF0dXJl"));
    }

    #[test]
    fn any_other_text_is_only_a_length() {
        let t = TokenInfo::inspect("opaque-token");
        assert_eq!((t.length, t.exp, t.claims.as_deref()), (12, None, None));
        assert_eq!(t.fields().len(), 1);
    }
}
