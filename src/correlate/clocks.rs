//! Lining up the inputs' clocks. Each input's times are compared as given
//! (after `--tz`) unless its offset to the others is known: set with
//! `--offset FILE=±DURATION`, or, for a log, estimated from evidence it
//! shares with a capture — the same negotiate request seen by the browser
//! (HAR, SAZ: absolute times, the reference) and by the app server's
//! hosting log.
//!
//! The estimate: every pair of same-path negotiate requests proposes an
//! offset; the largest group of proposals within [`AGREE_NANOS`] of each
//! other wins and its median is the offset. It is believed when it is
//! within a day's time zones ([`MAX_OFFSET_NANOS`]) and at least half the
//! requests of the sparser input agree — so one shared request can do, but
//! two unrelated captures that merely use the same hub path do not line up.
//! The report says how many requests agreed.

use crate::analyze::InputResult;
use crate::parse::Format;

/// Proposals this close together agree (network and logging delays).
const AGREE_NANOS: i128 = 2_000_000_000;

/// The largest offset believed: time zones differ by at most 14 hours; an
/// estimate beyond that pairs captures of different days, not one session.
const MAX_OFFSET_NANOS: i128 = 15 * 3600 * 1_000_000_000;

/// How an input's clock relates to the reference input's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clock {
    /// Added to the input's times to compare them with the reference's.
    pub offset_nanos: i128,
    /// Why: `set with --offset`, or the evidence it was estimated from.
    pub basis: String,
}

/// The clock of every input (`None`: compared as given). `manual` holds the
/// `--offset` values by input index.
pub fn align(results: &[InputResult], manual: &[(usize, i128)]) -> Vec<Option<Clock>> {
    let mut clocks: Vec<Option<Clock>> = vec![None; results.len()];
    for &(i, offset) in manual {
        if let Some(c) = clocks.get_mut(i) {
            *c = Some(Clock {
                offset_nanos: offset,
                basis: "set with --offset".to_string(),
            });
        }
    }
    // The reference is a capture: browsers and Fiddler write absolute
    // times. Other captures need no estimate; logs are lined up with it.
    let with_anchors = |i: &usize| !results[*i].summary.anchors.is_empty();
    let capture = |i: usize| matches!(results[i].format, Some(Format::Har | Format::Saz));
    let Some(reference) = (0..results.len())
        .filter(with_anchors)
        .find(|i| capture(*i))
    else {
        return clocks;
    };
    let base = clocks[reference].as_ref().map_or(0, |c| c.offset_nanos);
    for (i, r) in results.iter().enumerate() {
        if capture(i) || clocks[i].is_some() || r.summary.anchors.is_empty() {
            continue;
        }
        // (offset, kind of evidence), by offset.
        let mut proposed: Vec<(i128, &str)> = Vec::new();
        for (key, t) in &r.summary.anchors {
            for (ref_key, rt) in &results[reference].summary.anchors {
                if key == ref_key && t.has_date && rt.has_date {
                    let kind = key.split(' ').next().unwrap_or("");
                    proposed.push((rt.nanos() + base - t.nanos(), kind));
                }
            }
        }
        if proposed.is_empty() {
            continue;
        }
        proposed.sort_unstable();
        let proposals: Vec<i128> = proposed.iter().map(|p| p.0).collect();
        let kinds: Vec<&str> = proposed.iter().map(|p| p.1).collect();
        // The widest run of proposals that agree.
        let (mut best, mut start) = ((0, 0), 0);
        for end in 0..proposals.len() {
            while proposals[end] - proposals[start] > AGREE_NANOS {
                start += 1;
            }
            if end + 1 - start > best.1 - best.0 {
                best = (start, end + 1);
            }
        }
        let agreeing = &proposals[best.0..best.1];
        let offset = agreeing[agreeing.len() / 2];
        // Believed only when within a day's time zones and when most of the
        // requests the sparser input saw agree on it.
        let sparser = r
            .summary
            .anchors
            .len()
            .min(results[reference].summary.anchors.len());
        if offset.abs() > MAX_OFFSET_NANOS || agreeing.len() * 2 < sparser {
            continue;
        }
        let name = |r: &InputResult| crate::report::file_name(&r.path).to_string();
        let count = |kind: &str, one: &str, many: &str| {
            let n = kinds[best.0..best.1].iter().filter(|k| **k == kind).count();
            match n {
                0 => None,
                1 => Some(format!("1 {one}")),
                n => Some(format!("{n} {many}")),
            }
        };
        let what: Vec<String> = [
            count("negotiate", "negotiate request", "negotiate requests"),
            count("connection", "client connection", "client connections"),
        ]
        .into_iter()
        .flatten()
        .collect();
        clocks[i] = Some(Clock {
            offset_nanos: offset,
            basis: format!(
                "estimated from {} seen in both {} and {}",
                what.join(" and "),
                name(r),
                name(&results[reference])
            ),
        });
    }
    clocks
}

/// `±DURATION` as nanoseconds (`+3.5s`, `-8h`, `250ms`).
pub fn parse_offset(text: &str) -> Option<i128> {
    crate::rules::expr::parse_duration(text).map(i128::from)
}

/// An offset to the millisecond: `+8h00m00.012s`, `-1.500s`.
pub fn describe(offset: i128) -> String {
    let sign = if offset < 0 { '-' } else { '+' };
    let ms = offset.unsigned_abs() / 1_000_000;
    let (h, m, s, ms) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    if h > 0 {
        format!("{sign}{h}h{m:02}m{s:02}.{ms:03}s")
    } else if m > 0 {
        format!("{sign}{m}m{s:02}.{ms:03}s")
    } else {
        format!("{sign}{s}.{ms:03}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_parse_with_sign() {
        assert_eq!(parse_offset("+3s"), Some(3_000_000_000));
        assert_eq!(parse_offset("-8h"), Some(-8 * 3600 * 1_000_000_000));
        assert_eq!(parse_offset("250ms"), Some(250_000_000));
        assert_eq!(parse_offset("soon"), None);
        assert_eq!(describe(-1_500_000_000), "-1.500s");
        assert_eq!(describe(28_800_012_000_000), "+8h00m00.012s");
    }
}
