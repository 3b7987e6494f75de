//! An employer's own view (decision 11): an organisation's admins see their organisation's
//! figures, protected as the network's are, beside their sector's as a benchmark.
//!
//! The sector's figures are the network's own table by sector (and the dimension asked
//! for), cut to the row of the organisation's sector, with its protection. What the admin
//! knows beyond a policy reader is their own organisation's figures, so the benchmark
//! less their own is the rest of the sector: one more rule (5, dominance) makes sure that
//! rest is about at least `k` people on each side, even when the admin pools their figures
//! with one other organisation's admin:
//!
//! 5. **Dominance**: a benchmark cell's counts are shown only when the cell, less the
//!    viewer's organisation and less the largest other organisation of the sector, still
//!    holds at least `k` participants and `k` others (each side less the largest other
//!    organisation on that side); its hours only when at least `k` people with a duration
//!    remain the same way. An empty cell is shown (it is about nobody). All or nothing,
//!    as in a two-way table: when the total fails, the whole benchmark is withheld; when
//!    an inner cell fails, every inner cell is, and the sector's total stands alone, so
//!    that no withheld cell is the total less the shown ones.

use super::Counts;
use super::disclosure::{Cell, Suppression};

/// The figures of `rows` in the group `key` (`None` matches every value).
fn contribution(rows: &[(Vec<String>, Counts)], key: &[Option<String>]) -> Counts {
    rows.iter()
        .filter(|(values, _)| values.iter().zip(key).all(|(v, k)| k.as_ref().is_none_or(|k| k == v)))
        .map(|(_, c)| *c)
        .sum()
}

/// What is left of `cell` to tell about others than the viewer and the largest other
/// organisation, side by side: participants, non-participants, people with a duration.
fn rest(cell: &Counts, own: &Counts, others: &[Counts]) -> [i64; 3] {
    let sides = |c: &Counts| [c.participants, c.people - c.participants, c.with_minutes];
    let (total, own) = (sides(cell), sides(own));
    let mut rest = [0; 3];
    for side in 0..3 {
        let largest = others.iter().map(|o| sides(o)[side]).max().unwrap_or(0);
        rest[side] = total[side] - own[side] - largest;
    }
    rest
}

/// Applies rule 5 to the benchmark `cells` (the sector's row of the network's table, keyed
/// by the dimensions of the view without the sector, the total first or anywhere): `own`
/// is the viewer's organisation's finest groups, `others` each other organisation's of the
/// sector, keyed the same way.
pub fn protect_benchmark(
    mut cells: Vec<Cell>,
    own: &[(Vec<String>, Counts)],
    others: &[Vec<(Vec<String>, Counts)>],
    k: i64,
) -> Vec<Cell> {
    // [counts fail, hours fail] per cell.
    let fails: Vec<[bool; 2]> = cells
        .iter()
        .map(|cell| {
            let theirs: Vec<Counts> = others.iter().map(|o| contribution(o, &cell.key)).collect();
            let [learned, not, timed] = rest(&cell.counts, &contribution(own, &cell.key), &theirs);
            let empty = cell.counts.people == 0;
            let counts = !empty && (learned < k || not < k);
            let hours = cell.counts.with_minutes > 0 && timed < k;
            [counts, hours]
        })
        .collect();
    let is_total = |cell: &Cell| cell.key.iter().all(Option::is_none);
    let total_fails = |m: usize| cells.iter().zip(&fails).any(|(c, f)| is_total(c) && f[m]);
    let inner_fails = |m: usize| {
        cells.iter().zip(&fails).any(|(c, f)| {
            let shown = if m == 0 { c.suppressed.is_none() } else { c.hours_suppressed.is_none() };
            !is_total(c) && shown && f[m]
        })
    };
    let (counts_total, counts_inner) = (total_fails(0), inner_fails(0));
    let (hours_total, hours_inner) = (total_fails(1), inner_fails(1));
    for cell in &mut cells {
        let total = is_total(cell);
        // The total goes when it fails; the inside goes when the total or any of it fails.
        let (counts, hours) = if total {
            (counts_total, hours_total)
        } else {
            (counts_total || counts_inner, hours_total || hours_inner)
        };
        let label = if total { Suppression::Dominated } else { Suppression::Together };
        if counts && cell.suppressed.is_none() {
            cell.suppressed = Some(label);
        }
        if hours && cell.hours_suppressed.is_none() {
            cell.hours_suppressed = Some(label);
        }
    }
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(people: i64, participants: i64) -> Counts {
        Counts { people, participants, minutes: participants * 60, with_minutes: participants }
    }

    fn cell(key: Option<&str>, c: Counts) -> Cell {
        Cell { key: vec![key.map(str::to_string)], counts: c, suppressed: None, hours_suppressed: None }
    }

    fn rows(groups: &[(&str, Counts)]) -> Vec<(Vec<String>, Counts)> {
        groups.iter().map(|(g, c)| (vec![g.to_string()], *c)).collect()
    }

    /// A sector of the viewer (20 people), a large other (20) and three of 10, by two bands.
    type Rows = Vec<(Vec<String>, Counts)>;

    fn sector() -> (Rows, Vec<Rows>) {
        let own = rows(&[("young", counts(10, 5)), ("old", counts(10, 5))]);
        let mut others = vec![rows(&[("young", counts(10, 5)), ("old", counts(10, 5))])];
        for _ in 0..3 {
            others.push(rows(&[("young", counts(5, 3)), ("old", counts(5, 2))]));
        }
        (own, others)
    }

    fn table(own: &[(Vec<String>, Counts)], others: &[Vec<(Vec<String>, Counts)>]) -> Vec<Cell> {
        let all: Vec<_> = own.iter().chain(others.iter().flatten()).cloned().collect();
        [None, Some("young"), Some("old")]
            .into_iter()
            .map(|key| cell(key, contribution(&all, &[key.map(str::to_string)])))
            .collect()
    }

    #[test]
    fn a_sector_with_enough_beside_the_viewer_and_its_largest_other_is_shown() {
        let (own, others) = sector();
        let cells = protect_benchmark(table(&own, &others), &own, &others, 5);
        // The total less own (20) and the largest other (20) is 15 people: 8 learned, 7 not.
        assert!(cells.iter().all(|c| c.suppressed.is_none()), "{cells:?}");
        // By band the rest is 15 people too: young 9 learned and 6 not, old 6 and 9.
        assert!(cells.iter().all(|c| c.hours_suppressed.is_none()), "{cells:?}");
    }

    #[test]
    fn the_rest_less_the_largest_other_organisation_must_hold_k_on_each_side() {
        let (own, mut others) = sector();
        // One small organisation leaves: the old band's rest is 2 + 2 = 4 learners.
        others.pop();
        let cells = protect_benchmark(table(&own, &others), &own, &others, 5);
        let total = &cells[0];
        assert_eq!(total.suppressed, None, "the total keeps 10 beside the viewer and the largest: {cells:?}");
        for inner in &cells[1..] {
            assert_eq!(inner.suppressed, Some(Suppression::Together), "all or nothing inside: {cells:?}");
            assert_eq!(inner.hours_suppressed, Some(Suppression::Together));
        }
        // Two pooling admins (the viewer and the largest other) learn the total less both:
        // 5 learners, 5 others, and nothing of the bands.
        let rest = rest(&total.counts, &contribution(&own, &[None]), &[contribution(&others[0], &[None])]);
        assert!(rest[0] >= 5 && rest[1] >= 5, "{rest:?}");
    }

    #[test]
    fn a_sector_of_the_viewer_and_one_other_shows_nothing() {
        let (own, others) = sector();
        let others = vec![others[0].clone()];
        let cells = protect_benchmark(table(&own, &others), &own, &others, 5);
        assert_eq!(cells[0].suppressed, Some(Suppression::Dominated), "{cells:?}");
        assert_eq!(cells[0].hours_suppressed, Some(Suppression::Dominated));
        assert!(cells[1..].iter().all(|c| c.suppressed == Some(Suppression::Together)), "{cells:?}");
        // Alone in its sector, the viewer would see its own figures through the benchmark.
        let cells = protect_benchmark(table(&own, &[]), &own, &[], 5);
        assert!(cells.iter().all(|c| c.suppressed.is_some()), "{cells:?}");
    }

    #[test]
    fn hours_follow_the_people_with_a_duration() {
        let (own, mut others) = sector();
        // Nobody in the small organisations logged a duration.
        for o in &mut others[1..] {
            for (_, c) in o.iter_mut() {
                c.with_minutes = 0;
                c.minutes = 0;
            }
        }
        let cells = protect_benchmark(table(&own, &others), &own, &others, 5);
        assert!(cells.iter().all(|c| c.suppressed.is_none()), "{cells:?}");
        assert!(cells.iter().all(|c| c.hours_suppressed.is_some()), "{cells:?}");
    }

    #[test]
    fn what_the_network_table_withholds_stays_withheld_and_empty_cells_show() {
        let (own, others) = sector();
        let mut cells = table(&own, &others);
        cells[2].suppressed = Some(Suppression::Together);
        cells.push(cell(Some("unknown"), Counts::default()));
        let cells = protect_benchmark(cells, &own, &others, 5);
        assert_eq!(cells[2].suppressed, Some(Suppression::Together));
        assert_eq!(cells[1].suppressed, None);
        assert_eq!(cells[3].suppressed, None, "an empty cell is about nobody");
    }
}
