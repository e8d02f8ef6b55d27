//! A rule file as written: the serde layer.
//!
//! Values that later checks may complain about are `Spanned`, so the error
//! can point at them; unknown keys are refused by serde
//! (`deny_unknown_fields`) and given a did-you-mean in `compile`.

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use std::fmt;
use toml::Spanned;

/// One rule file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleFile {
    pub(crate) id: Spanned<String>,
    pub(crate) title: Spanned<String>,
    #[serde(default)]
    pub(crate) guide: Option<Spanned<String>>,
    pub(crate) severity: Spanned<String>,
    #[serde(default)]
    pub(crate) docs: Option<String>,
    pub(crate) cause: Spanned<String>,
    pub(crate) fix: Spanned<Texts>,
    #[serde(default)]
    pub(crate) tags: Vec<String>,
    #[serde(default)]
    pub(crate) summary: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) kind: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) side: Option<Spanned<String>>,
    #[serde(rename = "match", default)]
    pub(crate) match_: Option<Spanned<MatchSpec>>,
    #[serde(default)]
    pub(crate) count: Option<Spanned<CountSpec>>,
    #[serde(default)]
    pub(crate) sequence: Option<Spanned<SequenceSpec>>,
    #[serde(default)]
    pub(crate) trend: Option<Spanned<TrendSpec>>,
    #[serde(default)]
    pub(crate) evidence: Vec<Spanned<EvidenceSpec>>,
    #[serde(default)]
    pub(crate) explains: Option<Spanned<ExplainsSpec>>,
    #[serde(default)]
    pub(crate) example: Vec<Spanned<ExampleSpec>>,
}

/// `[match]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MatchSpec {
    pub(crate) when: Spanned<Conds>,
}

/// `[count]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CountSpec {
    pub(crate) when: Spanned<Conds>,
    pub(crate) at_least: Spanned<i64>,
    pub(crate) window: Spanned<String>,
    #[serde(default)]
    pub(crate) group_by: Option<Spanned<Texts>>,
}

/// `[sequence]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SequenceSpec {
    #[serde(default)]
    pub(crate) key: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) step: Vec<Spanned<StepSpec>>,
    #[serde(rename = "where", default)]
    pub(crate) where_: Option<Spanned<String>>,
}

/// `[[sequence.step]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StepSpec {
    pub(crate) name: Spanned<String>,
    pub(crate) when: Spanned<Conds>,
    #[serde(default)]
    pub(crate) after: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) within: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) absent: bool,
}

/// `[trend]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TrendSpec {
    pub(crate) up: Spanned<Conds>,
    #[serde(default)]
    pub(crate) down: Option<Spanned<Conds>>,
    pub(crate) bucket: Spanned<String>,
    pub(crate) rising_for: Spanned<String>,
    #[serde(default)]
    pub(crate) min_increase: Option<Spanned<i64>>,
    #[serde(default)]
    pub(crate) group_by: Option<Spanned<Texts>>,
}

/// `[[evidence]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EvidenceSpec {
    #[serde(default)]
    pub(crate) window: Option<Spanned<String>>,
    pub(crate) when: Spanned<Conds>,
}

/// `[explains]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExplainsSpec {
    pub(crate) drops: Spanned<Texts>,
    pub(crate) window: Spanned<String>,
    #[serde(default)]
    pub(crate) same: Option<Spanned<Texts>>,
    #[serde(default)]
    pub(crate) weight: Option<f64>,
}

/// `[[example]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExampleSpec {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) format: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) text: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) event: Vec<Spanned<toml::Table>>,
    pub(crate) expect: Spanned<i64>,
}

/// One condition or a list of them (any of).
#[derive(Debug)]
pub(crate) enum Conds {
    One(String),
    Many(Vec<Spanned<String>>),
}

/// One text or a list of texts.
#[derive(Debug)]
pub(crate) enum Texts {
    One(String),
    Many(Vec<Spanned<String>>),
}

impl Texts {
    /// The texts with their spans (`outer` for a single one).
    pub(crate) fn items(
        &self,
        outer: std::ops::Range<usize>,
    ) -> Vec<(String, std::ops::Range<usize>)> {
        match self {
            Texts::One(s) => vec![(s.clone(), outer)],
            Texts::Many(v) => v.iter().map(|s| (s.get_ref().clone(), s.span())).collect(),
        }
    }
}

impl Conds {
    /// The conditions with their spans (`outer` for a single one).
    pub(crate) fn items(
        &self,
        outer: std::ops::Range<usize>,
    ) -> Vec<(String, std::ops::Range<usize>)> {
        match self {
            Conds::One(s) => vec![(s.clone(), outer)],
            Conds::Many(v) => v.iter().map(|s| (s.get_ref().clone(), s.span())).collect(),
        }
    }
}

/// A string or an array of strings, with spans for each array element.
struct OneOrMany;

impl<'de> Visitor<'de> for OneOrMany {
    type Value = (Option<String>, Vec<Spanned<String>>);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or an array of strings")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok((Some(v.to_string()), Vec::new()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<String>>()? {
            out.push(item);
        }
        if out.is_empty() {
            return Err(de::Error::invalid_length(0, &"at least one string"));
        }
        Ok((None, out))
    }
}

impl<'de> Deserialize<'de> for Conds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match d.deserialize_any(OneOrMany)? {
            (Some(one), _) => Conds::One(one),
            (None, many) => Conds::Many(many),
        })
    }
}

impl<'de> Deserialize<'de> for Texts {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match d.deserialize_any(OneOrMany)? {
            (Some(one), _) => Texts::One(one),
            (None, many) => Texts::Many(many),
        })
    }
}
