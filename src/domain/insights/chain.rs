//! Event to action: how far the people who registered for events came, step by step, and
//! which of those figures may be shown (decision record 11).
//!
//! The unit is a person's registrations for events of one format in the period: someone at
//! a workshop and a webinar counts once in each format and twice in the total, so the total
//! is the sum of the formats and the subtraction attack applies exactly as to any table.
//! Disclosure control works on the people behind the units, not on the units: a person
//! with registrations in several withheld formats is still one person.
//!
//! Every step but the first has a base step, and a cell shows a step only when at least `k`
//! distinct people of its base reached it and at least `k` did not (the first step: at
//! least `k` people, or none). A step withheld hides the later ones too, so a cell shows
//! its first steps and withholds the rest. Rule 2 is applied step by step: in a table
//! whose total shows a step, the cells withholding it must together pass rule 1 for it, as
//! distinct people, with `k` more people on each side for every partner withheld for it
//! (a partner is known to pass rule 1, so the sum minus its least must still be `k`): the
//! smallest shown cell that meets that margin is withheld from the step too, or else the
//! largest; when none is left, the total withholds the step. Where the total shows a step,
//! the cells withholding it are labelled `Together`, not small or partner: a reader who
//! knew which could bound the small ones from the sum.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::disclosure::Suppression;

/// The steps from registration to action, in order.
pub const STEPS: [&str; 5] = ["registered", "attended", "committed", "done", "proven"];

/// The step each step is a share of: attended and committed of the registered, done of the
/// committed, proven of the done. The first step stands alone.
pub const BASE: [Option<usize>; 5] = [None, Some(0), Some(0), Some(2), Some(3)];

/// A person's registrations for events of one group (an event format) in the period, and
/// the steps they reached in any of them. Step 0 (registered) is always reached; the others
/// reach only as far as their base.
#[derive(Debug, Clone)]
pub struct Unit {
    pub person: Uuid,
    pub group: String,
    pub steps: [bool; 5],
}

impl Unit {
    /// A unit whose steps are made consistent: every step implies its base.
    pub fn new(person: Uuid, group: String, attended: bool, committed: bool, done: bool, proven: bool) -> Unit {
        let done = committed && done;
        Unit { person, group, steps: [true, attended, committed, done, done && proven] }
    }
}

/// A cell of the table as kept and shown: its group (`None` for the total), the units at
/// each step it shows, and why the next step is withheld.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainCell {
    pub group: Option<String>,
    /// Units at the steps shown, from the first: all five, or fewer when the rest are withheld.
    pub shown: Vec<i64>,
    /// Why `STEPS[shown.len()]` and the steps after it are withheld.
    pub withheld: Option<Suppression>,
}

/// The people and units of a set of cells at each step, and of their bases who missed it.
#[derive(Default, Clone)]
struct Group {
    units: [i64; 5],
    reached: [HashSet<Uuid>; 5],
    missed: [HashSet<Uuid>; 5],
}

impl Group {
    fn add(&mut self, unit: &Unit) {
        for (step, base) in BASE.iter().enumerate() {
            if unit.steps[step] {
                self.units[step] += 1;
                self.reached[step].insert(unit.person);
            } else if base.is_some_and(|b| unit.steps[b]) {
                self.missed[step].insert(unit.person);
            }
        }
    }

    fn merge(&mut self, other: &Group) {
        for step in 0..STEPS.len() {
            self.units[step] += other.units[step];
            self.reached[step].extend(&other.reached[step]);
            self.missed[step].extend(&other.missed[step]);
        }
    }

    /// Rule 1 for a step: the figure would be about fewer than `k` people. With a larger
    /// `k` it is the margin rule 2 asks of a sum of withheld cells.
    fn sensitive(&self, step: usize, k: i64) -> bool {
        let few = |people: &HashSet<Uuid>| (people.len() as i64) < k;
        match BASE[step] {
            None => self.units[step] > 0 && few(&self.reached[step]),
            Some(base) => self.units[base] > 0 && (few(&self.reached[step]) || few(&self.missed[step])),
        }
    }

    /// How big the cell is for a step: the units of its base (smallest first for rule 2).
    fn size(&self, step: usize) -> i64 {
        self.units[BASE[step].unwrap_or(step)]
    }
}

/// The one-way table of `units` by group, total first, then one cell per value of `values`
/// (empty ones included), protected with `k`.
pub fn protect_chain(units: &[Unit], values: &[String], k: i64) -> Vec<ChainCell> {
    protect_steps(units, values, k, STEPS.len())
}

/// The people of each group, as a one-step table: the count of a group is shown when it
/// is at least `k` people or none, and rule 2 protects the line as for the chain's first
/// step. `people` are (person, group) pairs; a pair given twice counts once.
pub fn protect_people(people: &[(Uuid, String)], values: &[String], k: i64) -> Vec<ChainCell> {
    let mut pairs: Vec<&(Uuid, String)> = people.iter().collect();
    pairs.sort();
    pairs.dedup();
    let units: Vec<Unit> = pairs
        .into_iter()
        .map(|(person, group)| Unit::new(*person, group.clone(), false, false, false, false))
        .collect();
    protect_steps(&units, values, k, 1)
}

/// [`protect_chain`] over the first `steps` steps only.
fn protect_steps(units: &[Unit], values: &[String], k: i64, steps: usize) -> Vec<ChainCell> {
    let mut groups = vec![Group::default(); values.len()];
    for unit in units {
        match values.iter().position(|v| *v == unit.group) {
            Some(at) => groups[at].add(unit),
            // The database's checks list the same values; a stray one is left out of every
            // cell and the total alike, so the table still adds up.
            None => tracing::warn!(group = %unit.group, "event to action: a value the dimension does not list"),
        }
    }
    let mut total = Group::default();
    groups.iter().for_each(|g| total.merge(g));
    // The first step each cell withholds, and why.
    let mut total_withheld: Option<(usize, Suppression)> = None;
    let mut withheld: Vec<Option<(usize, Suppression)>> = vec![None; values.len()];
    for step in 0..steps {
        if total_withheld.is_none() && total.sensitive(step, k) {
            total_withheld = Some((step, Suppression::Primary));
        }
        for (group, w) in groups.iter().zip(withheld.iter_mut()) {
            if w.is_none() && group.sensitive(step, k) {
                *w = Some((step, Suppression::Primary));
            }
        }
        if total_withheld.is_some() {
            // No total shows this step, so nothing is learned by subtraction.
            continue;
        }
        loop {
            let mut hidden = Group::default();
            let mut any = false;
            for (group, _) in groups.iter().zip(&withheld).filter(|(_, w)| w.is_some()) {
                hidden.merge(group);
                any = true;
            }
            // A partner withheld for this step is known to pass rule 1 for it: at least `k`
            // people on each side. So each side of the sum needs `k` more per partner, or
            // the sum minus the partners' least would bound a small cell below `k`.
            let partners = withheld.iter().filter(|w| **w == Some((step, Suppression::Secondary))).count() as i64;
            if !any || !hidden.sensitive(step, k * (1 + partners)) {
                break;
            }
            // The smallest shown cell that meets the margin with one partner more, or else
            // the largest.
            let mut open: Vec<usize> =
                (0..values.len()).filter(|&i| withheld[i].is_none() && groups[i].size(step) > 0).collect();
            open.sort_by_key(|&i| (groups[i].size(step), i));
            let meets = |i: usize| {
                let mut with = hidden.clone();
                with.merge(&groups[i]);
                !with.sensitive(step, k * (2 + partners))
            };
            let next = open.iter().copied().find(|&i| meets(i)).or(open.last().copied());
            match next {
                Some(i) => withheld[i] = Some((step, Suppression::Secondary)),
                // Every non-empty cell withholds the step and their sum, the total, still
                // falls short of the margin: the total withholds it too.
                None => {
                    total_withheld = Some((step, Suppression::Secondary));
                    // With no total to subtract from, the partners protect nothing: they
                    // pass rule 1 and are shown.
                    for w in withheld.iter_mut().filter(|w| **w == Some((step, Suppression::Secondary))) {
                        *w = None;
                    }
                    break;
                }
            }
        }
        if total_withheld.is_none() {
            // As in `disclosure`: the cells withholding this step say nothing of which of
            // them are small, or a reader could bound those from the sum.
            for w in withheld.iter_mut().filter(|w| w.is_some_and(|(at, _)| at == step)) {
                *w = Some((step, Suppression::Together));
            }
        }
    }
    let cell = |group: Option<String>, g: &Group, w: Option<(usize, Suppression)>| ChainCell {
        group,
        shown: g.units[..w.map_or(steps, |(step, _)| step)].to_vec(),
        withheld: w.map(|(_, why)| why),
    };
    std::iter::once(cell(None, &total, total_withheld))
        .chain(values.iter().zip(&groups).zip(&withheld).map(|((v, g), w)| cell(Some(v.clone()), g, *w)))
        .collect()
}

#[cfg(test)]
#[path = "chain_tests.rs"]
mod tests;
