//! The `.ics` file of a booked call: iCalendar (RFC 5545) with one VEVENT, its times in UTC.
//!
//! Lines end in CRLF and are folded at 75 octets (between UTF-8 characters; a continuation line starts with a
//! space). TEXT values are escaped (`\\`, `\;`, `\,`, and `\n` for any line break) and lose other control
//! characters, so no input can add a line or a property of its own.

use jiff::Timestamp;

/// The longest content line, in octets, not counting its CRLF (RFC 5545 §3.1).
const MAX_LINE_OCTETS: usize = 75;

/// What goes into the calendar entry of a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IcsEvent<'a> {
    /// Stable for the booking (a calendar app updates the entry with the same UID), e.g. `booking-42@host`.
    pub uid: &'a str,
    pub start: Timestamp,
    pub end: Timestamp,
    pub summary: &'a str,
    pub description: &'a str,
    /// The join link (or the booking's page); the URL line is left out when empty.
    pub url: &'a str,
}

/// The whole `.ics` file (serve as `text/calendar; charset=utf-8`). `now` becomes DTSTAMP.
pub fn booking_ics(event: &IcsEvent<'_>, now: Timestamp) -> String {
    let mut lines = vec![
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".to_string(),
        "PRODID:-//Supportal//Calls//EN".to_string(),
        "CALSCALE:GREGORIAN".to_string(),
        "METHOD:PUBLISH".to_string(),
        "BEGIN:VEVENT".to_string(),
        format!("UID:{}", escape_text(event.uid)),
        format!("DTSTAMP:{}", utc(now)),
        format!("DTSTART:{}", utc(event.start)),
        format!("DTEND:{}", utc(event.end)),
        format!("SUMMARY:{}", escape_text(event.summary)),
        format!("DESCRIPTION:{}", escape_text(event.description)),
    ];
    let url = without_controls(event.url);
    if !url.is_empty() {
        lines.push(format!("URL:{url}"));
    }
    lines.push("END:VEVENT".to_string());
    lines.push("END:VCALENDAR".to_string());
    let mut out = String::new();
    for line in &lines {
        fold_into(line, &mut out);
    }
    out
}

/// `YYYYMMDDTHHMMSSZ` (UTC, whole seconds).
fn utc(t: Timestamp) -> String {
    t.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// An RFC 5545 TEXT value: backslash, semicolon and comma escaped; CRLF, LF and CR become `\n`; other control
/// characters (tab excepted) are dropped.
fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' | '\n' => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\t' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A URI value is not escaped, but it may not break the line.
fn without_controls(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect()
}

/// Appends `line` folded to [`MAX_LINE_OCTETS`] per physical line, each ended by CRLF.
fn fold_into(line: &str, out: &mut String) {
    let mut used = 0;
    for c in line.chars() {
        let octets = c.len_utf8();
        if used + octets > MAX_LINE_OCTETS {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += octets;
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sla::eastern;

    fn et(s: &str) -> Timestamp {
        let local: jiff::civil::DateTime = s.replace(' ', "T").parse().unwrap();
        eastern().to_ambiguous_timestamp(local).compatible().unwrap()
    }

    fn event<'a>(summary: &'a str, description: &'a str, url: &'a str) -> IcsEvent<'a> {
        IcsEvent {
            uid: "booking-42@supportal.example",
            start: et("2026-11-02 09:00"),
            end: et("2026-11-02 09:30"),
            summary,
            description,
            url,
        }
    }

    /// An independent reader: unfold, split into lines, then `NAME:value` (no parameters are used).
    fn parse(ics: &str) -> Vec<(String, String)> {
        assert!(ics.ends_with("\r\n"), "ends with CRLF");
        let unfolded = ics.replace("\r\n ", "").replace("\r\n\t", "");
        let body = unfolded.strip_suffix("\r\n").unwrap();
        body.split("\r\n")
            .map(|line| {
                let (name, value) = line.split_once(':').unwrap_or_else(|| panic!("no colon in {line:?}"));
                (name.to_string(), value.to_string())
            })
            .collect()
    }

    fn unescape(value: &str) -> String {
        let mut out = String::new();
        let mut chars = value.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some('n' | 'N') => out.push('\n'),
                    Some(other) => out.push(other),
                    None => panic!("dangling backslash in {value:?}"),
                }
            } else {
                assert!(!matches!(c, ';' | ','), "unescaped {c:?} in {value:?}");
                out.push(c);
            }
        }
        out
    }

    fn value(props: &[(String, String)], name: &str) -> String {
        let found: Vec<&String> = props.iter().filter(|(n, _)| n == name).map(|(_, v)| v).collect();
        assert_eq!(found.len(), 1, "exactly one {name}");
        found[0].clone()
    }

    /// Every physical line: CRLF-terminated, valid UTF-8, at most 75 octets.
    fn assert_well_formed(ics: &str) {
        let bytes = ics.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'\n' {
                assert!(i > 0 && bytes[i - 1] == b'\r', "bare LF at {i}");
            }
            if b == b'\r' {
                assert_eq!(bytes.get(i + 1), Some(&b'\n'), "bare CR at {i}");
            }
        }
        for line in bytes.split(|&b| b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            assert!(line.len() <= 75, "{} octets: {:?}", line.len(), String::from_utf8_lossy(line));
            assert!(std::str::from_utf8(line).is_ok(), "split inside a character: {line:?}");
        }
    }

    #[test]
    fn one_event_with_utc_times() {
        let ics = booking_ics(
            &event("Call with Supportal", "Topic: exports", "https://portal.example/calls/42"),
            et("2026-10-20 10:11:12") + jiff::SignedDuration::from_millis(900),
        );
        assert_well_formed(&ics);
        let props = parse(&ics);
        let names: Vec<&str> = props.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "BEGIN",
                "VERSION",
                "PRODID",
                "CALSCALE",
                "METHOD",
                "BEGIN",
                "UID",
                "DTSTAMP",
                "DTSTART",
                "DTEND",
                "SUMMARY",
                "DESCRIPTION",
                "URL",
                "END",
                "END"
            ]
        );
        assert_eq!(props.first().unwrap().1, "VCALENDAR");
        assert_eq!(props.last().unwrap().1, "VCALENDAR");
        assert_eq!(props.iter().filter(|(n, v)| n == "BEGIN" && v == "VEVENT").count(), 1);
        assert_eq!(props.iter().filter(|(n, v)| n == "END" && v == "VEVENT").count(), 1);
        assert_eq!(value(&props, "VERSION"), "2.0");
        assert_eq!(value(&props, "METHOD"), "PUBLISH");
        assert_eq!(value(&props, "UID"), "booking-42@supportal.example");
        // 09:00 EST on the Monday after fall back is 14:00Z; DTSTAMP drops the sub-second part.
        assert_eq!(value(&props, "DTSTART"), "20261102T140000Z");
        assert_eq!(value(&props, "DTEND"), "20261102T143000Z");
        assert_eq!(value(&props, "DTSTAMP"), "20261020T141112Z");
        assert_eq!(value(&props, "SUMMARY"), "Call with Supportal");
        assert_eq!(value(&props, "URL"), "https://portal.example/calls/42");
        // After spring forward, 09:00 EDT is 13:00Z.
        let spring = IcsEvent { start: et("2027-03-15 09:00"), end: et("2027-03-15 10:00"), ..event("a", "b", "") };
        let props = parse(&booking_ics(&spring, et("2027-03-01 12:00")));
        assert_eq!(value(&props, "DTSTART"), "20270315T130000Z");
        assert_eq!(value(&props, "DTEND"), "20270315T140000Z");
        assert!(props.iter().all(|(n, _)| n != "URL"), "no URL line without a URL");
    }

    #[test]
    fn text_values_are_escaped() {
        // (case, input, escaped, read back)
        let cases = [
            ("plain", "Call about exports", "Call about exports", "Call about exports"),
            ("comma and semicolon", "Exports, imports; more", "Exports\\, imports\\; more", "Exports, imports; more"),
            ("backslash", "C:\\temp\\n", "C:\\\\temp\\\\n", "C:\\temp\\n"),
            ("LF", "line 1\nline 2", "line 1\\nline 2", "line 1\nline 2"),
            ("CRLF", "line 1\r\nline 2", "line 1\\nline 2", "line 1\nline 2"),
            ("lone CR", "line 1\rline 2", "line 1\\nline 2", "line 1\nline 2"),
            ("blank lines", "a\n\nb", "a\\n\\nb", "a\n\nb"),
            ("other controls dropped", "bell\u{7} esc\u{1b} nul\u{0}", "bell esc nul", "bell esc nul"),
            ("tab kept", "a\tb", "a\tb", "a\tb"),
            ("colon needs no escape", "Topic: SSO", "Topic: SSO", "Topic: SSO"),
            ("non-ASCII", "Café ☕ — naïve 😀", "Café ☕ — naïve 😀", "Café ☕ — naïve 😀"),
        ];
        for (case, input, escaped, back) in cases {
            assert_eq!(escape_text(input), escaped, "{case}");
            let ics = booking_ics(&event(input, input, ""), et("2026-10-20 10:00"));
            assert_well_formed(&ics);
            let props = parse(&ics);
            assert_eq!(unescape(&value(&props, "SUMMARY")), back, "{case}");
            assert_eq!(unescape(&value(&props, "DESCRIPTION")), back, "{case}");
        }
    }

    #[test]
    fn no_input_adds_a_line_of_its_own() {
        let evil = "Hi\r\nEND:VEVENT\r\nBEGIN:VEVENT\nATTENDEE:mailto:x@y";
        let ics = booking_ics(
            &IcsEvent {
                uid: "x\r\nSTATUS:CANCELLED",
                ..event(evil, evil, "https://portal.example/a\r\nRRULE:FREQ=DAILY")
            },
            et("2026-10-20 10:00"),
        );
        let props = parse(&ics);
        assert_eq!(props.len(), 15);
        assert_eq!(props.iter().filter(|(n, v)| n == "BEGIN" && v == "VEVENT").count(), 1);
        assert!(props.iter().all(|(n, _)| !matches!(n.as_str(), "ATTENDEE" | "RRULE" | "STATUS")));
        assert_eq!(value(&props, "URL"), "https://portal.example/aRRULE:FREQ=DAILY");
        assert_eq!(unescape(&value(&props, "UID")), "x\nSTATUS:CANCELLED");
        assert_eq!(unescape(&value(&props, "SUMMARY")), evil.replace("\r\n", "\n"));
    }

    #[test]
    fn long_lines_are_folded_at_75_octets() {
        let ascii = "x".repeat(300);
        let two = "é".repeat(100);
        let three = "☕".repeat(77);
        let four = "😀".repeat(70);
        let mixed = format!("Topic: {}, {} and {}\nthen {}", "a".repeat(70), "é".repeat(41), "😀".repeat(19), "☕");
        // (case, text)
        let cases = [
            ("ASCII", ascii.as_str()),
            ("two-octet characters", two.as_str()),
            ("three-octet characters", three.as_str()),
            ("four-octet characters", four.as_str()),
            ("mixed with escapes", mixed.as_str()),
        ];
        for (case, text) in cases {
            let url = format!("https://portal.example/calls/{}", "q".repeat(120));
            let ics = booking_ics(&event(text, text, &url), et("2026-10-20 10:00"));
            assert_well_formed(&ics);
            let physical: Vec<&str> = ics.split("\r\n").collect();
            assert!(physical.iter().any(|l| l.starts_with(' ')), "{case}: something was folded");
            // A folded line is filled: the next character would not have fitted.
            for pair in physical.windows(2) {
                if let Some(rest) = pair[1].strip_prefix(' ') {
                    let next = rest.chars().next().unwrap();
                    assert!(pair[0].len() + next.len_utf8() > 75, "{case}: folded early: {:?}", pair[0]);
                }
            }
            let props = parse(&ics);
            assert_eq!(unescape(&value(&props, "SUMMARY")), text, "{case}");
            assert_eq!(unescape(&value(&props, "DESCRIPTION")), text, "{case}");
            assert_eq!(value(&props, "URL"), url, "{case}");
        }
        // Exactly 75 octets stay on one line; 76 fold into 75 + " " + 1.
        let mut out = String::new();
        fold_into(&"a".repeat(75), &mut out);
        assert_eq!(out, format!("{}\r\n", "a".repeat(75)));
        out.clear();
        fold_into(&"a".repeat(76), &mut out);
        assert_eq!(out, format!("{}\r\n a\r\n", "a".repeat(75)));
        // A continuation line holds 74 octets after its space.
        out.clear();
        fold_into(&"a".repeat(75 + 74 + 1), &mut out);
        assert_eq!(out, format!("{}\r\n {}\r\n a\r\n", "a".repeat(75), "a".repeat(74)));
    }
}
