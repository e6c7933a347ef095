//! Weekly opening hours as people write them: `{"monday": {"open": "09:00", "close": "18:00"}, "sunday": null}`.
//! The API and the settings page speak this; the engine gets [`WeeklyHours`] in minutes.

use super::calendar::{DayHours, WeeklyHours};
use jiff::civil::Weekday;
use serde::{Deserialize, Serialize};

/// The days in display order, with their API names.
pub const WEEKDAYS: [(&str, Weekday); 7] = [
    ("monday", Weekday::Monday),
    ("tuesday", Weekday::Tuesday),
    ("wednesday", Weekday::Wednesday),
    ("thursday", Weekday::Thursday),
    ("friday", Weekday::Friday),
    ("saturday", Weekday::Saturday),
    ("sunday", Weekday::Sunday),
];

/// One open day: `HH:MM` (24-hour clock; `24:00` closes at midnight).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DayText {
    pub open: String,
    pub close: String,
}

/// A week; a missing or `null` day is closed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeekText {
    #[serde(default)]
    pub monday: Option<DayText>,
    #[serde(default)]
    pub tuesday: Option<DayText>,
    #[serde(default)]
    pub wednesday: Option<DayText>,
    #[serde(default)]
    pub thursday: Option<DayText>,
    #[serde(default)]
    pub friday: Option<DayText>,
    #[serde(default)]
    pub saturday: Option<DayText>,
    #[serde(default)]
    pub sunday: Option<DayText>,
}

impl WeekText {
    pub fn day(&self, day: Weekday) -> Option<&DayText> {
        match day {
            Weekday::Monday => self.monday.as_ref(),
            Weekday::Tuesday => self.tuesday.as_ref(),
            Weekday::Wednesday => self.wednesday.as_ref(),
            Weekday::Thursday => self.thursday.as_ref(),
            Weekday::Friday => self.friday.as_ref(),
            Weekday::Saturday => self.saturday.as_ref(),
            Weekday::Sunday => self.sunday.as_ref(),
        }
    }

    pub fn from_hours(hours: &WeeklyHours) -> WeekText {
        let text = |day: Weekday| {
            hours.get(day).map(|h| DayText { open: minute_text(h.open_minute), close: minute_text(h.close_minute) })
        };
        WeekText {
            monday: text(Weekday::Monday),
            tuesday: text(Weekday::Tuesday),
            wednesday: text(Weekday::Wednesday),
            thursday: text(Weekday::Thursday),
            friday: text(Weekday::Friday),
            saturday: text(Weekday::Saturday),
            sunday: text(Weekday::Sunday),
        }
    }

    /// The week in minutes, or `(field, message)` for every unreadable or impossible day, fields named
    /// `{prefix}.{day}.open|close`; a week with no open day is refused under `{prefix}`.
    pub fn parse(&self, prefix: &str) -> Result<WeeklyHours, Vec<(String, String)>> {
        let mut errors = Vec::new();
        let mut week = WeeklyHours::default();
        for (name, day) in WEEKDAYS {
            let Some(text) = self.day(day) else { continue };
            let field = |part: &str| format!("{prefix}.{name}.{part}");
            let open = parse_minute(&text.open, false);
            let close = parse_minute(&text.close, true);
            if open.is_none() {
                errors.push((field("open"), format!("{:?} is not a time: use HH:MM, e.g. 09:00.", text.open)));
            }
            if close.is_none() {
                errors.push((field("close"), format!("{:?} is not a time: use HH:MM, e.g. 18:00.", text.close)));
            }
            if let (Some(open), Some(close)) = (open, close) {
                match DayHours::new(open, close) {
                    Ok(hours) => *day_slot(&mut week, day) = Some(hours),
                    Err(_) => errors.push((field("close"), "Closing time must be after opening time.".to_string())),
                }
            }
        }
        if errors.is_empty() && WEEKDAYS.iter().all(|(_, day)| week.get(*day).is_none()) {
            errors.push((prefix.to_string(), "Open at least one day a week.".to_string()));
        }
        if errors.is_empty() {
            Ok(week)
        } else {
            Err(errors)
        }
    }
}

/// The field of `week` that holds `day`.
pub fn day_slot(week: &mut WeeklyHours, day: Weekday) -> &mut Option<DayHours> {
    match day {
        Weekday::Monday => &mut week.monday,
        Weekday::Tuesday => &mut week.tuesday,
        Weekday::Wednesday => &mut week.wednesday,
        Weekday::Thursday => &mut week.thursday,
        Weekday::Friday => &mut week.friday,
        Weekday::Saturday => &mut week.saturday,
        Weekday::Sunday => &mut week.sunday,
    }
}

/// `540` → `"09:00"`, `1440` → `"24:00"`.
pub fn minute_text(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

/// `"09:00"` → 540. Exactly `HH:MM`; `24:00` only as a closing time.
pub fn parse_minute(raw: &str, closing: bool) -> Option<u16> {
    let raw = raw.trim();
    let (h, m) = raw.split_once(':')?;
    if h.len() != 2 || m.len() != 2 || !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    match (h, m) {
        (24, 0) if closing => Some(1440),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(open: &str, close: &str) -> Option<DayText> {
        Some(DayText { open: open.into(), close: close.into() })
    }

    #[test]
    fn times_parse_strictly() {
        assert_eq!(parse_minute("09:00", false), Some(540));
        assert_eq!(parse_minute(" 18:30 ", true), Some(1110));
        assert_eq!(parse_minute("24:00", true), Some(1440));
        for bad in ["24:00", "9:00", "09:60", "25:00", "0900", "", "ab:cd", "-1:00", "09:00:00"] {
            assert_eq!(parse_minute(bad, false), None, "{bad}");
        }
        assert_eq!(minute_text(540), "09:00");
        assert_eq!(minute_text(1440), "24:00");
    }

    #[test]
    fn the_support_plan_round_trips() {
        let text = WeekText::from_hours(&WeeklyHours::support());
        assert_eq!(text.saturday, day("10:00", "16:00"));
        assert_eq!(text.sunday, None);
        assert_eq!(text.parse("support"), Ok(WeeklyHours::support()));
    }

    #[test]
    fn errors_name_the_day_and_part() {
        let week = WeekText { monday: day("9am", "18:00"), tuesday: day("18:00", "09:00"), ..Default::default() };
        let errors = week.parse("support").unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, ["support.monday.open", "support.tuesday.close"]);
        let closed = WeekText::default().parse("live_chat").unwrap_err();
        assert_eq!(closed[0].0, "live_chat");
    }
}
