use chrono::NaiveDate;

use super::disclosure::{self, Cell, Suppression, protect};
use super::*;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn periods_are_quarters_or_years_and_closed_only_after_their_last_day() {
    let q = Period::parse("2026-Q3").unwrap();
    assert_eq!(q, Period::Quarter { year: 2026, quarter: 3 });
    assert_eq!((q.start(), q.end()), (day(2026, 7, 1), day(2026, 10, 1)));
    assert_eq!(Period::parse("2026-Q4").unwrap().end(), day(2027, 1, 1));
    // Years are not offered: they could be compared with their quarters.
    assert!(Period::parse("2025").is_err());
    assert!(!q.is_closed(day(2026, 9, 30)));
    assert!(q.is_closed(day(2026, 10, 1)));
    for bad in ["2026-Q5", "2026-Q0", "26", "2026-q3", "2026-Q", "1999-Q4", "20261", "", "2026-Q3 "] {
        assert!(Period::parse(bad).is_err(), "{bad}");
    }
    assert_eq!(Period::last_closed_quarter(day(2026, 12, 6)).to_string(), "2026-Q3");
    assert_eq!(Period::last_closed_quarter(day(2027, 2, 1)).to_string(), "2026-Q4");
}

#[test]
fn sectors_are_nace_sections_from_letters_or_divisions() {
    assert_eq!(nace_section("C"), Some("C"));
    assert_eq!(nace_section("85.59"), Some("P"));
    assert_eq!(nace_section("62010"), Some("J"));
    assert_eq!(nace_section("01"), Some("A"));
    assert_eq!(nace_section("04"), None);
    assert_eq!(nace_section("Z"), None);
    assert_eq!(nace_section("x"), None);
}

#[test]
fn every_age_has_a_band_and_55_plus_is_its_own() {
    assert_eq!(age_band_in(2002, 2026), AgeBand::Under25);
    assert_eq!(age_band_in(1970, 2026), AgeBand::From55To64);
    assert_eq!(age_band_in(1961, 2026), AgeBand::From65);
}

#[test]
fn by_takes_one_or_two_distinct_dimensions_in_one_order() {
    assert_eq!(parse_by(None).unwrap(), vec![]);
    assert_eq!(parse_by(Some("sector,age_band")).unwrap(), vec![Dimension::AgeBand, Dimension::Sector]);
    assert_eq!(parse_by(Some("age_band,sector")).unwrap(), vec![Dimension::AgeBand, Dimension::Sector]);
    assert!(parse_by(Some("sector,sector")).is_err());
    assert!(parse_by(Some("")).is_err());
    assert!(parse_by(Some("sector,stakeholder_group,age_band")).is_err());
    assert!(parse_by(Some("region")).is_err());
    assert!(parse_by(Some("organisation")).unwrap_err().contains("stakeholder_group"));
}

/// `with_minutes` of the people logged `each` minutes.
fn even(people: i64, participants: i64, with_minutes: i64, each: i64) -> Counts {
    let top = |n: i64| if with_minutes > n { each } else { 0 };
    Counts { people, participants, minutes: with_minutes * each, with_minutes, top_minutes: [top(0), top(1)] }
}

fn counts(people: i64, participants: i64) -> Counts {
    even(people, participants, participants, 90)
}

fn names(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| v.to_string()).collect()
}

fn cell<'a>(cells: &'a [Cell], key: &[Option<&str>]) -> &'a Cell {
    cells
        .iter()
        .find(|c| c.key.iter().map(Option::as_deref).eq(key.iter().copied()))
        .unwrap_or_else(|| panic!("no cell {key:?}"))
}

#[test]
fn a_group_with_fewer_than_k_learners_or_non_learners_is_withheld() {
    let rows = vec![(names(&["a"]), counts(40, 20)), (names(&["b"]), counts(40, 3)), (names(&["c"]), counts(40, 37))];
    let cells = protect(&rows, &[names(&["a", "b", "c"])], 5);
    assert_eq!(cell(&cells, &[Some("a")]).suppressed, None);
    assert_eq!(cell(&cells, &[Some("b")]).suppressed, Some(Suppression::Together));
    // 37 of 40 learned: "all but three" is about three people.
    assert_eq!(cell(&cells, &[Some("c")]).suppressed, Some(Suppression::Together));
    assert_eq!(cell(&cells, &[None]).suppressed, None);
}

#[test]
fn hours_mostly_one_persons_are_withheld_and_so_is_a_partner() {
    // Ten people with durations in each band; in the first, one logged 3,000 minutes and
    // the other nine 30 each: less the two largest, 240 minutes are under 20 % of 3,000.
    let one = (0..9).map(|_| Counts::person(true, 30, true)).sum::<Counts>() + Counts::person(true, 3000, true);
    assert_eq!(one.top_minutes, [3000, 30]);
    assert!(one.hours_dominated());
    let even = (0..10).map(|_| Counts::person(true, 60, true)).sum::<Counts>();
    assert!(!even.hours_dominated());
    let others = (0..10).map(|_| Counts::person(false, 0, false)).sum::<Counts>();
    let rows = vec![(names(&["a"]), one + others), (names(&["b"]), even + others), (names(&["c"]), even + others)];
    let cells = protect(&rows, &[names(&["a", "b", "c"])], 5);
    assert!(cells.iter().all(|c| c.suppressed.is_none()), "the counts are safe: {cells:?}");
    assert_eq!(cell(&cells, &[Some("a")]).hours_suppressed, Some(Suppression::Together));
    // The total's hours less b's and c's would be a's: one more band's hours go with it.
    let withheld = cells.iter().filter(|c| c.key[0].is_some() && c.hours_suppressed.is_some()).count();
    assert_eq!(withheld, 2, "{cells:?}");
    assert_eq!(cell(&cells, &[None]).hours_suppressed, None);
    // Figures kept before the rule have no two largest: their hours are withheld.
    let kept: Counts =
        serde_json::from_str(r#"{"people": 20, "participants": 10, "minutes": 600, "with_minutes": 10}"#).unwrap();
    assert_eq!(kept.top_minutes, UNKNOWN_TOP);
    assert!(disclosure::hours_sensitive(&kept, 5));
    assert!((kept + even).hours_dominated(), "a sum with a kept group stays unknown");
    // Alone, the dominant band's hours would be shown by the people rule only.
    assert!(!disclosure::hours_sensitive(&Counts { top_minutes: [0, 0], ..one }, 5));
    assert!(disclosure::hours_sensitive(&one, 5));
}

#[test]
fn a_withheld_cell_cannot_be_recovered_by_subtracting_the_others_from_the_total() {
    // Primary suppression alone would withhold only `b`: total - a - c - d = b.
    let rows = vec![
        (names(&["a"]), counts(50, 20)),
        (names(&["b"]), counts(10, 2)),
        (names(&["c"]), counts(30, 12)),
        (names(&["d"]), counts(60, 30)),
    ];
    let cells = protect(&rows, &[names(&["a", "b", "c", "d"])], 5);
    assert_eq!(cell(&cells, &[Some("b")]).suppressed, Some(Suppression::Together));
    // The next-smallest goes too, and together the two pass rule 1.
    assert_eq!(cell(&cells, &[Some("c")]).suppressed, Some(Suppression::Together));
    assert_eq!(cell(&cells, &[Some("a")]).suppressed, None);
    assert_no_small_group_is_determinable(&cells, 1, 5);
}

#[test]
fn empty_groups_are_shown_as_zeros_and_never_chosen_to_protect_another() {
    let rows = vec![(names(&["a"]), counts(50, 20)), (names(&["b"]), counts(40, 20))];
    let cells = protect(&rows, &[names(&["a", "b", "c"])], 5);
    assert_eq!(cells.len(), 4);
    assert_eq!(cell(&cells, &[Some("c")]).counts, Counts::default());
    assert!(cells.iter().all(|c| c.suppressed.is_none()), "{cells:#?}");
    // A small group beside an empty one: the protecting cell is a real group, not the empty one.
    let rows = vec![(names(&["a"]), counts(50, 20)), (names(&["b"]), counts(3, 1)), (names(&["c"]), counts(60, 30))];
    let cells = protect(&rows, &[names(&["a", "b", "c", "d"])], 5);
    assert_eq!(cell(&cells, &[Some("b")]).suppressed, Some(Suppression::Together));
    assert_eq!(cell(&cells, &[Some("a")]).suppressed, Some(Suppression::Together));
    assert_eq!(cell(&cells, &[Some("d")]).suppressed, None);
    assert_no_small_group_is_determinable(&cells, 1, 5);
}

#[test]
fn the_margins_of_a_two_way_table_are_the_one_way_tables() {
    let rows = vec![
        (names(&["a", "x"]), counts(30, 10)),
        (names(&["a", "y"]), counts(3, 1)),
        (names(&["b", "x"]), counts(25, 10)),
        (names(&["b", "y"]), counts(40, 20)),
        (names(&["c", "y"]), counts(12, 6)),
    ];
    let values = [names(&["a", "b", "c"]), names(&["x", "y"])];
    let two_way = protect(&rows, &values, 5);
    for d in 0..2 {
        let one_rows: Vec<_> = rows.iter().map(|(key, c)| (vec![key[d].clone()], *c)).collect();
        for one in protect(&one_rows, &values[d..=d], 5) {
            let mut key = vec![None, None];
            key[d] = one.key[0].clone();
            let margin = two_way.iter().find(|c| c.key == key).unwrap();
            assert_eq!((margin.counts, margin.suppressed), (one.counts, one.suppressed), "{key:?}");
        }
    }
    assert_no_small_group_is_determinable(&two_way, 2, 5);
}

#[test]
fn rows_minus_columns_cannot_isolate_a_cell() {
    // A 2x2 block where one cell is small: with every margin shown, the four inner cells of
    // the block form a cycle unless more cells are withheld; the protection must not leave
    // any small cell fixed by the margins.
    let rows = vec![
        (names(&["a", "x"]), counts(2, 1)),
        (names(&["a", "y"]), counts(40, 20)),
        (names(&["b", "x"]), counts(40, 20)),
        (names(&["b", "y"]), counts(40, 20)),
    ];
    let cells = protect(&rows, &[names(&["a", "b"]), names(&["x", "y"])], 5);
    // Every inner cell is withheld, and none says whether it is the small one: knowing that
    // (a, y) passes would bound (a, x) by its row.
    for key in [[Some("a"), Some("x")], [Some("a"), Some("y")], [Some("b"), Some("x")], [Some("b"), Some("y")]] {
        assert_eq!(cell(&cells, &key).suppressed, Some(Suppression::Together), "{key:?}");
    }
    assert_no_small_group_is_determinable(&cells, 2, 5);
}

#[test]
fn a_partner_known_to_pass_rule_1_does_not_bound_the_cell_it_protects() {
    // 55-64: one person, who did not learn. Its smallest partner, 45-54, passes rule 1 (5
    // learned, 5 did not), so a reader knows at least 5 and 5 of the withheld sum are its.
    // With only these two withheld, total minus shown is 5 learned and 6 not: the 55-64 cell
    // would be one person who did not learn. The margin asks 2k on each side.
    let rows = vec![
        (names(&["35_44"]), counts(40, 20)),
        (names(&["45_54"]), counts(10, 5)),
        (names(&["55_64"]), counts(1, 0)),
        (names(&["65_plus"]), counts(30, 12)),
    ];
    let cells = protect(&rows, &[names(&["35_44", "45_54", "55_64", "65_plus"])], 5);
    assert_eq!(cell(&cells, &[Some("55_64")]).suppressed, Some(Suppression::Together));
    // 45-54 alone would not meet the margin; 65+ does: 12 + 0 learned, 18 + 1 did not.
    assert_eq!(cell(&cells, &[Some("65_plus")]).suppressed, Some(Suppression::Together));
    assert_eq!(cell(&cells, &[Some("45_54")]).suppressed, None);
    // Every non-empty group small or just enough: all withheld, none saying which is small.
    let rows = vec![(names(&["35_44"]), counts(10, 5)), (names(&["55_64"]), counts(1, 0))];
    let cells = protect(&rows, &[names(&["35_44", "55_64", "65_plus"])], 5);
    assert_eq!(cell(&cells, &[None]).suppressed, None);
    assert_eq!(cell(&cells, &[Some("35_44")]).suppressed, Some(Suppression::Together));
    assert_eq!(cell(&cells, &[Some("55_64")]).suppressed, Some(Suppression::Together));
    assert_eq!(cell(&cells, &[Some("65_plus")]).suppressed, None, "empty");
}

/// A deterministic pseudo-random sequence (xorshift), so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[test]
fn no_small_group_is_determinable_in_random_tables() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    for _ in 0..1_500 {
        let dims = 1 + rng.below(2) as usize;
        let sizes: Vec<usize> = (0..dims).map(|_| 2 + rng.below(4) as usize).collect();
        let (joint, rows) = random_joint(&mut rng, &sizes);
        let k = 3 + rng.below(3) as i64;
        let values = dimension_values(&sizes);
        let cells = protect(&rows, &values, k);
        if dims == 1 {
            assert_partners_bound_nothing(&cells, k);
        }
        assert_safe(&joint, &[Cut { dims: (0..dims).collect(), cells }], k);
    }
}

/// In a one-way table whose total is shown, a reader knows the sum of the withheld cells.
/// None of them may say whether it is small or a partner (a reader who knew could bound the
/// small ones from the sum), and the sum must pass rule 1 with the margin of one partner.
fn assert_partners_bound_nothing(cells: &[Cell], k: i64) {
    let total = cells.iter().find(|c| c.key[0].is_none()).unwrap();
    if total.suppressed.is_some() {
        return;
    }
    let hidden: Vec<&Cell> = cells.iter().filter(|c| c.key[0].is_some() && c.suppressed.is_some()).collect();
    if hidden.is_empty() {
        return;
    }
    assert!(hidden.iter().all(|c| c.suppressed == Some(Suppression::Together)), "{cells:#?}");
    let sum: Counts = hidden.iter().map(|c| c.counts).sum();
    let shown_non_empty = cells.iter().any(|c| c.key[0].is_some() && c.suppressed.is_none() && c.counts.people > 0);
    if shown_non_empty || hidden.len() > 1 {
        assert!(sum.participants >= k && sum.people - sum.participants >= k, "{cells:#?}");
    }
}

#[test]
fn no_small_group_is_determinable_by_combining_the_tables_of_a_period() {
    // Every table a reader can ask for about the same figures (one-way and two-way, over
    // three dimensions), combined: the attack of two two-way tables sharing a margin.
    let mut rng = Rng(0x0bad_cafe_1234_5678);
    for _ in 0..400 {
        let sizes: Vec<usize> = (0..3).map(|_| 2 + rng.below(3) as usize).collect();
        let (joint, rows) = random_joint(&mut rng, &sizes);
        let k = 3 + rng.below(3) as i64;
        let values = dimension_values(&sizes);
        let mut cuts = Vec::new();
        for dims in [vec![], vec![0], vec![1], vec![2], vec![0, 1], vec![0, 2], vec![1, 2]] {
            let grouped: Vec<(Vec<String>, Counts)> =
                rows.iter().map(|(key, c)| (dims.iter().map(|d| key[*d].clone()).collect(), *c)).collect();
            let table_values: Vec<Vec<String>> = dims.iter().map(|d| values[*d].clone()).collect();
            cuts.push(Cut { cells: protect(&grouped, &table_values, k), dims });
        }
        assert_safe(&joint, &cuts, k);
    }
}

fn dimension_values(sizes: &[usize]) -> Vec<Vec<String>> {
    sizes.iter().enumerate().map(|(d, n)| (0..*n).map(|i| format!("{d}{i}")).collect()).collect()
}

/// Every combination of values (the joint cells), and the figures of the non-empty ones.
type Joint = (Vec<Vec<String>>, Vec<(Vec<String>, Counts)>);

/// Random figures for every combination of values: many small and empty groups, some large.
fn random_joint(rng: &mut Rng, sizes: &[usize]) -> Joint {
    let values = dimension_values(sizes);
    let mut joint: Vec<Vec<String>> = vec![vec![]];
    for choices in &values {
        joint = joint
            .into_iter()
            .flat_map(|key| {
                choices.iter().map(move |v| {
                    let mut key = key.clone();
                    key.push(v.clone());
                    key
                })
            })
            .collect();
    }
    let mut rows = Vec::new();
    for key in &joint {
        let people = match rng.below(4) {
            0 => 0,
            1 => rng.below(8) as i64,
            _ => rng.below(60) as i64,
        };
        let participants = if people == 0 { 0 } else { rng.below(people as u64 + 1) as i64 };
        let with_minutes = if participants == 0 { 0 } else { rng.below(participants as u64 + 1) as i64 };
        if people > 0 {
            let mut counts = even(people, participants, with_minutes, 60);
            // Now and then one person logged far more than the others (the dominance rule).
            if with_minutes > 0 && rng.below(4) == 0 {
                let heavy = 60 * (2 + rng.below(120) as i64);
                counts.minutes += heavy - 60;
                counts.top_minutes = top_two([heavy, 0], [if with_minutes > 1 { 60 } else { 0 }, 0]);
            }
            rows.push((key.clone(), counts));
        }
    }
    (joint, rows)
}

/// A table over some of the joint dimensions, as protected.
struct Cut {
    dims: Vec<usize>,
    cells: Vec<Cell>,
}

/// Asserts that nothing a reader sees in `cuts` together (every shown cell of every table,
/// for the counts and, separately, for the hours) determines a group that fails rule 1: no
/// withheld cell, no pair of withheld cells of one table, and not all the withheld cells of
/// a table together. A sum is determined exactly when its 0/1 vector over the joint cells
/// lies in the span of the shown cells' vectors (exact arithmetic modulo 2^61 - 1).
fn assert_safe(joint: &[Vec<String>], cuts: &[Cut], k: i64) {
    let vector = |cut: &Cut, cell: &Cell| -> Vec<u64> {
        joint
            .iter()
            .map(|j| u64::from(cut.dims.iter().zip(&cell.key).all(|(d, v)| v.as_ref().is_none_or(|v| *v == j[*d]))))
            .collect()
    };
    type Hidden = fn(&Cell) -> bool;
    type Small = Box<dyn Fn(&Counts) -> bool>;
    let measures: [(&str, Hidden, Small); 2] = [
        ("counts", |c| c.suppressed.is_some(), Box::new(move |c| disclosure::sensitive(c, k))),
        // Written out here, not taken from `disclosure`, so that the check stands on its own.
        (
            "hours",
            |c| c.hours_suppressed.is_some(),
            Box::new(move |c| {
                let [first, second] = c.top_minutes;
                let dominated = first > 0 && (c.minutes - first - second) * 5 < first;
                c.with_minutes > 0 && (c.with_minutes < k || dominated)
            }),
        ),
    ];
    for (name, hidden, small) in measures {
        let mut shown = Basis::default();
        for cut in cuts {
            for cell in cut.cells.iter().filter(|c| !hidden(c)) {
                shown.add(vector(cut, cell));
            }
        }
        for cut in cuts {
            let withheld: Vec<&Cell> = cut.cells.iter().filter(|c| hidden(c)).collect();
            let mut groups: Vec<Vec<&Cell>> = withheld.iter().map(|c| vec![*c]).collect();
            for (i, a) in withheld.iter().enumerate() {
                for b in &withheld[i + 1..] {
                    groups.push(vec![*a, *b]);
                }
            }
            groups.push(withheld.clone());
            for group in groups {
                let mut v = vec![0u64; joint.len()];
                for cell in &group {
                    for (x, y) in v.iter_mut().zip(vector(cut, cell)) {
                        *x = (*x + y) % P;
                    }
                }
                let sum: Counts = group.iter().map(|c| c.counts).sum();
                assert!(
                    !(small(&sum) && shown.contains(v)),
                    "{name}: the withheld {:?} ({sum:?}) follow from what is shown:\n{:#?}",
                    group.iter().map(|c| &c.key).collect::<Vec<_>>(),
                    cuts.iter().map(|c| (&c.dims, &c.cells)).collect::<Vec<_>>()
                );
            }
        }
    }
}

/// Single-table form of [`assert_safe`].
fn assert_no_small_group_is_determinable(cells: &[Cell], dims: usize, k: i64) {
    let joint: Vec<Vec<String>> = cells
        .iter()
        .filter(|c| c.key.iter().all(Option::is_some))
        .map(|c| c.key.iter().map(|v| v.clone().unwrap()).collect())
        .collect();
    assert_safe(&joint, &[Cut { dims: (0..dims).collect(), cells: cells.to_vec() }], k);
}

const P: u64 = (1 << 61) - 1;

fn mul(a: u64, b: u64) -> u64 {
    ((a as u128 * b as u128) % P as u128) as u64
}

fn inverse(a: u64) -> u64 {
    let (mut result, mut base, mut e) = (1, a, P - 2);
    while e > 0 {
        if e & 1 == 1 {
            result = mul(result, base);
        }
        base = mul(base, base);
        e >>= 1;
    }
    result
}

/// Vectors in echelon form: each with a leading 1 at its pivot, zero at earlier pivots.
#[derive(Default)]
struct Basis {
    rows: Vec<(usize, Vec<u64>)>,
}

impl Basis {
    fn reduce(&self, mut v: Vec<u64>) -> Vec<u64> {
        for (pivot, row) in &self.rows {
            let f = v[*pivot];
            if f != 0 {
                for (x, r) in v.iter_mut().zip(row) {
                    *x = (*x + P - mul(f, *r)) % P;
                }
            }
        }
        v
    }

    fn add(&mut self, v: Vec<u64>) {
        let v = self.reduce(v);
        if let Some(pivot) = v.iter().position(|x| *x != 0) {
            let inv = inverse(v[pivot]);
            let v: Vec<u64> = v.iter().map(|x| mul(*x, inv)).collect();
            // Keep earlier rows reduced at the new pivot, so one pass of `reduce` suffices.
            for (_, row) in self.rows.iter_mut() {
                let f = row[pivot];
                if f != 0 {
                    for (x, r) in row.iter_mut().zip(&v) {
                        *x = (*x + P - mul(f, *r)) % P;
                    }
                }
            }
            self.rows.push((pivot, v));
        }
    }

    fn contains(&self, v: Vec<u64>) -> bool {
        self.reduce(v).iter().all(|x| *x == 0)
    }
}
