//! Opening hours in America/New_York and the arithmetic of "open time".
//!
//! All counting is done in whole seconds: sub-second parts of input instants are dropped (floored), and every
//! instant this module returns is a whole second. Business hours are whole minutes, so nothing of value is lost.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::CalendarKind;

/// How far `is_open`/`next_change` look for the next opening or closing before giving up.
const LOOKAHEAD_DAYS: u32 = 400;
/// Upper bound on the day-by-day walk of `add_open_seconds`/`open_seconds_between`. Real SLA targets (at most
/// 525 600 minutes) need a few years at most; the bound only stops absurd inputs from walking to year 9999.
const MAX_WALK_DAYS: u32 = 100 * 366;
const MINUTES_PER_DAY: u16 = 24 * 60;

/// Compiled in so that the module behaves the same on servers without a tz database and in WebAssembly.
static EASTERN: LazyLock<TimeZone> = LazyLock::new(|| {
    TimeZone::tzif("America/New_York", include_bytes!("america_new_york.tzif"))
        // The bytes are ours and parse; the POSIX rule (current US rules) is only a never-panic fallback.
        .or_else(|_| TimeZone::posix("EST5EDT,M3.2.0,M11.1.0"))
        .unwrap_or(TimeZone::UTC)
});

/// America/New_York, the zone of support hours, live-chat hours and holidays.
pub fn eastern() -> &'static TimeZone {
    &EASTERN
}

/// Whole seconds since the Unix epoch, floored (a negative sub-second part rounds down, not toward zero).
pub(crate) fn to_secs(t: Timestamp) -> i64 {
    let s = t.as_second();
    if t.subsec_nanosecond() < 0 {
        s - 1
    } else {
        s
    }
}

/// Inverse of [`to_secs`], saturating at jiff's representable range.
pub(crate) fn from_secs(s: i64) -> Timestamp {
    Timestamp::from_second(s).unwrap_or(if s < 0 { Timestamp::MIN } else { Timestamp::MAX })
}

/// One day's opening, in minutes since local midnight: open during `[open_minute, close_minute)`.
/// `close_minute` may be 1440 (midnight at the end of the day).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayHours {
    pub open_minute: u16,
    pub close_minute: u16,
}

impl DayHours {
    pub fn new(open_minute: u16, close_minute: u16) -> Result<DayHours, String> {
        let hours = DayHours { open_minute, close_minute };
        hours.check()?;
        Ok(hours)
    }

    /// From whole hours, e.g. `DayHours::hours(9, 18)`.
    pub fn hours(open_hour: u16, close_hour: u16) -> Result<DayHours, String> {
        DayHours::new(open_hour.saturating_mul(60), close_hour.saturating_mul(60))
    }

    pub fn check(&self) -> Result<(), String> {
        if self.close_minute > MINUTES_PER_DAY {
            return Err(format!("closing minute {} is past midnight (max {MINUTES_PER_DAY})", self.close_minute));
        }
        if self.open_minute >= self.close_minute {
            return Err(format!(
                "opening minute {} must be before closing minute {}",
                self.open_minute, self.close_minute
            ));
        }
        Ok(())
    }
}

/// Opening hours per weekday; `None` means closed all day.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklyHours {
    pub monday: Option<DayHours>,
    pub tuesday: Option<DayHours>,
    pub wednesday: Option<DayHours>,
    pub thursday: Option<DayHours>,
    pub friday: Option<DayHours>,
    pub saturday: Option<DayHours>,
    pub sunday: Option<DayHours>,
}

impl WeeklyHours {
    /// Support hours: Mon–Fri 09:00–18:00, Sat 10:00–16:00, Sun closed.
    pub fn support() -> WeeklyHours {
        let weekday = Some(DayHours { open_minute: 9 * 60, close_minute: 18 * 60 });
        WeeklyHours {
            monday: weekday,
            tuesday: weekday,
            wednesday: weekday,
            thursday: weekday,
            friday: weekday,
            saturday: Some(DayHours { open_minute: 10 * 60, close_minute: 16 * 60 }),
            sunday: None,
        }
    }

    /// Live-chat hours: Mon–Fri 09:00–18:00, weekends closed.
    pub fn live_chat() -> WeeklyHours {
        WeeklyHours { saturday: None, ..WeeklyHours::support() }
    }

    pub fn get(&self, day: Weekday) -> Option<DayHours> {
        match day {
            Weekday::Monday => self.monday,
            Weekday::Tuesday => self.tuesday,
            Weekday::Wednesday => self.wednesday,
            Weekday::Thursday => self.thursday,
            Weekday::Friday => self.friday,
            Weekday::Saturday => self.saturday,
            Weekday::Sunday => self.sunday,
        }
    }

    /// Every listed day must be a valid interval. (Invalid days are treated as closed rather than rejected at
    /// use, so a bad edit can never make the engine panic.)
    pub fn check(&self) -> Result<(), String> {
        let days = [
            ("monday", self.monday),
            ("tuesday", self.tuesday),
            ("wednesday", self.wednesday),
            ("thursday", self.thursday),
            ("friday", self.friday),
            ("saturday", self.saturday),
            ("sunday", self.sunday),
        ];
        for (name, hours) in days {
            if let Some(hours) = hours {
                hours.check().map_err(|e| format!("{name}: {e}"))?;
            }
        }
        Ok(())
    }

    fn any_open_day(&self) -> bool {
        [self.monday, self.tuesday, self.wednesday, self.thursday, self.friday, self.saturday, self.sunday]
            .iter()
            .any(|d| d.is_some_and(|d| d.check().is_ok()))
    }
}

/// Weekly hours plus holidays (local civil dates, closed all day), always in [`eastern`] time.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessCalendar {
    pub weekly: WeeklyHours,
    pub holidays: BTreeSet<Date>,
}

impl BusinessCalendar {
    pub fn new(weekly: WeeklyHours, holidays: impl IntoIterator<Item = Date>) -> BusinessCalendar {
        BusinessCalendar { weekly, holidays: holidays.into_iter().collect() }
    }

    pub fn support(holidays: impl IntoIterator<Item = Date>) -> BusinessCalendar {
        BusinessCalendar::new(WeeklyHours::support(), holidays)
    }

    pub fn live_chat(holidays: impl IntoIterator<Item = Date>) -> BusinessCalendar {
        BusinessCalendar::new(WeeklyHours::live_chat(), holidays)
    }

    pub fn is_open(&self, t: Timestamp) -> bool {
        self.is_open_secs(to_secs(t))
    }

    /// The next instant strictly after `t` at which open/closed flips; `None` if none within ~400 days.
    pub fn next_change(&self, t: Timestamp) -> Option<Timestamp> {
        self.next_change_secs(to_secs(t)).map(from_secs)
    }

    /// The instant at which `seconds` of open time have passed since `start` (counting begins at the next
    /// opening if `start` is closed). Non-positive `seconds` return `start`. Saturates at `Timestamp::MAX` if the
    /// calendar never opens enough.
    pub fn add_open_seconds(&self, start: Timestamp, seconds: i64) -> Timestamp {
        from_secs(self.add_open_secs(to_secs(start), seconds))
    }

    /// Open seconds in `[a, b)`; 0 if `b <= a`.
    pub fn open_seconds_between(&self, a: Timestamp, b: Timestamp) -> i64 {
        self.open_secs_between(to_secs(a), to_secs(b))
    }

    /// Merged open intervals (epoch seconds, half-open) that end after the local day before `t`'s, in order.
    /// Starting a day early is cheap and keeps `t` covered whatever the offset does around midnight.
    fn intervals_around(&self, t: i64, max_days: u32) -> OpenIntervals<'_> {
        let local_day = eastern().to_datetime(from_secs(t)).date();
        let first_day = local_day.yesterday().unwrap_or(local_day);
        OpenIntervals {
            calendar: self,
            next_day: Some(first_day),
            days_left: max_days,
            pending: None,
            cut_short: false,
        }
    }

    /// The open interval of one local date as epoch seconds, or `None` if closed (holiday, closed weekday,
    /// invalid hours, or an interval that vanishes in a DST gap).
    fn day_interval(&self, date: Date) -> Option<(i64, i64)> {
        if self.holidays.contains(&date) {
            return None;
        }
        let hours = self.weekly.get(date.weekday())?;
        hours.check().ok()?;
        let open = local_minute_to_secs(date, hours.open_minute)?;
        let close = local_minute_to_secs(date, hours.close_minute)?;
        (open < close).then_some((open, close))
    }

    pub(crate) fn is_open_secs(&self, t: i64) -> bool {
        self.intervals_around(t, 3).take_while(|&(start, _)| start <= t).any(|(start, end)| start <= t && t < end)
    }

    pub(crate) fn next_change_secs(&self, t: i64) -> Option<i64> {
        let mut intervals = self.intervals_around(t, LOOKAHEAD_DAYS);
        while let Some((start, end)) = intervals.next() {
            if start > t {
                return Some(start);
            }
            if end > t {
                // An interval still open when the walk stopped (e.g. open around the clock) has no known end.
                return (!intervals.cut_short).then_some(end);
            }
        }
        None
    }

    pub(crate) fn add_open_secs(&self, start: i64, seconds: i64) -> i64 {
        if seconds <= 0 {
            return start;
        }
        if !self.weekly.any_open_day() {
            return i64::MAX;
        }
        let mut left = seconds;
        for (open, close) in self.intervals_around(start, MAX_WALK_DAYS) {
            if close <= start {
                continue;
            }
            let from = open.max(start);
            let available = close - from;
            if left <= available {
                return from + left;
            }
            left -= available;
        }
        i64::MAX
    }

    pub(crate) fn open_secs_between(&self, a: i64, b: i64) -> i64 {
        if b <= a {
            return 0;
        }
        let mut total: i64 = 0;
        for (open, close) in self.intervals_around(a, MAX_WALK_DAYS) {
            if open >= b {
                break;
            }
            let overlap = close.min(b) - open.max(a);
            if overlap > 0 {
                total = total.saturating_add(overlap);
            }
        }
        total
    }
}

/// Local minute-of-day on `date` as epoch seconds. Minute 1440 is the next midnight. In a DST gap the
/// "compatible" rule moves forward (02:30 on spring-forward day becomes 03:30 EDT); in a fold it takes the earlier
/// instant. New York changes at 02:00, so the default 09:00–18:00 hours are never ambiguous.
fn local_minute_to_secs(date: Date, minute: u16) -> Option<i64> {
    let (date, minute) =
        if minute >= MINUTES_PER_DAY { (date.tomorrow().ok()?, minute - MINUTES_PER_DAY) } else { (date, minute) };
    let hour = i8::try_from(minute / 60).ok()?;
    let minute = i8::try_from(minute % 60).ok()?;
    let local = DateTime::from_parts(date, Time::new(hour, minute, 0, 0).ok()?);
    eastern().to_ambiguous_timestamp(local).compatible().ok().map(to_secs)
}

/// Day-by-day walk yielding each day's interval, merging intervals that touch (e.g. 00:00–24:00 on consecutive
/// days) so that callers never see a spurious open/closed flip at midnight.
struct OpenIntervals<'a> {
    calendar: &'a BusinessCalendar,
    next_day: Option<Date>,
    days_left: u32,
    pending: Option<(i64, i64)>,
    /// Set when the day limit, not the calendar, ended the last interval.
    cut_short: bool,
}

impl Iterator for OpenIntervals<'_> {
    type Item = (i64, i64);

    fn next(&mut self) -> Option<(i64, i64)> {
        loop {
            let day = match self.next_day {
                Some(day) if self.days_left > 0 => day,
                _ => {
                    self.cut_short = self.pending.is_some();
                    return self.pending.take();
                }
            };
            self.days_left -= 1;
            self.next_day = day.tomorrow().ok();
            let Some((open, close)) = self.calendar.day_interval(day) else { continue };
            match self.pending {
                Some((pending_open, pending_close)) if open <= pending_close => {
                    self.pending = Some((pending_open, pending_close.max(close)));
                }
                Some(done) => {
                    self.pending = Some((open, close));
                    return Some(done);
                }
                None => self.pending = Some((open, close)),
            }
        }
    }
}

/// The clock of a policy: every second counts, or only a business calendar's open seconds.
#[derive(Clone, Copy, Debug)]
pub enum Hours<'a> {
    /// 24x7: wall-clock elapsed time (a 4 h target across a DST change is 4 real hours).
    AlwaysOn,
    Business(&'a BusinessCalendar),
}

/// The hours a policy's clocks run on: 24x7, or the given support calendar.
pub fn calendar_for(kind: CalendarKind, support: &BusinessCalendar) -> Hours<'_> {
    match kind {
        CalendarKind::AlwaysOn => Hours::AlwaysOn,
        CalendarKind::SupportHours => Hours::Business(support),
    }
}

impl Hours<'_> {
    pub fn is_open(&self, t: Timestamp) -> bool {
        match self {
            Hours::AlwaysOn => true,
            Hours::Business(calendar) => calendar.is_open(t),
        }
    }

    /// Always `None` for 24x7.
    pub fn next_change(&self, t: Timestamp) -> Option<Timestamp> {
        match self {
            Hours::AlwaysOn => None,
            Hours::Business(calendar) => calendar.next_change(t),
        }
    }

    pub fn add_open_seconds(&self, start: Timestamp, seconds: i64) -> Timestamp {
        from_secs(self.add_open_secs(to_secs(start), seconds))
    }

    pub fn open_seconds_between(&self, a: Timestamp, b: Timestamp) -> i64 {
        self.open_secs_between(to_secs(a), to_secs(b))
    }

    pub(crate) fn add_open_secs(&self, start: i64, seconds: i64) -> i64 {
        match self {
            Hours::AlwaysOn => start.saturating_add(seconds.max(0)),
            Hours::Business(calendar) => calendar.add_open_secs(start, seconds),
        }
    }

    pub(crate) fn open_secs_between(&self, a: i64, b: i64) -> i64 {
        match self {
            Hours::AlwaysOn => b.saturating_sub(a).max(0),
            Hours::Business(calendar) => calendar.open_secs_between(a, b),
        }
    }
}

/// For the "are we open?" badge: open now, and when that next changes.
pub fn hours_status(cal: &BusinessCalendar, now: Timestamp) -> (bool, Option<Timestamp>) {
    (cal.is_open(now), cal.next_change(now))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An Eastern wall-clock time, "YYYY-MM-DD HH:MM[:SS]"; ambiguous times take the earlier instant.
    fn et(s: &str) -> Timestamp {
        let local: DateTime = s.replace(' ', "T").parse().unwrap();
        eastern().to_ambiguous_timestamp(local).compatible().unwrap()
    }

    fn utc(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn date(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn support() -> BusinessCalendar {
        BusinessCalendar::support([date("2026-12-25"), date("2027-01-01")])
    }

    #[test]
    fn eastern_is_the_compiled_in_new_york_zone() {
        assert_eq!(eastern().iana_name(), Some("America/New_York"));
        // EDT until 2026-11-01 06:00Z, EST after; EDT again from 2027-03-14 07:00Z.
        assert_eq!(et("2026-11-01 01:59:59"), utc("2026-11-01T05:59:59Z"));
        assert_eq!(et("2026-11-01 03:00"), utc("2026-11-01T08:00:00Z"));
        assert_eq!(et("2027-03-14 03:00"), utc("2027-03-14T07:00:00Z"));
        assert_eq!(et("2027-03-14 01:59"), utc("2027-03-14T06:59:00Z"));
    }

    #[test]
    fn add_open_seconds_on_support_hours() {
        let cal = support();
        let hour = 3600;
        // (case, start ET, open seconds, expected ET)
        let cases = [
            ("spec example: Fri 17:00 + 24 h", "2026-12-04 17:00", 24 * hour, "2026-12-08 17:00"),
            ("opened during Saturday hours", "2026-12-05 11:00", 24 * hour, "2026-12-09 10:00"),
            ("opened on Sunday: counting starts Monday 09:00", "2026-12-06 14:00", 24 * hour, "2026-12-09 15:00"),
            ("Christmas (a Friday) skipped", "2026-12-24 17:00", 24 * hour, "2026-12-29 17:00"),
            ("across fall back", "2026-10-31 15:00", 24 * hour, "2026-11-04 14:00"),
            ("across spring forward", "2027-03-13 15:00", 24 * hour, "2027-03-17 14:00"),
            ("budget ending at closing time is due at closing", "2026-12-04 17:00", hour, "2026-12-04 18:00"),
            ("one second after closing", "2026-12-04 18:00", 1, "2026-12-05 10:00:01"),
            ("48 h from Monday opening", "2026-12-07 09:00", 48 * hour, "2026-12-12 13:00"),
            ("zero seconds is the start itself", "2026-12-06 14:00", 0, "2026-12-06 14:00"),
            ("negative seconds is the start itself", "2026-12-06 14:00", -5, "2026-12-06 14:00"),
        ];
        for (case, start, seconds, expected) in cases {
            assert_eq!(cal.add_open_seconds(et(start), seconds), et(expected), "{case}");
            if seconds > 0 {
                assert_eq!(cal.open_seconds_between(et(start), et(expected)), seconds, "{case} (inverse)");
            }
        }
        // Guard the helper itself: the DST cases as absolute instants.
        assert_eq!(cal.add_open_seconds(et("2026-10-31 15:00"), 24 * hour), utc("2026-11-04T19:00:00Z"));
        assert_eq!(cal.add_open_seconds(et("2027-03-13 15:00"), 24 * hour), utc("2027-03-17T18:00:00Z"));
    }

    #[test]
    fn always_on_counts_real_time_across_dst() {
        let hours = Hours::AlwaysOn;
        let cases = [
            // 00:30 EDT + 4 real hours = 03:30 EST (the 01:00-02:00 hour happens twice).
            (
                "fall back",
                "2026-11-01T04:30:00Z",
                "2026-11-01T08:30:00Z",
                "2026-11-01T03:30:00-05:00[America/New_York]",
            ),
            // 00:30 EST + 4 real hours = 05:30 EDT (02:00-03:00 never happens).
            (
                "spring forward",
                "2027-03-14T05:30:00Z",
                "2027-03-14T09:30:00Z",
                "2027-03-14T05:30:00-04:00[America/New_York]",
            ),
        ];
        for (case, start, due, wall) in cases {
            let due_at = hours.add_open_seconds(utc(start), 4 * 3600);
            assert_eq!(due_at, utc(due), "{case}");
            assert_eq!(due_at.to_zoned(eastern().clone()).to_string(), wall, "{case}");
            assert_eq!(hours.open_seconds_between(utc(start), due_at), 4 * 3600, "{case}");
            assert!(hours.is_open(utc(start)) && hours.next_change(utc(start)).is_none(), "{case}");
        }
        assert_eq!(hours.open_seconds_between(utc("2026-11-01T08:30:00Z"), utc("2026-11-01T04:30:00Z")), 0);
    }

    #[test]
    fn open_intervals_containing_a_dst_change_count_real_seconds() {
        let early_sunday = WeeklyHours { sunday: Some(DayHours::hours(0, 6).unwrap()), ..WeeklyHours::default() };
        let cal = BusinessCalendar::new(early_sunday, []);
        // (case, day, real open hours of 00:00-06:00)
        let cases =
            [("fall back", "2026-11-01", 7), ("spring forward", "2027-03-14", 5), ("ordinary", "2026-11-08", 6)];
        for (case, day, hours) in cases {
            let midnight = et(&format!("{day} 00:00"));
            let next_day = et(&format!("{day} 23:00"));
            assert_eq!(cal.open_seconds_between(midnight, next_day), hours * 3600, "{case}");
            assert_eq!(cal.next_change(midnight), Some(et(&format!("{day} 06:00"))), "{case}");
        }
        // Open around the clock: a 25-hour day, and no change to report.
        let all_day = Some(DayHours::hours(0, 24).unwrap());
        let always = WeeklyHours {
            monday: all_day,
            tuesday: all_day,
            wednesday: all_day,
            thursday: all_day,
            friday: all_day,
            saturday: all_day,
            sunday: all_day,
        };
        let cal = BusinessCalendar::new(always, []);
        assert_eq!(cal.open_seconds_between(et("2026-11-01 00:00"), et("2026-11-02 00:00")), 25 * 3600);
        assert_eq!(cal.open_seconds_between(et("2027-03-14 00:00"), et("2027-03-15 00:00")), 23 * 3600);
        assert!(cal.is_open(et("2026-11-01 00:00")));
        assert_eq!(cal.next_change(et("2026-11-01 12:00")), None);
    }

    #[test]
    fn is_open_and_next_change() {
        let support = support();
        let chat = BusinessCalendar::live_chat([date("2026-12-25")]);
        // (case, calendar, at ET, open?, next change ET)
        let cases = [
            ("Saturday just before closing", &support, "2026-12-05 15:59:59", true, "2026-12-05 16:00"),
            ("Saturday 16:00 is closed", &support, "2026-12-05 16:00", false, "2026-12-07 09:00"),
            ("Friday just before closing", &support, "2026-12-04 17:59", true, "2026-12-04 18:00"),
            ("Friday 18:00 is closed until Saturday", &support, "2026-12-04 18:00", false, "2026-12-05 10:00"),
            ("Monday opening instant is open", &support, "2026-12-07 09:00", true, "2026-12-07 18:00"),
            ("Christmas Eve evening skips Christmas", &support, "2026-12-24 18:00", false, "2026-12-26 10:00"),
            ("repeated hour on fall-back Sunday", &support, "2026-11-01 01:30", false, "2026-11-02 09:00"),
            ("live chat closed on Saturday", &chat, "2026-12-05 12:00", false, "2026-12-07 09:00"),
            ("live chat Friday evening to Monday", &chat, "2026-12-04 18:00", false, "2026-12-07 09:00"),
            ("live chat open on weekdays", &chat, "2026-12-07 10:00", true, "2026-12-07 18:00"),
            ("live chat closed on Christmas", &chat, "2026-12-25 12:00", false, "2026-12-28 09:00"),
        ];
        for (case, cal, at, open, next) in cases {
            assert_eq!(cal.is_open(et(at)), open, "{case}");
            assert_eq!(cal.next_change(et(at)), Some(et(next)), "{case}");
            assert_eq!(hours_status(cal, et(at)), (open, Some(et(next))), "{case}");
        }
    }

    /// Independent oracle: open iff the local wall-clock minute falls inside that weekday's hours.
    fn open_by_wall_clock(cal: &BusinessCalendar, t: Timestamp) -> bool {
        let local = eastern().to_datetime(t);
        let minute = local.hour() as u16 * 60 + local.minute() as u16;
        !cal.holidays.contains(&local.date())
            && cal.weekly.get(local.weekday()).is_some_and(|h| h.open_minute <= minute && minute < h.close_minute)
    }

    #[test]
    fn matches_a_minute_by_minute_wall_clock_oracle() {
        let cals = [support(), BusinessCalendar::live_chat([date("2026-12-25")])];
        let windows = [
            ("fall back", "2026-10-28 00:00", "2026-11-06 00:00"),
            ("spring forward", "2027-03-10 00:00", "2027-03-19 00:00"),
            ("holidays", "2026-12-20 00:00", "2027-01-04 00:00"),
        ];
        for cal in &cals {
            for (case, from, to) in windows {
                let (from, to) = (et(from), et(to));
                let mut expected = 0;
                let mut t = from;
                while t < to {
                    let open = open_by_wall_clock(cal, t);
                    assert_eq!(cal.is_open(t), open, "{case} at {t}");
                    expected += if open { 60 } else { 0 };
                    t = t.checked_add(jiff::SignedDuration::from_mins(1)).unwrap();
                }
                assert_eq!(cal.open_seconds_between(from, to), expected, "{case}");
            }
        }
    }

    #[test]
    fn add_and_between_are_inverse_on_samples() {
        let cals = [support(), BusinessCalendar::live_chat([date("2026-12-25")])];
        let mut seed: u64 = 0x5eed_1234_abcd_0001;
        let mut next = move |bound: i64| {
            // LCG (Knuth MMIX): deterministic, no dependency.
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((seed >> 33) as i64).rem_euclid(bound)
        };
        let base = to_secs(et("2026-01-01 00:00"));
        for cal in &cals {
            for _ in 0..300 {
                let start = from_secs(base + next(2 * 366 * 86_400));
                let amount = next(200 * 3600);
                let due = cal.add_open_seconds(start, amount);
                assert!(due >= start);
                assert_eq!(cal.open_seconds_between(start, due), amount, "start {start} amount {amount}");

                let later = from_secs(to_secs(start) + next(30 * 86_400));
                let open = cal.open_seconds_between(start, later);
                let reached = cal.add_open_seconds(start, open);
                assert!(reached <= later, "start {start} later {later}");
                assert_eq!(cal.open_seconds_between(reached, later), 0, "start {start} later {later}");
                assert_eq!(cal.open_seconds_between(later, start), 0);
            }
        }
        // The largest allowed target still round-trips (a walk of a few years).
        let cal = support();
        let start = et("2026-12-04 17:00");
        let due = cal.add_open_seconds(start, 525_600 * 60);
        assert_eq!(cal.open_seconds_between(start, due), 525_600 * 60);
    }

    #[test]
    fn sub_second_inputs_are_floored() {
        let cal = support();
        let start = et("2026-12-04 17:00").checked_add(jiff::SignedDuration::from_millis(999)).unwrap();
        assert_eq!(cal.add_open_seconds(start, 3600), et("2026-12-04 18:00"));
        assert_eq!(cal.open_seconds_between(start, et("2026-12-04 18:00")), 3600);
    }

    #[test]
    fn invalid_or_empty_calendars_do_not_panic() {
        let closed = BusinessCalendar::default();
        let t = et("2026-12-04 12:00");
        assert!(!closed.is_open(t));
        assert_eq!(closed.next_change(t), None);
        assert_eq!(closed.add_open_seconds(t, 60), Timestamp::MAX);
        assert_eq!(closed.open_seconds_between(t, et("2027-12-04 12:00")), 0);

        let bad = WeeklyHours {
            monday: Some(DayHours { open_minute: 600, close_minute: 500 }),
            tuesday: Some(DayHours { open_minute: 600, close_minute: 2000 }),
            ..WeeklyHours::default()
        };
        assert!(bad.check().unwrap_err().starts_with("monday:"));
        assert!(DayHours::new(0, 1441).is_err() && DayHours::new(60, 60).is_err() && DayHours::new(0, 1440).is_ok());
        assert!(WeeklyHours::support().check().is_ok() && WeeklyHours::live_chat().check().is_ok());
        let bad = BusinessCalendar::new(bad, []);
        assert!(!bad.is_open(et("2026-12-07 10:00")) && !bad.is_open(et("2026-12-08 10:00")));
        assert_eq!(bad.add_open_seconds(t, 60), Timestamp::MAX);

        let cal = support();
        for t in [Timestamp::MIN, Timestamp::MAX, Timestamp::UNIX_EPOCH] {
            let _ = cal.is_open(t);
            let _ = cal.next_change(t);
            let _ = cal.add_open_seconds(t, i64::MAX);
            let _ = cal.add_open_seconds(t, i64::MIN);
            let _ = cal.open_seconds_between(t, Timestamp::MAX);
            let _ = cal.open_seconds_between(Timestamp::MIN, t);
            let _ = Hours::AlwaysOn.add_open_seconds(t, i64::MAX);
            let _ = Hours::AlwaysOn.open_seconds_between(Timestamp::MIN, t);
        }
        assert_eq!(cal.add_open_seconds(Timestamp::MAX, 3600), Timestamp::MAX);
    }

    #[test]
    fn calendars_round_trip_through_json() {
        let cal = support();
        let json = serde_json::to_string(&cal).unwrap();
        assert!(
            json.contains("\"2026-12-25\"") && json.contains("\"saturday\":{\"open_minute\":600,\"close_minute\":960}")
        );
        assert_eq!(serde_json::from_str::<BusinessCalendar>(&json).unwrap(), cal);
    }
}
