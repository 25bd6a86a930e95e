//! Business hours of a number or a group: weekly ranges in an IANA time zone, dates closed and
//! dates with hours of their own, and what a call while closed gets. Whether a moment is open
//! is decided on the local wall clock of the zone (jiff's bundled time zone database), which
//! is what makes daylight saving right without a rule of its own: a range inside the hour the
//! clocks skip never occurs that day (closed), and a range inside the hour that happens twice
//! is open both times.

use std::collections::BTreeMap;

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use super::Fallback;

/// Minutes in a day: `"24:00"` may end a range.
pub const DAY_MINUTES: u16 = 24 * 60;

/// A day of the week, as the file names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Day {
    pub const ALL: [Day; 7] = [
        Day::Mon,
        Day::Tue,
        Day::Wed,
        Day::Thu,
        Day::Fri,
        Day::Sat,
        Day::Sun,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Day::Mon => "mon",
            Day::Tue => "tue",
            Day::Wed => "wed",
            Day::Thu => "thu",
            Day::Fri => "fri",
            Day::Sat => "sat",
            Day::Sun => "sun",
        }
    }

    fn of(weekday: Weekday) -> Self {
        match weekday {
            Weekday::Monday => Day::Mon,
            Weekday::Tuesday => Day::Tue,
            Weekday::Wednesday => Day::Wed,
            Weekday::Thursday => Day::Thu,
            Weekday::Friday => Day::Fri,
            Weekday::Saturday => Day::Sat,
            Weekday::Sunday => Day::Sun,
        }
    }
}

/// A time of day, `"HH:MM"`, in minutes since midnight (`"24:00"` is 1440).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ClockTime(pub u16);

impl ClockTime {
    /// `"HH:MM"`, 00:00 to 24:00.
    pub fn parse(raw: &str) -> Option<Self> {
        let (h, m) = raw.split_once(':')?;
        if h.len() != 2 || m.len() != 2 {
            return None;
        }
        let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
        let minutes = h.checked_mul(60)?.checked_add(m)?;
        (m < 60 && minutes <= DAY_MINUTES).then_some(Self(minutes))
    }
}

impl Serialize for ClockTime {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format!("{:02}:{:02}", self.0 / 60, self.0 % 60))
    }
}

impl<'de> Deserialize<'de> for ClockTime {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).ok_or_else(|| serde::de::Error::custom("a time \"HH:MM\""))
    }
}

/// Open from `.0` until `.1`; when `.1` is not after `.0` the range crosses midnight
/// (`["22:00", "06:00"]`: this day from 22:00, the next until 06:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range(pub ClockTime, pub ClockTime);

impl Range {
    pub fn crosses_midnight(&self) -> bool {
        self.1 <= self.0
    }

    /// Whether `minute` of the range's own day is in it.
    fn holds_today(&self, minute: u16) -> bool {
        if self.crosses_midnight() {
            minute >= self.0.0
        } else {
            self.0.0 <= minute && minute < self.1.0
        }
    }

    /// Whether `minute` of the next day is in its part past midnight.
    fn holds_next_day(&self, minute: u16) -> bool {
        self.crosses_midnight() && minute < self.1.0
    }

    /// The spans of its own day it covers, `[start, end)` in minutes.
    pub fn spans(&self) -> Vec<(u16, u16)> {
        if self.crosses_midnight() {
            vec![(self.0.0, DAY_MINUTES)]
        } else {
            vec![(self.0.0, self.1.0)]
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosedDate {
    /// `YYYY-MM-DD`, in the hours' zone.
    pub date: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenDate {
    pub date: String,
    pub ranges: Vec<Range>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hours {
    /// An IANA zone name, `America/New_York`.
    pub time_zone: String,
    /// Ranges per day of the week; a day without any is closed.
    #[serde(default)]
    pub weekly: BTreeMap<Day, Vec<Range>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub closed_dates: Vec<ClosedDate>,
    /// Dates with hours of their own instead of their weekday's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub open_dates: Vec<OpenDate>,
    /// What a call while closed gets; without it, the number's voicemail or fallback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when_closed: Option<Fallback>,
}

impl Hours {
    /// Whether calls are taken at `now_ms` (epoch ms). Hours whose zone this build does not
    /// know (validation refuses them) count as always open: a call is never refused by a rule
    /// that cannot be read.
    pub fn is_open(&self, now_ms: i64) -> bool {
        let Ok(zone) = jiff::tz::db().get(&self.time_zone) else {
            return true;
        };
        self.is_open_in(&zone, now_ms).unwrap_or(true)
    }

    fn is_open_in(&self, zone: &TimeZone, now_ms: i64) -> Option<bool> {
        let local = jiff::Timestamp::from_millisecond(now_ms)
            .ok()?
            .to_zoned(zone.clone())
            .datetime();
        let (date, minute) = (
            local.date(),
            u16::try_from(local.hour()).ok()? * 60 + u16::try_from(local.minute()).ok()?,
        );
        let today = self.ranges_on(date);
        if today.iter().any(|r| r.holds_today(minute)) {
            return Some(true);
        }
        let yesterday = date.yesterday().ok()?;
        Some(
            self.ranges_on(yesterday)
                .iter()
                .any(|r| r.holds_next_day(minute)),
        )
    }

    /// The ranges of `date`: its own, or none when closed, else its weekday's.
    fn ranges_on(&self, date: Date) -> Vec<Range> {
        let day = date.to_string();
        if let Some(open) = self.open_dates.iter().find(|d| d.date == day) {
            return open.ranges.clone();
        }
        if self.closed_dates.iter().any(|d| d.date == day) {
            return Vec::new();
        }
        self.weekly
            .get(&Day::of(date.weekday()))
            .cloned()
            .unwrap_or_default()
    }
}

/// Whether `name` is a zone of the bundled database.
pub fn known_zone(name: &str) -> bool {
    jiff::tz::db().get(name).is_ok()
}

/// Whether `raw` is a date `YYYY-MM-DD` of the calendar.
pub fn valid_date(raw: &str) -> bool {
    raw.len() == 10 && raw.parse::<Date>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(raw: &str) -> ClockTime {
        ClockTime::parse(raw).unwrap()
    }

    fn range(a: &str, b: &str) -> Range {
        Range(t(a), t(b))
    }

    fn hours(zone: &str, weekly: &[(Day, Vec<Range>)]) -> Hours {
        Hours {
            time_zone: zone.into(),
            weekly: weekly.iter().cloned().collect(),
            closed_dates: Vec::new(),
            open_dates: Vec::new(),
            when_closed: None,
        }
    }

    /// Epoch ms of a local wall-clock time in `zone` (the earlier of two, in a fold).
    fn at(zone: &str, local: &str) -> i64 {
        let zone = jiff::tz::db().get(zone).unwrap();
        let dt: jiff::civil::DateTime = local.parse().unwrap();
        dt.to_zoned(zone).unwrap().timestamp().as_millisecond()
    }

    /// Epoch ms of a UTC instant.
    fn utc(instant: &str) -> i64 {
        instant.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn times_parse_as_the_file_writes_them() {
        assert_eq!(ClockTime::parse("09:30"), Some(ClockTime(570)));
        assert_eq!(ClockTime::parse("24:00"), Some(ClockTime(1440)));
        for bad in [
            "9:30", "24:01", "12:60", "ab:cd", "", "12:3", "-1:00", "1200",
        ] {
            assert_eq!(ClockTime::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn each_weekday_is_its_own_ranges_and_a_day_without_any_is_closed() {
        let weekly = vec![
            (Day::Mon, vec![range("09:00", "17:30")]),
            (
                Day::Tue,
                vec![range("09:00", "12:00"), range("13:00", "17:00")],
            ),
            (Day::Wed, vec![range("00:00", "24:00")]),
            (Day::Thu, vec![range("09:00", "17:00")]),
            (Day::Fri, vec![range("09:00", "17:00")]),
        ];
        let h = hours("America/New_York", &weekly);
        let z = "America/New_York";
        // 2026-12-07 is a Monday.
        let cases = [
            ("2026-12-07T08:59", false),
            ("2026-12-07T09:00", true),
            ("2026-12-07T17:29", true),
            ("2026-12-07T17:30", false),
            ("2026-12-08T12:30", false),
            ("2026-12-08T13:00", true),
            ("2026-12-09T00:00", true),
            ("2026-12-09T23:59", true),
            ("2026-12-11T16:59", true),
            ("2026-12-12T10:00", false),
            ("2026-12-13T10:00", false),
        ];
        for (local, open) in cases {
            assert_eq!(h.is_open(at(z, local)), open, "{local}");
        }
    }

    #[test]
    fn a_range_may_cross_midnight_into_the_next_day() {
        let h = hours(
            "Europe/Berlin",
            &[(Day::Fri, vec![range("22:00", "06:00")])],
        );
        let z = "Europe/Berlin";
        // 2026-12-11 is a Friday.
        assert!(!h.is_open(at(z, "2026-12-11T21:59")));
        assert!(h.is_open(at(z, "2026-12-11T22:00")));
        assert!(h.is_open(at(z, "2026-12-12T05:59")));
        assert!(!h.is_open(at(z, "2026-12-12T06:00")));
        assert!(
            !h.is_open(at(z, "2026-12-12T22:30")),
            "Saturday has no range of its own"
        );
    }

    #[test]
    fn closed_dates_close_and_open_dates_bring_their_own_ranges() {
        let mut h = hours(
            "America/New_York",
            &Day::ALL.map(|d| (d, vec![range("09:00", "17:00")])),
        );
        h.closed_dates.push(ClosedDate {
            date: "2026-12-25".into(),
            name: Some("Christmas".into()),
        });
        h.open_dates.push(OpenDate {
            date: "2026-12-24".into(),
            ranges: vec![range("10:00", "14:00")],
        });
        let z = "America/New_York";
        assert!(!h.is_open(at(z, "2026-12-25T12:00")));
        assert!(h.is_open(at(z, "2026-12-26T12:00")));
        assert!(!h.is_open(at(z, "2026-12-24T09:30")));
        assert!(h.is_open(at(z, "2026-12-24T13:59")));
        assert!(!h.is_open(at(z, "2026-12-24T14:00")));
    }

    /// New York: on 2027-03-14 the clocks go from 02:00 to 03:00; on 2026-11-01 from 02:00
    /// back to 01:00.
    #[test]
    fn daylight_saving_in_new_york() {
        let z = "America/New_York";
        let spring = hours(z, &[(Day::Sun, vec![range("02:00", "03:00")])]);
        // 06:00-08:00 UTC on 2027-03-14 is 01:00 EST to 04:00 EDT: 02:xx never happens.
        for minute in (0..120).step_by(10) {
            let instant = utc("2027-03-14T06:00:00Z") + minute * 60_000;
            assert!(!spring.is_open(instant), "+{minute} min");
        }
        let fall = hours(z, &[(Day::Sun, vec![range("01:00", "02:00")])]);
        // 01:30 EDT (05:30 UTC) and 01:30 EST (06:30 UTC) both happen: open both times.
        assert!(fall.is_open(utc("2026-11-01T05:30:00Z")));
        assert!(fall.is_open(utc("2026-11-01T06:30:00Z")));
        // 02:30 EST (07:30 UTC): closed.
        assert!(!fall.is_open(utc("2026-11-01T07:30:00Z")));
    }

    /// Sydney, southern hemisphere: on 2027-04-04 the clocks go from 03:00 back to 02:00, on
    /// 2026-10-04 from 02:00 to 03:00.
    #[test]
    fn daylight_saving_in_sydney() {
        let z = "Australia/Sydney";
        let h = hours(z, &[(Day::Sun, vec![range("02:00", "03:00")])]);
        // 2026-10-04 02:00 AEST does not exist: 15:30 UTC on the 3rd is 01:30 AEST, and half an
        // hour later it is 03:00 AEDT.
        assert!(!h.is_open(utc("2026-10-03T15:45:00Z")));
        assert!(!h.is_open(utc("2026-10-03T16:05:00Z")));
        // 2027-04-04 02:30 happens twice: 15:30 UTC (AEDT) and 16:30 UTC (AEST) on the 3rd.
        assert!(h.is_open(utc("2027-04-03T15:30:00Z")));
        assert!(h.is_open(utc("2027-04-03T16:30:00Z")));
    }

    #[test]
    fn zones_and_dates_are_checked() {
        assert!(known_zone("America/New_York"));
        assert!(known_zone("Australia/Sydney"));
        assert!(!known_zone("Mars/Olympus_Mons"));
        assert!(valid_date("2028-02-29"));
        assert!(!valid_date("2027-02-29"));
        assert!(!valid_date("2026-13-01"));
        assert!(!valid_date("26-12-01"));
    }
}
