//! Insights for policy: figures about groups of people, never about a person.
//!
//! A figure is computed for a closed period (a quarter or a year) over the people the
//! network counts (everyone who did not opt out), grouped by at most two of the documented
//! dimensions, and shown only where [`disclosure`] allows. See decision record 11.

pub mod chain;
pub mod disclosure;
#[cfg(test)]
mod tests;

use std::iter::Sum;
use std::ops::{Add, AddAssign};

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::domain::person::{AgeBand, StakeholderGroup};

/// The smallest group a figure may be about, unless configured otherwise.
pub const DEFAULT_K: i64 = 5;
/// The smallest `k` the service accepts in its settings.
pub const MIN_K: i64 = 3;

/// What a group of people adds up to in a period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// People counted.
    pub people: i64,
    /// Of those, people with at least one learning record that started in the period.
    pub participants: i64,
    /// The minutes of those records (records without a duration add none).
    pub minutes: i64,
    /// People with at least one such record with a duration: the minutes are theirs.
    #[serde(default)]
    pub with_minutes: i64,
    /// The two largest minutes of one person among them, largest first: what the
    /// dominance rule for hours looks at ([`Counts::hours_dominated`]). Figures kept before
    /// the rule have no such numbers: they read as [`UNKNOWN_TOP`], so their hours are
    /// withheld rather than shown unchecked.
    #[serde(default = "unknown_top")]
    pub top_minutes: [i64; 2],
}

/// The two largest minutes of figures kept before the dominance rule: unknown, so taken as
/// one person with all the minutes there could be.
pub const UNKNOWN_TOP: [i64; 2] = [i64::MAX, 0];

fn unknown_top() -> [i64; 2] {
    UNKNOWN_TOP
}

/// Dominance of hours (the p% rule): a cell's minutes less its two largest contributors
/// must be at least this share of the largest, in percent.
pub const DOMINANCE_PERCENT: i64 = 20;

/// Whether `minutes` in all are dominated by the largest of `top` (the two largest of one
/// person, largest first): less both, they are under [`DOMINANCE_PERCENT`] of the largest.
pub fn minutes_dominated(minutes: i64, top: [i64; 2]) -> bool {
    let [first, second] = top.map(i128::from);
    first > 0 && (i128::from(minutes) - first - second) * 100 < i128::from(DOMINANCE_PERCENT) * first
}

/// The two largest of two pairs, largest first.
fn top_two(a: [i64; 2], b: [i64; 2]) -> [i64; 2] {
    let mut all = [a[0], a[1], b[0], b[1]];
    all.sort_unstable_by(|x, y| y.cmp(x));
    [all[0], all[1]]
}

impl Counts {
    /// Rule 1 of [`disclosure`]: at least `k` participants and at least `k` others.
    pub fn disclosable(&self, k: i64) -> bool {
        self.participants >= k && self.people - self.participants >= k
    }

    /// The share of the people who learned, 0 to 1.
    pub fn participation_rate(&self) -> f64 {
        if self.people == 0 { 0.0 } else { self.participants as f64 / self.people as f64 }
    }

    /// The figures of one person.
    pub fn person(learned: bool, minutes: i64, timed: bool) -> Counts {
        Counts {
            people: 1,
            participants: i64::from(learned),
            minutes,
            with_minutes: i64::from(timed),
            top_minutes: [minutes, 0],
        }
    }

    /// Whether one person's minutes are most of the cell's (the p% rule): the second
    /// largest contributor, knowing their own minutes and the total, could tell the
    /// largest one's to within [`DOMINANCE_PERCENT`] percent.
    pub fn hours_dominated(&self) -> bool {
        minutes_dominated(self.minutes, self.top_minutes)
    }

    /// The hours of learning per participant.
    pub fn hours_per_participant(&self) -> f64 {
        if self.participants == 0 { 0.0 } else { self.minutes as f64 / 60.0 / self.participants as f64 }
    }
}

impl Add for Counts {
    type Output = Counts;
    fn add(self, o: Counts) -> Counts {
        Counts {
            people: self.people + o.people,
            participants: self.participants + o.participants,
            minutes: self.minutes + o.minutes,
            with_minutes: self.with_minutes + o.with_minutes,
            top_minutes: top_two(self.top_minutes, o.top_minutes),
        }
    }
}

impl AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        *self = *self + o;
    }
}

impl Sum for Counts {
    fn sum<I: Iterator<Item = Counts>>(iter: I) -> Counts {
        iter.fold(Counts::default(), Add::add)
    }
}

str_enum! {
    /// A way to break the figures down. Person dimensions come from the profile; the sector
    /// from the organisation of the person's earliest membership in force during the period
    /// (`none` without one). One organisation dimension only: region, size band and kind are
    /// functions of the same organisation, and tables by two of them could be combined
    /// (decision 11).
    Dimension {
        /// The person's stakeholder group.
        StakeholderGroup = "stakeholder_group",
        /// Age band, from the birth year at the end of the period, or the age band given.
        AgeBand = "age_band",
        /// NACE section (`A` to `U`) of the person's organisation.
        Sector = "sector",
    }
}

/// The value a dimension takes where it is not known.
pub const UNKNOWN: &str = "unknown";
/// The organisation dimensions' value for people without a current membership.
pub const NONE: &str = "none";

impl Dimension {
    /// Every value the dimension can take, in documentation order.
    pub fn values(self) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = match self {
            Dimension::StakeholderGroup => StakeholderGroup::ALL.iter().map(|g| g.as_str()).collect(),
            Dimension::AgeBand => AgeBand::ALL.iter().map(|a| a.as_str()).collect(),
            Dimension::Sector => ('A'..='U').map(section_str).collect(),
        };
        if self == Dimension::Sector {
            v.push(NONE);
        }
        if self != Dimension::StakeholderGroup {
            v.push(UNKNOWN);
        }
        v
    }
}

fn section_str(c: char) -> &'static str {
    const SECTIONS: [&str; 21] =
        ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O", "P", "Q", "R", "S", "T", "U"];
    SECTIONS[(c as u8 - b'A') as usize]
}

/// The NACE section of a code: the letter itself, or the section a division belongs to.
pub fn nace_section(code: &str) -> Option<&'static str> {
    const DIVISIONS: [(u8, u8, char); 21] = [
        (1, 3, 'A'),
        (5, 9, 'B'),
        (10, 33, 'C'),
        (35, 35, 'D'),
        (36, 39, 'E'),
        (41, 43, 'F'),
        (45, 47, 'G'),
        (49, 53, 'H'),
        (55, 56, 'I'),
        (58, 63, 'J'),
        (64, 66, 'K'),
        (68, 68, 'L'),
        (69, 75, 'M'),
        (77, 82, 'N'),
        (84, 84, 'O'),
        (85, 85, 'P'),
        (86, 88, 'Q'),
        (90, 93, 'R'),
        (94, 96, 'S'),
        (97, 98, 'T'),
        (99, 99, 'U'),
    ];
    let first = code.chars().next()?;
    if first.is_ascii_uppercase() {
        return ('A'..='U').contains(&first).then(|| section_str(first));
    }
    let division: u8 = code.get(..2)?.parse().ok()?;
    DIVISIONS.iter().find(|(lo, hi, _)| (*lo..=*hi).contains(&division)).map(|(.., s)| section_str(*s))
}

/// The age band of someone born in `birth_year`, at the end of `year`.
pub fn age_band_in(birth_year: i32, year: i32) -> AgeBand {
    match year - birth_year {
        ..25 => AgeBand::Under25,
        25..35 => AgeBand::From25To34,
        35..45 => AgeBand::From35To44,
        45..55 => AgeBand::From45To54,
        55..65 => AgeBand::From55To64,
        _ => AgeBand::From65,
    }
}

/// A closed stretch of time the figures are about: a calendar quarter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Period {
    Quarter { year: i32, quarter: u32 },
}

impl Period {
    /// A calendar quarter: `2026-Q3`. Years are not offered yet: a year's figures computed
    /// at another moment than its quarters' could be compared with them (decision 11).
    pub fn parse(value: &str) -> Result<Period, String> {
        let bad = || "must be a quarter such as `2026-Q3`".to_string();
        let (year, quarter) = value.split_once("-Q").ok_or_else(bad)?;
        if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let year: i32 = year.parse().map_err(|_| bad())?;
        if year < 2000 {
            return Err("must be in 2000 or later".into());
        }
        match quarter {
            "1" | "2" | "3" | "4" => Ok(Period::Quarter { year, quarter: quarter.parse().expect("a digit") }),
            _ => Err(bad()),
        }
    }

    /// The first day of the period.
    pub fn start(self) -> NaiveDate {
        match self {
            Period::Quarter { year, quarter } => NaiveDate::from_ymd_opt(year, (quarter - 1) * 3 + 1, 1),
        }
        .expect("a valid first day")
    }

    /// The first day after the period.
    pub fn end(self) -> NaiveDate {
        match self {
            Period::Quarter { year, quarter: 4 } => NaiveDate::from_ymd_opt(year + 1, 1, 1),
            Period::Quarter { year, quarter } => NaiveDate::from_ymd_opt(year, quarter * 3 + 1, 1),
        }
        .expect("a valid first day")
    }

    /// The calendar year the period ends in (for age bands).
    pub fn year(self) -> i32 {
        match self {
            Period::Quarter { year, .. } => year,
        }
    }

    /// Whether the period is over on `today`: only closed periods have figures.
    pub fn is_closed(self, today: NaiveDate) -> bool {
        self.end() <= today
    }

    /// The last closed quarter on `today`.
    pub fn last_closed_quarter(today: NaiveDate) -> Period {
        let quarter = (today.month0() / 3) + 1;
        if quarter == 1 {
            Period::Quarter { year: today.year() - 1, quarter: 4 }
        } else {
            Period::Quarter { year: today.year(), quarter: quarter - 1 }
        }
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Period::Quarter { year, quarter } => write!(f, "{year}-Q{quarter}"),
        }
    }
}

/// What the figures of one person in a period are grouped by: a value per dimension.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Profile {
    pub stakeholder_group: String,
    pub age_band: String,
    pub sector: String,
}

impl Profile {
    pub fn value(&self, d: Dimension) -> &str {
        match d {
            Dimension::StakeholderGroup => &self.stakeholder_group,
            Dimension::AgeBand => &self.age_band,
            Dimension::Sector => &self.sector,
        }
    }
}

/// The figures of a period at the finest breakdown: one entry per profile that occurs.
/// This is what the service keeps once per period; every table is summed from it.
pub type Breakdown = Vec<(Profile, Counts)>;

/// The groups of `breakdown` by `dimensions` (in canonical order), ready for
/// [`disclosure::protect`].
pub fn group_by(breakdown: &Breakdown, dimensions: &[Dimension]) -> Vec<(Vec<String>, Counts)> {
    breakdown.iter().map(|(p, c)| (dimensions.iter().map(|d| p.value(*d).to_string()).collect(), *c)).collect()
}

/// Parses the `by` parameter: up to two distinct dimensions, comma-separated, returned in
/// the canonical order (the order of [`Dimension::ALL`]) so that `a,b` and `b,a` are one
/// question with one answer.
pub fn parse_by(value: Option<&str>) -> Result<Vec<Dimension>, String> {
    let Some(value) = value else { return Ok(Vec::new()) };
    if value.is_empty() {
        return Err("it is empty; leave it out for the network's total".into());
    }
    let mut dims = Vec::new();
    for name in value.split(',') {
        let d = Dimension::parse(name.trim()).ok_or_else(|| {
            let names: Vec<_> = Dimension::ALL.iter().map(|d| d.as_str()).collect();
            format!("`{name}` is not a dimension; use one or two of {}", names.join(", "))
        })?;
        if dims.contains(&d) {
            return Err(format!("`{name}` is given twice"));
        }
        dims.push(d);
    }
    if dims.len() > 2 {
        return Err("at most two dimensions at once".into());
    }
    dims.sort();
    Ok(dims)
}
