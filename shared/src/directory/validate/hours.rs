//! The validator's reader of business hours (`"hours"` on a phone or a group): the zone is one
//! of the IANA database, each time `"HH:MM"`, ranges of one day do not overlap, dates are dates
//! of the calendar, each listed once; `whenClosed` is a fallback like any other.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::Validator;
use crate::directory::hours::{
    ClockTime, ClosedDate, Day, Hours, OpenDate, Range, known_zone, valid_date,
};

impl Validator {
    pub(super) fn hours(&mut self, value: &Value, path: &str) -> Option<Hours> {
        let obj = self.object(
            value,
            path,
            &[
                "timeZone",
                "weekly",
                "closedDates",
                "openDates",
                "whenClosed",
            ],
        )?;
        let zone = self.string(obj, "timeZone", path, true);
        let zone = zone.filter(|z| {
            let known = known_zone(z);
            if !known {
                self.problem(
                    &format!("{path}.timeZone"),
                    format!("{z:?} is not an IANA time zone (e.g. \"America/New_York\")"),
                );
            }
            known
        });
        let mut ok = true;
        let mut weekly = BTreeMap::new();
        match obj.get("weekly") {
            None | Some(Value::Null) => {}
            Some(Value::Object(days)) => {
                for (key, ranges) in days {
                    let day_path = format!("{path}.weekly.{key}");
                    let Some(day) = Day::ALL.into_iter().find(|d| d.as_str() == key) else {
                        self.problem(&day_path, "not a day: mon, tue, wed, thu, fri, sat or sun");
                        ok = false;
                        continue;
                    };
                    match self.ranges(ranges, &day_path) {
                        Some(ranges) => {
                            weekly.insert(day, ranges);
                        }
                        None => ok = false,
                    }
                }
            }
            Some(_) => {
                self.problem(&format!("{path}.weekly"), "must be an object of days");
                ok = false;
            }
        }
        let mut dates = BTreeSet::new();
        let mut closed_dates = Vec::new();
        for (i, entry) in self
            .array(obj, "closedDates", path, false)
            .iter()
            .enumerate()
        {
            let entry_path = format!("{path}.closedDates[{i}]");
            match self.closed_date(entry, &entry_path, &mut dates) {
                Some(date) => closed_dates.push(date),
                None => ok = false,
            }
        }
        let mut open_dates = Vec::new();
        for (i, entry) in self.array(obj, "openDates", path, false).iter().enumerate() {
            let entry_path = format!("{path}.openDates[{i}]");
            match self.open_date(entry, &entry_path, &mut dates) {
                Some(date) => open_dates.push(date),
                None => ok = false,
            }
        }
        let when_closed = match obj.get("whenClosed") {
            None | Some(Value::Null) => None,
            Some(value) => {
                let fallback = self.fallback(value, &format!("{path}.whenClosed"));
                ok &= fallback.is_some();
                fallback
            }
        };
        let time_zone = zone?;
        ok.then_some(Hours {
            time_zone,
            weekly,
            closed_dates,
            open_dates,
            when_closed,
        })
    }

    /// `[["09:00", "12:00"], ["13:00", "17:30"]]`: each a pair of times, none overlapping.
    fn ranges(&mut self, value: &Value, path: &str) -> Option<Vec<Range>> {
        let Some(items) = value.as_array() else {
            self.problem(path, "must be an array of [\"HH:MM\", \"HH:MM\"] ranges");
            return None;
        };
        let mut ranges = Vec::new();
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let range_path = format!("{path}[{i}]");
            let pair = item.as_array().filter(|p| p.len() == 2);
            let times = pair.map(|p| {
                (
                    p[0].as_str().and_then(ClockTime::parse),
                    p[1].as_str().and_then(ClockTime::parse),
                )
            });
            match times {
                Some((Some(from), Some(to))) if from == to => {
                    self.problem(&range_path, "is empty: the end must differ from the start");
                    ok = false;
                }
                Some((Some(from), Some(_))) if from.0 == crate::directory::hours::DAY_MINUTES => {
                    self.problem(&range_path, "cannot start at 24:00");
                    ok = false;
                }
                Some((Some(from), Some(to))) => ranges.push(Range(from, to)),
                _ => {
                    self.problem(
                        &range_path,
                        "must be [\"HH:MM\", \"HH:MM\"], times from 00:00 to 24:00",
                    );
                    ok = false;
                }
            }
        }
        let mut spans: Vec<(u16, u16, usize)> = ranges
            .iter()
            .enumerate()
            .flat_map(|(i, r)| r.spans().into_iter().map(move |(a, b)| (a, b, i)))
            .collect();
        spans.sort_unstable();
        for pair in spans.windows(2) {
            if pair[1].0 < pair[0].1 {
                self.problem(
                    &format!("{path}[{}]", pair[1].2.max(pair[0].2)),
                    format!("overlaps {path}[{}]", pair[1].2.min(pair[0].2)),
                );
                ok = false;
            }
        }
        ok.then_some(ranges)
    }

    fn date(
        &mut self,
        obj: &Map<String, Value>,
        path: &str,
        dates: &mut BTreeSet<String>,
    ) -> Option<String> {
        let raw = self.string(obj, "date", path, true)?;
        if !valid_date(&raw) {
            self.problem(
                &format!("{path}.date"),
                format!("{raw:?} is not a date YYYY-MM-DD"),
            );
            return None;
        }
        if !dates.insert(raw.clone()) {
            self.problem(&format!("{path}.date"), format!("{raw} is listed twice"));
            return None;
        }
        Some(raw)
    }

    fn closed_date(
        &mut self,
        value: &Value,
        path: &str,
        dates: &mut BTreeSet<String>,
    ) -> Option<ClosedDate> {
        let obj = self.object(value, path, &["date", "name"])?;
        let name = self.string(obj, "name", path, false);
        let date = self.date(obj, path, dates)?;
        Some(ClosedDate { date, name })
    }

    fn open_date(
        &mut self,
        value: &Value,
        path: &str,
        dates: &mut BTreeSet<String>,
    ) -> Option<OpenDate> {
        let obj = self.object(value, path, &["date", "ranges"])?;
        let date = self.date(obj, path, dates);
        let ranges = match obj.get("ranges") {
            Some(value) => self.ranges(value, &format!("{path}.ranges")),
            None => {
                self.problem(&format!("{path}.ranges"), "is required");
                None
            }
        };
        Some(OpenDate {
            date: date?,
            ranges: ranges?,
        })
    }
}
