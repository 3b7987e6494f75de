use std::collections::HashSet;

use uuid::Uuid;

use super::{BASE, ChainCell, STEPS, Unit, protect_chain};
use crate::domain::insights::disclosure::Suppression;

fn person(n: u128) -> Uuid {
    Uuid::from_u128(n + 1)
}

fn formats() -> Vec<String> {
    ["workshop", "webinar", "conference", "field_visit"].iter().map(|s| s.to_string()).collect()
}

/// `n` people (numbered from `first`) at `format`, of whom the first `attended` attended,
/// the first `committed` committed, the first `done` did and the first `proven` proved it.
fn people(first: u128, format: &str, n: u128, [attended, committed, done, proven]: [u128; 4]) -> Vec<Unit> {
    (0..n)
        .map(|i| Unit::new(person(first + i), format.into(), i < attended, i < committed, i < done, i < proven))
        .collect()
}

fn cell<'a>(cells: &'a [ChainCell], group: Option<&str>) -> &'a ChainCell {
    cells.iter().find(|c| c.group.as_deref() == group).unwrap()
}

#[test]
fn a_small_format_is_withheld_and_cannot_be_recovered_from_the_total() {
    let mut units = people(0, "workshop", 40, [30, 20, 12, 6]);
    units.extend(people(100, "webinar", 20, [10, 15, 10, 5]));
    units.extend(people(200, "field_visit", 3, [0, 0, 0, 0]));
    let cells = protect_chain(&units, &formats(), 5);
    assert_eq!(cell(&cells, None).shown, vec![63, 40, 35, 22, 11]);
    assert_eq!(cell(&cells, Some("workshop")).shown, vec![40, 30, 20, 12, 6]);
    // Three people: nothing shown.
    let small = cell(&cells, Some("field_visit"));
    assert_eq!((small.shown.clone(), small.withheld), (vec![], Some(Suppression::Together)));
    // Without a partner, the total minus the workshop (and the empty conference) would be
    // the three people of the field visit.
    let partner = cell(&cells, Some("webinar"));
    assert_eq!((partner.shown.clone(), partner.withheld), (vec![], Some(Suppression::Together)));
    // Empty formats show zeros.
    assert_eq!(cell(&cells, Some("conference")).shown, vec![0, 0, 0, 0, 0]);
}

#[test]
fn a_step_everyone_or_almost_no_one_reached_is_withheld_with_the_steps_after_it() {
    // All 20 attended ("every one of them was there" is about each of them); 2 proved.
    let mut units = people(0, "workshop", 20, [20, 12, 6, 2]);
    units.extend(people(100, "webinar", 30, [20, 15, 8, 4]));
    units.extend(people(200, "conference", 25, [15, 10, 5, 0]));
    let cells = protect_chain(&units, &formats(), 5);
    let workshop = cell(&cells, Some("workshop"));
    assert_eq!((workshop.shown.clone(), workshop.withheld), (vec![20], Some(Suppression::Together)));
    // The total minus the webinar would be the workshop: the conference partners it.
    let conference = cell(&cells, Some("conference"));
    assert_eq!((conference.shown.clone(), conference.withheld), (vec![25], Some(Suppression::Together)));
    let webinar = cell(&cells, Some("webinar"));
    assert_eq!(webinar.shown, vec![30, 20, 15, 8], "4 of 8 proved: fewer than k did");
    assert_eq!(webinar.withheld, Some(Suppression::Together));
    // The total shows every step: its withheld cells together are at least k people on
    // each side, so total minus shown tells nothing about fewer.
    assert_eq!(cell(&cells, None).shown, vec![75, 55, 37, 19, 6]);
}

#[test]
fn one_person_in_several_withheld_formats_is_one_person_not_several() {
    // The same four people at a workshop, a webinar and a field visit: twelve units, four
    // people. Counting units, the three withheld cells would "pass" together (12 >= 5); as
    // people they do not, so the conference is withheld as well.
    let mut units = Vec::new();
    for format in ["workshop", "webinar", "field_visit"] {
        units.extend(people(0, format, 4, [2, 0, 0, 0]));
    }
    units.extend(people(100, "conference", 30, [20, 10, 5, 0]));
    let cells = protect_chain(&units, &formats(), 5);
    assert_eq!(cell(&cells, None).shown[0], 42);
    for format in ["workshop", "webinar", "field_visit"] {
        assert_eq!(cell(&cells, Some(format)).withheld, Some(Suppression::Together), "{format}");
    }
    let conference = cell(&cells, Some("conference"));
    assert_eq!((conference.shown.clone(), conference.withheld), (vec![], Some(Suppression::Together)));
}

#[test]
fn a_partner_known_to_pass_rule_1_does_not_pin_the_cell_it_protects() {
    // Workshop: 4 of its 7 who did it proved it (3 did not: fewer than k). The webinar, 5 of
    // 10, would be the smallest partner; it passes rule 1, so a reader knows its proven is
    // between 5 and 10 - 5 = 5: total - shown = 9 would pin the workshop at 4. The margin
    // asks 2k on each side of the sum, which the conference meets and the webinar does not.
    let mut units = people(0, "workshop", 20, [10, 15, 7, 4]);
    units.extend(people(100, "webinar", 20, [10, 15, 10, 5]));
    units.extend(people(200, "conference", 40, [20, 30, 20, 10]));
    let cells = protect_chain(&units, &formats(), 5);
    assert_eq!(cell(&cells, None).shown, vec![80, 40, 60, 37, 19]);
    assert_eq!(cell(&cells, Some("webinar")).shown, vec![20, 10, 15, 10, 5]);
    let workshop = cell(&cells, Some("workshop"));
    assert_eq!((workshop.shown.len(), workshop.withheld), (4, Some(Suppression::Together)));
    let conference = cell(&cells, Some("conference"));
    assert_eq!((conference.shown.len(), conference.withheld), (4, Some(Suppression::Together)));
    // Now a reader knows the conference's proven is 5 to 15, so the workshop's is 0 to 9.
}

#[test]
fn people_count_once_per_group_and_a_small_group_is_withheld_with_a_partner() {
    use super::protect_people;
    // Two people in "webinar" (one of them twice), six in "workshop", twelve at "conference".
    let mut pairs = vec![(person(0), "webinar".to_string()), (person(0), "webinar".to_string())];
    pairs.push((person(1), "webinar".into()));
    pairs.extend((10..16).map(|i| (person(i), "workshop".to_string())));
    pairs.extend((20..32).map(|i| (person(i), "conference".to_string())));
    let cells = protect_people(&pairs, &formats(), 5);
    assert_eq!(cell(&cells, None).shown, vec![20]);
    // The webinar's two are withheld; the workshop alone would leave the sum minus its
    // least (5) under k, the conference does not.
    assert_eq!(cell(&cells, Some("webinar")).shown, Vec::<i64>::new());
    assert_eq!(cell(&cells, Some("workshop")).shown, vec![6]);
    let conference = cell(&cells, Some("conference"));
    assert_eq!((conference.shown.clone(), conference.withheld), (vec![], Some(Suppression::Together)));
    assert_eq!(cell(&cells, Some("field_visit")).shown, vec![0]);
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

/// Whether the units of `cells` (by position) put at least `k` distinct people on each side
/// of `step`, or nobody at its base: checked from the units, independently of the code.
fn passes(units: &[Unit], values: &[String], cells: &[usize], step: usize, k: usize) -> bool {
    let inside: Vec<&Unit> = units.iter().filter(|u| cells.iter().any(|&c| values[c] == u.group)).collect();
    let at = |s: usize| inside.iter().filter(|u| u.steps[s]).map(|u| u.person).collect::<HashSet<_>>();
    match BASE[step] {
        None => at(step).is_empty() || at(step).len() >= k,
        Some(base) => {
            let missed: HashSet<Uuid> =
                inside.iter().filter(|u| u.steps[base] && !u.steps[step]).map(|u| u.person).collect();
            at(base).is_empty() || (at(step).len() >= k && missed.len() >= k)
        }
    }
}

#[test]
fn no_small_group_is_determinable_in_random_event_tables() {
    // A one-way table reveals, of each step, the shown cells and the total, so of the cells
    // withholding the step exactly their sum. Both must be about at least k people on each
    // side, counted as people across formats.
    let values = formats();
    let mut rng = Rng(0x00e7_e17a_c710_0001);
    let mut withheld_seen = 0;
    for _ in 0..2_000 {
        let k = 3 + rng.below(3) as usize;
        let pool = 5 + rng.below(60) as u128;
        let mut units = Vec::new();
        for format in &values {
            let mut seen = HashSet::new();
            for _ in 0..rng.below(25) {
                let who = person(rng.below(pool as u64) as u128);
                if seen.insert(who) {
                    let p = |rng: &mut Rng, pct| rng.below(100) < pct;
                    let (a, c, d, v) = (p(&mut rng, 70), p(&mut rng, 50), p(&mut rng, 50), p(&mut rng, 50));
                    units.push(Unit::new(who, format.clone(), a, c, d, v));
                }
            }
        }
        let cells = protect_chain(&units, &values, k as i64);
        let total = &cells[0];
        for (step, name) in STEPS.iter().enumerate() {
            let hidden: Vec<usize> = (0..values.len()).filter(|&c| cells[c + 1].shown.len() <= step).collect();
            for c in 0..values.len() {
                if cells[c + 1].shown.len() > step {
                    assert!(passes(&units, &values, &[c], step, k), "a shown cell fails at {name}");
                }
            }
            if total.shown.len() > step && step > 0 {
                interval_attack(&cells, step, k as i64);
            }
            if total.shown.len() > step {
                let all: Vec<usize> = (0..values.len()).collect();
                assert!(passes(&units, &values, &all, step, k));
                let sum: i64 = units.iter().filter(|u| u.steps[step]).count() as i64;
                assert_eq!(total.shown[step], sum);
                assert!(passes(&units, &values, &hidden, step, k), "total minus shown isolates a small group");
                withheld_seen += hidden.len();
            }
        }
    }
    assert!(withheld_seen > 1_000, "the random tables exercise withholding: {withheld_seen}");
}

/// What a reader can bound about a cell that withholds `step` while the total shows it:
/// every such cell says only `Together`, so a reader bounds the others by none and all of
/// their base (the total's where theirs is withheld too). Each cell's value must still
/// possibly be `k` or more and possibly its base minus `k` or less.
fn interval_attack(cells: &[ChainCell], step: usize, k: i64) {
    let base = BASE[step].expect("a step with a base");
    let (total, groups) = (&cells[0], &cells[1..]);
    let hidden: Vec<&ChainCell> = groups.iter().filter(|c| c.shown.len() <= step).collect();
    let sum = total.shown[step] - groups.iter().filter(|c| c.shown.len() > step).map(|c| c.shown[step]).sum::<i64>();
    let most = |c: &ChainCell| c.shown.get(base).copied().unwrap_or(total.shown[base]);
    for (i, c) in hidden.iter().enumerate() {
        if c.shown.len() != step {
            continue;
        }
        assert_eq!(c.withheld, Some(Suppression::Together), "{cells:?}");
        let others: i64 = hidden.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, o)| most(o)).sum();
        let (lo, hi) = ((sum - others).max(0), sum.min(c.shown[base]));
        assert!(
            hi >= k && lo <= c.shown[base] - k,
            "{} of {:?}: a reader bounds it to {lo}..={hi} of {}; {cells:?}",
            STEPS[step],
            c.group,
            c.shown[base]
        );
    }
}
