use chrono::NaiveDate;

use super::disclosure::{self, Cell, Suppression, bridges_for_tests, protect};
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
    assert_eq!(Period::parse("2025").unwrap().end(), day(2026, 1, 1));
    assert!(!q.is_closed(day(2026, 9, 30)));
    assert!(q.is_closed(day(2026, 10, 1)));
    for bad in ["2026-Q5", "2026-Q0", "26", "2026-q3", "2026-Q", "1999", "20261", "", "2026-Q3 "] {
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
    assert!(parse_by(Some("sector,region,age_band")).is_err());
    assert!(parse_by(Some("organisation")).unwrap_err().contains("stakeholder_group"));
}

fn counts(people: i64, participants: i64) -> Counts {
    Counts { people, participants, minutes: participants * 90 }
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
    assert_eq!(cell(&cells, &[Some("b")]).suppressed, Some(Suppression::Primary));
    // 37 of 40 learned: "all but three" is about three people.
    assert_eq!(cell(&cells, &[Some("c")]).suppressed, Some(Suppression::Primary));
    assert_eq!(cell(&cells, &[None]).suppressed, None);
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
    assert_eq!(cell(&cells, &[Some("b")]).suppressed, Some(Suppression::Primary));
    // The next-smallest goes too, and together the two pass rule 1.
    assert_eq!(cell(&cells, &[Some("c")]).suppressed, Some(Suppression::Secondary));
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
    assert_eq!(cell(&cells, &[Some("b")]).suppressed, Some(Suppression::Primary));
    assert_eq!(cell(&cells, &[Some("a")]).suppressed, Some(Suppression::Secondary));
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
    assert_eq!(cell(&cells, &[Some("a"), Some("x")]).suppressed, Some(Suppression::Primary));
    assert_no_small_group_is_determinable(&cells, 2, 5);
}

#[test]
fn bridges_are_the_edges_on_no_cycle() {
    // A triangle 0-1-2 with a tail 2-3 and a parallel pair 3-4, 3-4.
    let edges = [(0, 1), (1, 2), (2, 0), (2, 3), (3, 4), (3, 4)];
    assert_eq!(bridges_for_tests(5, &edges).into_iter().collect::<Vec<_>>(), vec![3]);
    assert!(bridges_for_tests(2, &[(0, 0), (0, 1), (1, 0)]).is_empty());
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
    for case in 0..3_000 {
        let dims = 1 + rng.below(2) as usize;
        let sizes: Vec<usize> = (0..dims).map(|_| 2 + rng.below(4) as usize).collect();
        let values: Vec<Vec<String>> =
            sizes.iter().enumerate().map(|(d, n)| (0..*n).map(|i| format!("{d}{i}")).collect()).collect();
        let mut rows = Vec::new();
        let combos: Vec<Vec<usize>> = if dims == 1 {
            (0..sizes[0]).map(|i| vec![i]).collect()
        } else {
            (0..sizes[0]).flat_map(|i| (0..sizes[1]).map(move |j| vec![i, j])).collect()
        };
        for combo in combos {
            // Many small and empty groups, some large ones.
            let people = match rng.below(4) {
                0 => 0,
                1 => rng.below(8) as i64,
                _ => rng.below(60) as i64,
            };
            let participants = if people == 0 { 0 } else { rng.below(people as u64 + 1) as i64 };
            if people > 0 {
                let key = combo.iter().enumerate().map(|(d, i)| values[d][*i].clone()).collect();
                rows.push((key, counts(people, participants)));
            }
        }
        let k = 3 + rng.below(3) as i64;
        let cells = protect(&rows, &values, k);
        let _ = case;
        assert_no_small_group_is_determinable(&cells, dims, k);
    }
}

/// Whether any withheld cell that fails rule 1 is a linear combination of what the table
/// shows: the shown cells (each the sum of its inner cells) and the withheld inner cells
/// that are known to be zero (none: a withheld cell says nothing). Exact arithmetic modulo
/// a large prime over the 0/1 incidence of cells on inner cells.
fn assert_no_small_group_is_determinable(cells: &[Cell], dims: usize, k: i64) {
    let inner: Vec<&Cell> = cells.iter().filter(|c| c.key.iter().all(Option::is_some)).collect();
    let row_of = |c: &Cell| -> Vec<u64> {
        inner.iter().map(|i| u64::from(c.key.iter().zip(&i.key).all(|(a, b)| a.is_none() || a == b))).collect()
    };
    let shown: Vec<Vec<u64>> = cells.iter().filter(|c| c.suppressed.is_none()).map(row_of).collect();
    let base = rank(shown.clone());
    for c in cells.iter().filter(|c| c.suppressed.is_some() && disclosure::sensitive(&c.counts, k)) {
        let mut with = shown.clone();
        with.push(row_of(c));
        // Determinable exactly when adding it does not raise the rank.
        assert!(
            rank(with) > base,
            "the withheld cell {:?} ({:?}) follows from the shown ones in a {dims}-way table:\n{cells:#?}",
            c.key,
            c.counts
        );
    }
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

fn rank(mut m: Vec<Vec<u64>>) -> usize {
    let columns = m.first().map_or(0, Vec::len);
    let mut r = 0;
    for col in 0..columns {
        let Some(pivot) = (r..m.len()).find(|&i| m[i][col] != 0) else { continue };
        m.swap(r, pivot);
        let inv = inverse(m[r][col]);
        let pivot_row: Vec<u64> = m[r].iter().map(|&x| mul(x, inv)).collect();
        for (i, row) in m.iter_mut().enumerate() {
            if i != r && row[col] != 0 {
                let f = row[col];
                for (x, p) in row.iter_mut().zip(&pivot_row) {
                    *x = (*x + P - mul(f, *p)) % P;
                }
            }
        }
        m[r] = pivot_row;
        r += 1;
    }
    r
}
