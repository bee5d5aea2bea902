//! When a watch uploads: once changes have settled, at most every so often, or at most daily.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Error, ErrorCode, Result};

const DAY: u64 = 24 * 60 * 60;
/// A folder that never stops changing is still uploaded this often (a log file appended to
/// every second would otherwise never be quiet).
const LONGEST_WAIT: Duration = Duration::from_secs(60 * 60);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Rhythm {
    /// Once nothing has changed for `quiet_secs`: "when changes have settled for 2 minutes".
    Settled { quiet_secs: u64 },
    /// At most every `secs`, when something changed: "every hour".
    Every { secs: u64 },
    /// At most once a day, when something changed.
    AtMostDaily,
}

impl Default for Rhythm {
    fn default() -> Self {
        Rhythm::Settled { quiet_secs: 120 }
    }
}

impl Rhythm {
    /// `settled` or `settled:2m`, `every:1h`, `daily` (units: s, m, h, d).
    pub fn parse(text: &str) -> Result<Rhythm> {
        let bad = || {
            Error::new(
                ErrorCode::InvalidInput,
                format!(
                    "'{text}' is not a rhythm. Use settled:2m (when changes have settled for 2 minutes), every:1h, or daily."
                ),
            )
        };
        let (kind, amount) = match text.trim().split_once(':') {
            Some((k, a)) => (k.trim(), Some(a.trim())),
            None => (text.trim(), None),
        };
        let secs = |a: Option<&str>| {
            a.and_then(parse_duration)
                .filter(|s| *s > 0)
                .ok_or_else(bad)
        };
        match (kind, amount) {
            ("settled", None) => Ok(Rhythm::default()),
            ("settled", a) => Ok(Rhythm::Settled {
                quiet_secs: secs(a)?,
            }),
            ("every", a) => Ok(Rhythm::Every { secs: secs(a)? }),
            ("daily", None) => Ok(Rhythm::AtMostDaily),
            _ => Err(bad()),
        }
    }

    /// For people: "when changes have settled for 2 minutes", "every hour", "at most once a day".
    pub fn describe(&self) -> String {
        match self {
            Rhythm::Settled { quiet_secs } => {
                format!("when changes have settled for {}", spell(*quiet_secs))
            }
            Rhythm::Every { secs } if *secs == 60 * 60 => "every hour".into(),
            Rhythm::Every { secs } => format!("every {}", spell(*secs)),
            Rhythm::AtMostDaily => "at most once a day".into(),
        }
    }

    /// How much longer changes wait, given how long ago the last change was seen, how long the
    /// oldest change has waited, how long ago the watch last committed (`None`: never), and how
    /// long until the last file still settling has settled. Zero means go now.
    pub(crate) fn wait(
        &self,
        since_last_change: Duration,
        since_oldest_change: Duration,
        since_last_commit: Option<Duration>,
        settling_left: Duration,
    ) -> Duration {
        let left = |want: Duration, had: Duration| want.saturating_sub(had);
        match self {
            // Settled also waits for files still settling: a burst the watch saw over a few
            // seconds (a loaded machine, a rescan dating changes by the files' dates) is one
            // commit, not the part that had settled when the folder went quiet.
            Rhythm::Settled { quiet_secs } => {
                let quiet = Duration::from_secs(*quiet_secs);
                left(quiet, since_last_change)
                    .max(settling_left)
                    .min(left(quiet.max(LONGEST_WAIT), since_oldest_change))
            }
            Rhythm::Every { secs } => since_last_commit
                .map_or(Duration::ZERO, |had| left(Duration::from_secs(*secs), had)),
            Rhythm::AtMostDaily => {
                since_last_commit.map_or(Duration::ZERO, |had| left(Duration::from_secs(DAY), had))
            }
        }
    }

    pub(crate) fn check(&self) -> Result<()> {
        match self {
            Rhythm::Settled { quiet_secs: 0 } | Rhythm::Every { secs: 0 } => Err(Error::new(
                ErrorCode::InvalidInput,
                "A watch's rhythm needs a time longer than zero.",
            )),
            _ => Ok(()),
        }
    }
}

/// `90`, `90s`, `2m`, `1h`, `1d` in seconds.
fn parse_duration(text: &str) -> Option<u64> {
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let n: u64 = number.parse().ok()?;
    let factor = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 60 * 60,
        "d" => DAY,
        _ => return None,
    };
    n.checked_mul(factor)
}

/// "2 minutes", "1 hour", "90 seconds".
pub(crate) fn spell(secs: u64) -> String {
    let (n, unit) = [(DAY, "day"), (3600, "hour"), (60, "minute")]
        .into_iter()
        .find(|(size, _)| secs >= *size && secs.is_multiple_of(*size))
        .map_or((secs, "second"), |(size, unit)| (secs / size, unit));
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn rhythms_read_and_say_what_they_do() {
        assert_eq!(Rhythm::parse("settled").unwrap(), Rhythm::default());
        let settled = Rhythm::parse("settled:2m").unwrap();
        assert_eq!(settled, Rhythm::Settled { quiet_secs: 120 });
        assert_eq!(
            settled.describe(),
            "when changes have settled for 2 minutes"
        );
        let hourly = Rhythm::parse("every:1h").unwrap();
        assert_eq!(hourly, Rhythm::Every { secs: 3600 });
        assert_eq!(hourly.describe(), "every hour");
        assert_eq!(
            Rhythm::parse("every:90").unwrap().describe(),
            "every 90 seconds"
        );
        assert_eq!(Rhythm::parse(" daily ").unwrap(), Rhythm::AtMostDaily);
        assert_eq!(Rhythm::AtMostDaily.describe(), "at most once a day");
        for bad in [
            "",
            "weekly",
            "every",
            "every:0s",
            "settled:2x",
            "daily:1h",
            "every:-1m",
        ] {
            let err = Rhythm::parse(bad).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidInput, "{bad}");
            assert!(err.message.contains("settled:2m"), "{}", err.message);
        }
    }

    #[test]
    fn settled_waits_for_quiet_but_not_forever() {
        let r = Rhythm::Settled { quiet_secs: 120 };
        assert_eq!(r.wait(s(30), s(30), None, s(0)), s(90), "still changing");
        assert_eq!(
            r.wait(s(120), s(500), Some(s(1)), s(0)),
            Duration::ZERO,
            "quiet"
        );
        // A folder that never stops changing goes after an hour anyway.
        assert_eq!(r.wait(s(1), s(3599), None, s(0)), s(1));
        assert_eq!(r.wait(s(1), s(3600), None, s(0)), Duration::ZERO);
    }

    #[test]
    fn settled_waits_for_files_still_settling_but_not_forever() {
        let r = Rhythm::Settled { quiet_secs: 2 };
        // Quiet for the rhythm, but files seen a moment ago settle in 3 s: one commit, later.
        assert_eq!(r.wait(s(2), s(10), None, s(3)), s(3));
        assert_eq!(r.wait(s(5), s(13), None, s(0)), Duration::ZERO);
        // A file that never stops changing does not hold the rest back past the longest wait.
        assert_eq!(r.wait(s(60), s(3600), None, s(3)), Duration::ZERO);
        // The other rhythms take what has settled when their time comes.
        let hourly = Rhythm::Every { secs: 3600 };
        assert_eq!(hourly.wait(s(0), s(0), Some(s(3600)), s(3)), Duration::ZERO);
    }

    #[test]
    fn every_and_daily_count_from_the_last_commit() {
        let hourly = Rhythm::Every { secs: 3600 };
        assert_eq!(
            hourly.wait(s(0), s(0), None, s(0)),
            Duration::ZERO,
            "never committed"
        );
        assert_eq!(hourly.wait(s(0), s(0), Some(s(600)), s(0)), s(3000));
        assert_eq!(hourly.wait(s(0), s(0), Some(s(3600)), s(0)), Duration::ZERO);
        let daily = Rhythm::AtMostDaily;
        assert_eq!(daily.wait(s(5), s(5), Some(s(DAY - 10)), s(0)), s(10));
        assert_eq!(daily.wait(s(5), s(5), Some(s(DAY)), s(0)), Duration::ZERO);
    }

    #[test]
    fn rhythms_round_trip_as_json() {
        let json = serde_json::to_string(&Rhythm::Settled { quiet_secs: 2 }).unwrap();
        assert_eq!(json, r#"{"kind":"settled","quiet_secs":2}"#);
        let daily: Rhythm = serde_json::from_str(r#"{"kind":"at_most_daily"}"#).unwrap();
        assert_eq!(daily, Rhythm::AtMostDaily);
    }
}
