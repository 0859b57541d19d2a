//! Time: UTC instants with millisecond precision, time zones for naive times, and the
//! 5-minute window arithmetic that the plan is built on.
//!
//! Decisions recorded here:
//! - An instant is an `i64` count of milliseconds since the Unix epoch ([`UtcInstant`]). ONC
//!   writes instants with milliseconds (`2024-04-01T12:34:50.000Z`); finer input is truncated
//!   towards the past to the millisecond.
//! - A naive time (no `Z`, no offset) is read in a [`Zone`]: an IANA name, `UTC`, or a fixed
//!   offset. A local time that does not exist (clocks jump forward) or occurs twice (clocks
//!   fall back) is an error that shows the readings; it is never guessed.
//! - A [`Window5m`] is a slot of the 5-minute grid: `[start, start + 300 s)` with `start` a
//!   multiple of 300 s since the epoch. It is an identity for planning, not a file: real ONC
//!   files start seconds off the grid.

#![expect(
    clippy::cast_possible_truncation,
    reason = "codec and container arithmetic: sample, frame and byte counts are range-checked against the format's limits before these casts"
)]

use chrono::{DateTime, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// Milliseconds in one 5-minute window.
pub const WINDOW_MILLIS: i64 = 300_000;

/// Errors from parsing times and zones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimeError {
    /// The text is not an ISO 8601 date-time.
    #[error(
        "`{input}` is not an ISO 8601 time (expected e.g. `2024-04-01T12:34:50Z`, \
         `2024-04-01 12:34:50.5`, or `2024-04-01T05:34:50-07:00`)"
    )]
    Malformed {
        /// What was given.
        input: String,
    },
    /// The zone is neither an IANA name, `UTC`, nor an offset.
    #[error(
        "`{input}` is not a time zone (expected an IANA name such as `America/Vancouver`, \
         `UTC`, or an offset such as `-07:00`)"
    )]
    UnknownZone {
        /// What was given.
        input: String,
    },
    /// The local time falls in a gap (clocks jumped forward).
    #[error("local time {local} does not exist in {zone} (the clocks jump forward over it)")]
    Nonexistent {
        /// The naive local reading.
        local: String,
        /// The zone it was read in.
        zone: String,
    },
    /// The local time occurs twice (clocks fell back).
    #[error(
        "local time {local} is ambiguous in {zone}: it occurs twice, as {first} and as {second}; \
         give an offset to choose"
    )]
    Ambiguous {
        /// The naive local reading.
        local: String,
        /// The zone it was read in.
        zone: String,
        /// The earlier reading, as a UTC instant.
        first: UtcInstant,
        /// The later reading, as a UTC instant.
        second: UtcInstant,
    },
    /// The instant is outside the supported range.
    #[error("`{input}` is outside the supported time range")]
    OutOfRange {
        /// What was given.
        input: String,
    },
}

/// A UTC instant with millisecond precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UtcInstant(i64);

impl UtcInstant {
    /// The instant `ms` milliseconds after the Unix epoch.
    #[must_use]
    pub const fn from_unix_millis(ms: i64) -> Self {
        Self(ms)
    }

    /// Milliseconds since the Unix epoch.
    #[must_use]
    pub const fn unix_millis(self) -> i64 {
        self.0
    }

    /// Seconds since the Unix epoch, as a float.
    #[must_use]
    #[expect(
        clippy::cast_precision_loss,
        reason = "milliseconds fit f64 exactly for centuries"
    )]
    pub fn unix_seconds_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }

    /// From a chrono UTC date-time (truncated to the millisecond).
    #[must_use]
    pub fn from_datetime(dt: DateTime<Utc>) -> Self {
        Self(dt.timestamp_millis())
    }

    /// As a chrono UTC date-time.
    #[must_use]
    pub fn to_datetime(self) -> DateTime<Utc> {
        // Every i64 millisecond count within chrono's range maps; out-of-range values cannot
        // be built through the parsers, so fall back to the epoch rather than panic.
        DateTime::from_timestamp_millis(self.0).unwrap_or(DateTime::UNIX_EPOCH)
    }

    /// The current time.
    #[must_use]
    pub fn now() -> Self {
        Self::from_datetime(Utc::now())
    }

    /// This instant moved by `ms` milliseconds (saturating at the ends of the range).
    #[must_use]
    pub const fn add_millis(self, ms: i64) -> Self {
        Self(self.0.saturating_add(ms))
    }

    /// This instant moved by a number of seconds, rounded to the nearest millisecond.
    #[must_use]
    #[expect(
        clippy::cast_possible_truncation,
        reason = "rounded and range-checked by `as` saturation"
    )]
    pub fn add_seconds(self, s: f64) -> Self {
        self.add_millis((s * 1000.0).round() as i64)
    }

    /// Milliseconds from `earlier` to `self` (negative if `earlier` is later).
    #[must_use]
    pub const fn millis_since(self, earlier: Self) -> i64 {
        self.0 - earlier.0
    }

    /// Parses an ISO 8601 instant; a naive time is read as UTC.
    ///
    /// # Errors
    /// [`TimeError`] when the text is malformed or out of range.
    pub fn parse(s: &str) -> Result<Self, TimeError> {
        Self::parse_in(s, &Zone::Utc)
    }

    /// Parses an ISO 8601 instant; a naive time is read in `zone`, an aware one (`Z` or an
    /// offset) ignores it.
    ///
    /// Accepted: `T` or a space between date and time; seconds optional; any number of
    /// fractional digits (truncated to milliseconds); `Z`, `±HH:MM`, `±HHMM` or `±HH`; a bare
    /// date means its midnight.
    ///
    /// # Errors
    /// [`TimeError`] when malformed, out of range, or nonexistent/ambiguous in `zone`.
    pub fn parse_in(s: &str, zone: &Zone) -> Result<Self, TimeError> {
        let malformed = || TimeError::Malformed {
            input: s.to_owned(),
        };
        let text = s.trim();
        // Every accepted form is ASCII; checking first makes the byte slicing below safe.
        if !text.is_ascii() {
            return Err(malformed());
        }
        let (naive_part, offset) = split_offset(text).ok_or_else(malformed)?;
        let naive = parse_naive(naive_part).ok_or_else(malformed)?;
        match offset {
            Some(off) => {
                let dt = off.from_local_datetime(&naive).single().ok_or_else(|| {
                    TimeError::OutOfRange {
                        input: s.to_owned(),
                    }
                })?;
                Ok(Self(dt.timestamp_millis()))
            }
            None => zone.resolve(&naive),
        }
    }

    /// ONC's API style: `2024-04-01T12:34:50.000Z`.
    #[must_use]
    pub fn to_onc_string(self) -> String {
        let mut out = Vec::with_capacity(24);
        self.push_onc(&mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    /// Appends ONC's API style (`2024-04-01T12:34:50.000Z`) to `out`. Plans write millions of
    /// these, so the digits are written directly rather than through a format string.
    pub fn push_onc(self, out: &mut Vec<u8>) {
        self.push_stamp(out, true);
    }

    /// ONC's file-name style: `20240401T123450.000Z`.
    #[must_use]
    pub fn to_file_stamp(self) -> String {
        let mut out = Vec::with_capacity(20);
        self.push_stamp(&mut out, false);
        String::from_utf8(out).unwrap_or_default()
    }

    fn push_stamp(self, out: &mut Vec<u8>, separators: bool) {
        use chrono::{Datelike, Timelike};
        let dt = self.to_datetime();
        let year = dt.year();
        if !(0..=9999).contains(&year) {
            let f = if separators {
                "%Y-%m-%dT%H:%M:%S%.3fZ"
            } else {
                "%Y%m%dT%H%M%S%.3fZ"
            };
            out.extend_from_slice(dt.format(f).to_string().as_bytes());
            return;
        }
        let two = |out: &mut Vec<u8>, v: u32| {
            out.extend_from_slice(&[b'0' + (v / 10 % 10) as u8, b'0' + (v % 10) as u8]);
        };
        let year = year.unsigned_abs();
        two(out, year / 100);
        two(out, year % 100);
        let (date_sep, time_sep): (&[u8], &[u8]) =
            if separators { (b"-", b":") } else { (b"", b"") };
        out.extend_from_slice(date_sep);
        two(out, dt.month());
        out.extend_from_slice(date_sep);
        two(out, dt.day());
        out.push(b'T');
        two(out, dt.hour());
        out.extend_from_slice(time_sep);
        two(out, dt.minute());
        out.extend_from_slice(time_sep);
        two(out, dt.second());
        let ms = self.0.rem_euclid(1000).unsigned_abs();
        out.extend_from_slice(&[
            b'.',
            b'0' + (ms / 100) as u8,
            b'0' + (ms / 10 % 10) as u8,
            b'0' + (ms % 10) as u8,
            b'Z',
        ]);
    }

    /// Parses ONC's file-name style (`20240401T123450.000Z`, milliseconds optional).
    ///
    /// # Errors
    /// [`TimeError::Malformed`] when the text is not in that style.
    pub fn parse_file_stamp(s: &str) -> Result<Self, TimeError> {
        let malformed = || TimeError::Malformed {
            input: s.to_owned(),
        };
        let body = s.strip_suffix('Z').ok_or_else(malformed)?;
        let naive =
            NaiveDateTime::parse_from_str(body, "%Y%m%dT%H%M%S%.f").map_err(|_| malformed())?;
        Ok(Self(naive.and_utc().timestamp_millis()))
    }

    /// Finds the first `YYYYMMDDTHHMMSS[.sss]Z` stamp in an ONC file name and parses it.
    #[must_use]
    pub fn from_file_name(name: &str) -> Option<Self> {
        let bytes = name.as_bytes();
        (0..bytes.len()).find_map(|i| {
            // Not a char boundary: not the start of a stamp either.
            let rest = name.get(i..)?;
            let b = rest.as_bytes();
            if b.len() < 16 || !b[..8].iter().all(u8::is_ascii_digit) || b[8] != b'T' {
                return None;
            }
            if !b[9..15].iter().all(u8::is_ascii_digit) {
                return None;
            }
            let mut end = 15;
            if b.get(15) == Some(&b'.') {
                end = 16;
                while b.get(end).is_some_and(u8::is_ascii_digit) {
                    end += 1;
                }
            }
            if b.get(end) != Some(&b'Z') {
                return None;
            }
            // Only take a stamp that is not glued to a longer run of digits.
            if i > 0 && bytes[i - 1].is_ascii_digit() {
                return None;
            }
            Self::parse_file_stamp(&rest[..=end]).ok()
        })
    }
}

impl fmt::Display for UtcInstant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_onc_string())
    }
}

impl FromStr for UtcInstant {
    type Err = TimeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for UtcInstant {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_onc_string())
    }
}

impl<'de> Deserialize<'de> for UtcInstant {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Splits a trailing `Z` or numeric offset from an ISO 8601 text.
/// Returns `None` if an offset-looking suffix is malformed.
fn split_offset(text: &str) -> Option<(&str, Option<FixedOffset>)> {
    if let Some(body) = text.strip_suffix('Z').or_else(|| text.strip_suffix('z')) {
        return Some((body, FixedOffset::east_opt(0)));
    }
    // An offset can only follow the time part, which starts after the date (10 chars).
    if text.len() <= 10 {
        return Some((text, None));
    }
    let time_part = &text[10..];
    match time_part.rfind(['+', '-']) {
        Some(pos) => {
            let split = 10 + pos;
            let offset = parse_offset(&text[split..])?;
            Some((&text[..split], Some(offset)))
        }
        None => Some((text, None)),
    }
}

/// Parses `±HH:MM`, `±HHMM` or `±HH`.
fn parse_offset(s: &str) -> Option<FixedOffset> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let colon_ok = match rest.find(':') {
        None => true,
        Some(2) => rest.len() == 5,
        Some(_) => false,
    };
    if !colon_ok {
        return None;
    }
    let (h, m) = match digits.len() {
        2 => (digits.parse::<i32>().ok()?, 0),
        4 => (
            digits[..2].parse::<i32>().ok()?,
            digits[2..].parse::<i32>().ok()?,
        ),
        _ => return None,
    };
    if h > 23 || m > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

/// Parses a naive date-time with `T` or space, optional seconds and fraction, or a bare date.
fn parse_naive(s: &str) -> Option<NaiveDateTime> {
    if s.len() == 10 {
        return NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()?
            .and_hms_opt(0, 0, 0);
    }
    let b = s.as_bytes();
    if b.len() < 16 || !(b[10] == b'T' || b[10] == b't' || b[10] == b' ') {
        return None;
    }
    if let Some(dt) = parse_plain(b) {
        return Some(dt);
    }
    let normal = format!("{}T{}", &s[..10], &s[11..]);
    let (main, frac) = match normal.split_once(['.', ',']) {
        Some((m, f)) => (m, Some(f)),
        None => (normal.as_str(), None),
    };
    let dt = match main.len() {
        16 if frac.is_none() => NaiveDateTime::parse_from_str(main, "%Y-%m-%dT%H:%M").ok()?,
        19 => NaiveDateTime::parse_from_str(main, "%Y-%m-%dT%H:%M:%S").ok()?,
        _ => return None,
    };
    let millis = match frac {
        None => 0,
        Some(f) if !f.is_empty() && f.chars().all(|c| c.is_ascii_digit()) => {
            let mut digits: String = f.chars().take(3).collect();
            while digits.len() < 3 {
                digits.push('0');
            }
            digits.parse::<i64>().ok()?
        }
        Some(_) => return None,
    };
    dt.checked_add_signed(chrono::TimeDelta::milliseconds(millis))
}

/// The common shape `YYYY-MM-DD?HH:MM:SS` with up to three fraction digits after a `.`,
/// read without a format string (request files hold a million of them). `None` for anything
/// else, including out-of-range fields, which the general path then reads or rejects.
fn parse_plain(b: &[u8]) -> Option<NaiveDateTime> {
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b.get(r)?.iter().try_fold(0_u32, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let shape = b.len() >= 19
        && b[4] == b'-'
        && b[7] == b'-'
        && b[13] == b':'
        && b[16] == b':'
        && (b.len() == 19 || (b[19] == b'.' && (21..=23).contains(&b.len())));
    if !shape {
        return None;
    }
    let mut millis = 0;
    if b.len() > 19 {
        let f = num(20..b.len())?;
        millis = f * [100, 10, 1][b.len() - 21];
    }
    let year = i32::try_from(num(0..4)?).ok()?;
    NaiveDate::from_ymd_opt(year, num(5..7)?, num(8..10)?)?.and_hms_milli_opt(
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
        millis,
    )
}

/// The zone in which naive times are read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Zone {
    /// Coordinated Universal Time.
    #[default]
    Utc,
    /// A fixed offset from UTC.
    Fixed(FixedOffset),
    /// An IANA time-zone database zone, with its DST rules.
    Iana(chrono_tz::Tz),
}

impl Zone {
    /// Parses `UTC`/`Z`, an offset (`-07:00`, `+0530`, `UTC-07:00`), or an IANA name.
    ///
    /// # Errors
    /// [`TimeError::UnknownZone`] when it is none of those.
    pub fn parse(s: &str) -> Result<Self, TimeError> {
        let t = s.trim();
        let unknown = || TimeError::UnknownZone {
            input: s.to_owned(),
        };
        if t.eq_ignore_ascii_case("utc") || t == "Z" || t.eq_ignore_ascii_case("gmt") {
            return Ok(Self::Utc);
        }
        let offset_text = t
            .strip_prefix("UTC")
            .or_else(|| t.strip_prefix("utc"))
            .or_else(|| t.strip_prefix("GMT"))
            .unwrap_or(t);
        if offset_text.starts_with(['+', '-']) {
            return parse_offset(offset_text)
                .map(Self::Fixed)
                .ok_or_else(unknown);
        }
        t.parse::<chrono_tz::Tz>()
            .map(Self::Iana)
            .map_err(|_| unknown())
    }

    /// Reads a naive local time in this zone.
    ///
    /// # Errors
    /// [`TimeError::Nonexistent`] or [`TimeError::Ambiguous`] around DST changes.
    pub fn resolve(&self, naive: &NaiveDateTime) -> Result<UtcInstant, TimeError> {
        let local = naive.format("%Y-%m-%dT%H:%M:%S%.3f").to_string();
        let pick = |r: LocalResult<i64>| match r {
            LocalResult::Single(ms) => Ok(UtcInstant(ms)),
            LocalResult::None => Err(TimeError::Nonexistent {
                local: local.clone(),
                zone: self.to_string(),
            }),
            LocalResult::Ambiguous(a, b) => Err(TimeError::Ambiguous {
                local: local.clone(),
                zone: self.to_string(),
                first: UtcInstant(a.min(b)),
                second: UtcInstant(a.max(b)),
            }),
        };
        match self {
            Self::Utc => Ok(UtcInstant(naive.and_utc().timestamp_millis())),
            Self::Fixed(off) => pick(off.from_local_datetime(naive).map(|d| d.timestamp_millis())),
            Self::Iana(tz) => pick(tz.from_local_datetime(naive).map(|d| d.timestamp_millis())),
        }
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Utc => f.write_str("UTC"),
            Self::Fixed(off) => write!(f, "{off}"),
            Self::Iana(tz) => f.write_str(tz.name()),
        }
    }
}

impl FromStr for Zone {
    type Err = TimeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// A slot of the 5-minute grid: `[start, start + 300 s)`, `start` a multiple of 300 s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Window5m {
    start: UtcInstant,
}

impl Window5m {
    /// The window that holds `t`.
    #[must_use]
    pub const fn floor(t: UtcInstant) -> Self {
        Self {
            start: UtcInstant(t.0.div_euclid(WINDOW_MILLIS) * WINDOW_MILLIS),
        }
    }

    /// The first window starting at or after `t`.
    #[must_use]
    pub const fn ceil(t: UtcInstant) -> Self {
        let f = t.0.div_euclid(WINDOW_MILLIS) * WINDOW_MILLIS;
        let start = if f == t.0 { f } else { f + WINDOW_MILLIS };
        Self {
            start: UtcInstant(start),
        }
    }

    /// The window starting exactly at `t`, if `t` is on the grid.
    #[must_use]
    pub const fn starting_at(t: UtcInstant) -> Option<Self> {
        if t.0.rem_euclid(WINDOW_MILLIS) == 0 {
            Some(Self { start: t })
        } else {
            None
        }
    }

    /// Start of the window.
    #[must_use]
    pub const fn start(self) -> UtcInstant {
        self.start
    }

    /// End of the window (exclusive).
    #[must_use]
    pub const fn end(self) -> UtcInstant {
        UtcInstant(self.start.0 + WINDOW_MILLIS)
    }

    /// The following window.
    #[must_use]
    pub const fn next(self) -> Self {
        Self { start: self.end() }
    }

    /// The window `n` slots after this one (or before, for negative `n`).
    #[must_use]
    pub const fn offset(self, n: i64) -> Self {
        Self {
            start: UtcInstant(self.start.0 + n * WINDOW_MILLIS),
        }
    }

    /// Whether `t` is inside `[start, end)`.
    #[must_use]
    pub const fn contains(self, t: UtcInstant) -> bool {
        self.start.0 <= t.0 && t.0 < self.start.0 + WINDOW_MILLIS
    }

    /// Number of whole slots from `self` to `other` (negative if `other` is earlier).
    #[must_use]
    pub const fn slots_until(self, other: Self) -> i64 {
        (other.start.0 - self.start.0) / WINDOW_MILLIS
    }

    /// The windows overlapping the half-open span `[a, b)`, in order. An empty span `a == b`
    /// gives the window that holds `a`; a reversed span gives nothing.
    #[must_use]
    pub fn covering(a: UtcInstant, b: UtcInstant) -> WindowIter {
        if b < a {
            return WindowIter {
                next: Self::floor(a),
                last: Self::floor(a),
                done: true,
            };
        }
        let first = Self::floor(a);
        let last = if a == b {
            first
        } else {
            Self::floor(UtcInstant(b.0 - 1))
        };
        WindowIter {
            next: first,
            last,
            done: false,
        }
    }
}

impl fmt::Display for Window5m {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.start.fmt(f)
    }
}

impl Serialize for Window5m {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.start.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Window5m {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let t = UtcInstant::deserialize(d)?;
        Self::starting_at(t)
            .ok_or_else(|| serde::de::Error::custom(format!("{t} is not on the 5-minute grid")))
    }
}

/// Iterator over consecutive windows, from [`Window5m::covering`].
#[derive(Debug, Clone)]
pub struct WindowIter {
    next: Window5m,
    last: Window5m,
    done: bool,
}

impl Iterator for WindowIter {
    type Item = Window5m;
    fn next(&mut self) -> Option<Window5m> {
        if self.done {
            return None;
        }
        let w = self.next;
        if w == self.last {
            self.done = true;
        } else {
            self.next = w.next();
        }
        Some(w)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            return (0, Some(0));
        }
        let n = usize::try_from(self.next.slots_until(self.last) + 1).unwrap_or(usize::MAX);
        (n, Some(n))
    }
}

impl ExactSizeIterator for WindowIter {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(s: &str) -> UtcInstant {
        UtcInstant::parse(s).unwrap()
    }

    #[test]
    fn parses_the_accepted_shapes() {
        let want = t("2024-04-01T12:34:50.000Z");
        assert_eq!(want.unix_millis(), 1_711_974_890_000);
        for s in [
            "2024-04-01T12:34:50Z",
            "2024-04-01 12:34:50Z",
            "2024-04-01T12:34:50.000z",
            "2024-04-01T12:34:50+00:00",
            "2024-04-01T05:34:50-07:00",
            "2024-04-01T05:34:50-0700",
            "2024-04-01T05:34:50-07",
            "2024-04-01T18:04:50+05:30",
            "2024-04-01T12:34:50",
            "  2024-04-01T12:34:50Z ",
        ] {
            assert_eq!(t(s), want, "{s}");
        }
        assert_eq!(t("2024-04-01T12:34Z"), want.add_millis(-50_000));
        assert_eq!(t("2024-04-01"), t("2024-04-01T00:00:00Z"));
        assert_eq!(t("2024-04-01T12:34:50.5Z").unix_millis() % 1000, 500);
        assert_eq!(t("2024-04-01T12:34:50.123456Z").unix_millis() % 1000, 123);
        assert_eq!(t("2024-04-01T12:34:50,25Z").unix_millis() % 1000, 250);
    }

    #[test]
    fn rejects_malformed_text() {
        for s in [
            "",
            "yesterday",
            "2024-04-01T",
            "2024-13-01T00:00:00Z",
            "2024-04-01T25:00:00Z",
            "2024-04-01T12:34:50.Z",
            "2024-04-01T12:34:50+7",
            "2024-04-01T12:34:50+07:0",
            "2024-04-01T12:34:50+24:00",
            "2024/04/01 12:34:50",
            "2024-04-01X12:34:50",
            "2024-04-01T12:34:5\u{e9}",
            "\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}",
            "2024-04-01\u{2003}12:00:00",
        ] {
            assert!(
                matches!(UtcInstant::parse(s), Err(TimeError::Malformed { .. })),
                "{s:?} should be malformed, got {:?}",
                UtcInstant::parse(s)
            );
        }
    }

    #[test]
    fn naive_times_take_the_zone_and_aware_ones_ignore_it() {
        let van = Zone::parse("America/Vancouver").unwrap();
        assert_eq!(
            UtcInstant::parse_in("2024-04-01T05:34:50", &van).unwrap(),
            t("2024-04-01T12:34:50Z")
        );
        assert_eq!(
            UtcInstant::parse_in("2024-04-01T12:34:50Z", &van).unwrap(),
            t("2024-04-01T12:34:50Z")
        );
        let fixed = Zone::parse("-07:00").unwrap();
        assert_eq!(
            UtcInstant::parse_in("2024-01-01 05:00:00", &fixed).unwrap(),
            t("2024-01-01T12:00:00Z")
        );
        assert_eq!(
            Zone::parse("UTC+05:30").unwrap(),
            Zone::parse("+0530").unwrap()
        );
        assert_eq!(Zone::parse("utc").unwrap(), Zone::Utc);
        assert!(matches!(
            Zone::parse("Mars/Olympus"),
            Err(TimeError::UnknownZone { .. })
        ));
        assert!(matches!(
            Zone::parse("+25:00"),
            Err(TimeError::UnknownZone { .. })
        ));
    }

    #[test]
    fn dst_gaps_and_folds_are_errors_with_readings() {
        let van = Zone::parse("America/Vancouver").unwrap();
        // 2024-03-10 02:30 does not exist in Vancouver.
        let gap = UtcInstant::parse_in("2024-03-10T02:30:00", &van).unwrap_err();
        assert!(matches!(gap, TimeError::Nonexistent { .. }));
        assert!(gap.to_string().contains("2024-03-10T02:30:00.000"), "{gap}");
        assert!(gap.to_string().contains("America/Vancouver"), "{gap}");
        // 2024-11-03 01:30 happens twice: 08:30Z (PDT) and 09:30Z (PST).
        let fold = UtcInstant::parse_in("2024-11-03T01:30:00", &van).unwrap_err();
        match &fold {
            TimeError::Ambiguous { first, second, .. } => {
                assert_eq!(*first, t("2024-11-03T08:30:00Z"));
                assert_eq!(*second, t("2024-11-03T09:30:00Z"));
            }
            other => panic!("expected ambiguous, got {other:?}"),
        }
        let msg = fold.to_string();
        assert!(
            msg.contains("2024-11-03T08:30:00.000Z") && msg.contains("2024-11-03T09:30:00.000Z"),
            "{msg}"
        );
    }

    #[test]
    fn formats_in_onc_styles() {
        let x = t("2024-04-01T12:34:50.007Z");
        assert_eq!(x.to_onc_string(), "2024-04-01T12:34:50.007Z");
        assert_eq!(x.to_file_stamp(), "20240401T123450.007Z");
        assert_eq!(
            UtcInstant::parse_file_stamp("20240401T123450.007Z").unwrap(),
            x
        );
        assert_eq!(
            UtcInstant::parse_file_stamp("20240401T123450Z").unwrap(),
            x.add_millis(-7)
        );
        assert_eq!(x.to_string(), "2024-04-01T12:34:50.007Z");
        assert_eq!(
            t("1969-12-31T23:59:59.999Z").to_onc_string(),
            "1969-12-31T23:59:59.999Z"
        );
    }

    #[test]
    fn finds_stamps_in_onc_file_names() {
        let n = UtcInstant::from_file_name;
        assert_eq!(
            n("ICLISTENHF6324_20240401T120003.000Z.flac"),
            Some(t("2024-04-01T12:00:03Z"))
        );
        assert_eq!(
            n("ICLISTENHF6016_20250317T000500.000Z-LPF-spect.png"),
            Some(t("2025-03-17T00:05:00Z"))
        );
        assert_eq!(
            n("JASCOAMARHYDROPHONEE000186_20260115T025100.163Z-spect.png"),
            Some(t("2026-01-15T02:51:00.163Z"))
        );
        assert_eq!(n("readme.txt"), None);
        assert_eq!(
            n("\u{e9}t\u{e9}_20240401T120003.000Z.wav"),
            Some(t("2024-04-01T12:00:03Z"))
        );
        assert_eq!(n("X_20241301T000000.000Z.flac"), None);
    }

    #[test]
    fn window_edges() {
        let w = Window5m::floor(t("2024-04-01T12:34:50Z"));
        assert_eq!(w.start(), t("2024-04-01T12:30:00Z"));
        assert_eq!(w.end(), t("2024-04-01T12:35:00Z"));
        assert_eq!(
            Window5m::ceil(t("2024-04-01T12:34:50Z")).start(),
            t("2024-04-01T12:35:00Z")
        );
        assert_eq!(
            Window5m::ceil(t("2024-04-01T12:35:00Z")).start(),
            t("2024-04-01T12:35:00Z")
        );
        let span: Vec<_> = Window5m::covering(t("2024-04-01T12:34:35Z"), t("2024-04-01T12:35:05Z"))
            .map(|w| w.start().to_string())
            .collect();
        assert_eq!(
            span,
            ["2024-04-01T12:30:00.000Z", "2024-04-01T12:35:00.000Z"]
        );
        // [12:25:00, 12:35:00) is exactly two windows.
        let two = Window5m::covering(t("2024-04-01T12:25:00Z"), t("2024-04-01T12:35:00Z"));
        assert_eq!(two.len(), 2);
        // An instant gives its own window; a reversed span gives none.
        let one: Vec<_> =
            Window5m::covering(t("2024-04-01T12:35:00Z"), t("2024-04-01T12:35:00Z")).collect();
        assert_eq!(one, [Window5m::floor(t("2024-04-01T12:35:00Z"))]);
        assert_eq!(
            Window5m::covering(t("2024-04-01T12:35:00Z"), t("2024-04-01T12:30:00Z")).count(),
            0
        );
        // Before the epoch, floor still rounds down.
        assert_eq!(
            Window5m::floor(UtcInstant::from_unix_millis(-1))
                .start()
                .unix_millis(),
            -WINDOW_MILLIS
        );
        assert!(Window5m::starting_at(t("2024-04-01T12:35:01Z")).is_none());
    }

    #[test]
    fn serde_round_trip() {
        let w = Window5m::floor(t("2024-04-01T12:34:50Z"));
        let json = serde_json::to_string(&w).unwrap();
        assert_eq!(json, "\"2024-04-01T12:30:00.000Z\"");
        assert_eq!(serde_json::from_str::<Window5m>(&json).unwrap(), w);
        assert!(serde_json::from_str::<Window5m>("\"2024-04-01T12:31:00Z\"").is_err());
    }

    proptest! {
        #[test]
        fn plain_parse_matches_the_general_path(
            y in 0_u32..10000, mo in 0_u32..14, d in 0_u32..33, h in 0_u32..25,
            mi in 0_u32..61, se in 0_u32..62, frac in proptest::option::of(0_u32..1000),
            digits in 1_usize..4, sep in prop_oneof![Just('T'), Just(' ')],
        ) {
            let mut s = format!("{y:04}-{mo:02}-{d:02}{sep}{h:02}:{mi:02}:{se:02}");
            if let Some(f) = frac {
                s.push('.');
                s.push_str(&format!("{f:03}")[..digits]);
            }
            // The general path is the fraction-aware chrono reading of the same text.
            let normal = format!("{}T{}", &s[..10], &s[11..]);
            let (main, f) = normal.split_once('.').map_or((normal.as_str(), None), |(m, f)| (m, Some(f)));
            let general = NaiveDateTime::parse_from_str(main, "%Y-%m-%dT%H:%M:%S").ok().and_then(|dt| {
                let ms = f.map_or(0, |f| format!("{f:0<3}").parse::<i64>().unwrap_or(0));
                dt.checked_add_signed(chrono::TimeDelta::milliseconds(ms))
            });
            let plain = parse_plain(s.as_bytes());
            if let Some(p) = plain {
                prop_assert_eq!(Some(p), general);
            }
            prop_assert_eq!(parse_naive(&s), general);
        }

        #[test]
        fn stamps_match_chrono(ms in -70_000_000_000_000_i64..260_000_000_000_000_i64) {
            let x = UtcInstant::from_unix_millis(ms);
            let dt = x.to_datetime();
            prop_assert_eq!(x.to_onc_string(), dt.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string());
            prop_assert_eq!(x.to_file_stamp(), dt.format("%Y%m%dT%H%M%S%.3fZ").to_string());
        }

        #[test]
        fn floor_and_ceil_bracket(ms in -4_000_000_000_000_i64..4_000_000_000_000_i64) {
            let x = UtcInstant::from_unix_millis(ms);
            let f = Window5m::floor(x);
            let c = Window5m::ceil(x);
            prop_assert!(f.contains(x));
            prop_assert!(f.start() <= x && x < f.end());
            prop_assert!(c.start() >= x);
            prop_assert!(c.start().millis_since(x) < WINDOW_MILLIS);
            prop_assert_eq!(f.start().unix_millis().rem_euclid(WINDOW_MILLIS), 0);
            prop_assert_eq!(c.start().unix_millis().rem_euclid(WINDOW_MILLIS), 0);
            prop_assert!(c == f || c == f.next());
        }

        #[test]
        fn covering_is_exactly_the_overlapping_windows(
            a in -1_000_000_000_i64..1_000_000_000_i64,
            len in 0_i64..5_000_000_i64,
        ) {
            let (a, b) = (UtcInstant::from_unix_millis(a), UtcInstant::from_unix_millis(a + len));
            let ws: Vec<_> = Window5m::covering(a, b).collect();
            prop_assert!(!ws.is_empty());
            prop_assert_eq!(ws.len(), Window5m::covering(a, b).len());
            for pair in ws.windows(2) {
                prop_assert_eq!(pair[0].next(), pair[1]);
            }
            if a == b {
                prop_assert_eq!(ws.len(), 1);
                prop_assert!(ws[0].contains(a));
            } else {
                // Every window overlaps [a, b); the neighbours outside do not.
                for w in &ws {
                    prop_assert!(w.start() < b && a < w.end());
                }
                let before = ws[0].offset(-1);
                let after = ws[ws.len() - 1].next();
                prop_assert!(!(before.start() < b && a < before.end()));
                prop_assert!(!(after.start() < b && a < after.end()));
            }
        }

        #[test]
        fn onc_strings_round_trip(ms in -2_000_000_000_000_i64..4_000_000_000_000_i64) {
            let x = UtcInstant::from_unix_millis(ms);
            prop_assert_eq!(UtcInstant::parse(&x.to_onc_string()).unwrap(), x);
            prop_assert_eq!(UtcInstant::parse_file_stamp(&x.to_file_stamp()).unwrap(), x);
        }
    }
}
