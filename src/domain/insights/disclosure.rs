//! Disclosure control: which cells of a table of figures about people may be shown.
//!
//! The rules (decision record 11), applied to the counts and again, separately, to the
//! hours:
//! 1. **Primary**: a cell's counts are shown only when its participants and its
//!    non-participants each number at least `k` people, or when it is empty ("all but two
//!    of them learned" is about two people). Its hours are shown only when its counts are,
//!    at least `k` of its people logged a duration (an average over fewer is about them),
//!    and no one person's minutes dominate: the minutes less the two largest persons' must
//!    be at least 20 % of the largest's (the p% rule), or the second largest, knowing the
//!    total, could tell the largest's to within 20 %.
//! 2. **Secondary**: in a line whose total is shown (a one-way table and its grand total),
//!    the withheld cells together must pass rule 1, because the total minus the shown cells
//!    is their sum, with `k` more on each side per partner: a partner is known to pass rule
//!    1, so the sum minus each partner's least must still be `k` on each side, or it would
//!    bound a small cell. The next partner is the smallest non-empty shown cell that meets
//!    the margin, or else the largest. Every withheld cell of such a line is then labelled
//!    `Together`: which of them are small, and which are partners, is not said, because a
//!    reader who knew could bound the small ones from the sum.
//! 3. **All or nothing inside a two-way table**: its inner cells are shown only when none
//!    fails rule 1; otherwise every inner cell is withheld, `Together` (which are small is
//!    not said, so a margin minus the inner cells known to pass cannot bound a small one),
//!    and the table shows its margins only. So every two-way table either adds nothing to its margins or shows cells that
//!    are each safe and whose sums (the margins) are too; no withheld cell, and no sum of
//!    withheld cells, can be worked out by combining lines or tables.
//! 4. **Margins are the one-way tables**, protected as those are, so that asking both
//!    gives nothing new, and every table of a period is cut from the same figures.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Counts;

/// Why a figure is withheld.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Suppression {
    /// Fewer than `k` people on one side (or, for hours, with a duration).
    Primary,
    /// The cell would let a withheld one be worked out from a total.
    Secondary,
    /// Withheld with the others of its line or of a two-way table's inside, without saying
    /// which of them are small: a reader who knew which ones pass rule 1 could bound the
    /// small ones (see [`protect`]).
    Together,
}

/// A cell: its place (one value per dimension of the table, `None` for "all"), its
/// figures, and whether its counts and its hours are withheld.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub key: Vec<Option<String>>,
    pub counts: Counts,
    pub suppressed: Option<Suppression>,
    pub hours_suppressed: Option<Suppression>,
}

/// Whether a cell's counts would tell something about fewer than `k` people (rule 1).
pub fn sensitive(counts: &Counts, k: i64) -> bool {
    counts.people > 0 && !counts.disclosable(k)
}

/// Whether a cell's hours would be an average over fewer than `k` people, or mostly one
/// person's minutes (rule 1).
pub fn hours_sensitive(counts: &Counts, k: i64) -> bool {
    counts.with_minutes > 0 && (counts.with_minutes < k || counts.hours_dominated())
}

/// The cells of a table over zero, one or two dimensions, margins included, protected.
/// `values` lists every value each dimension can take: the table has a cell for every
/// combination, empty ones included (a group without people is about nobody).
/// `rows` are the groups of the finest breakdown: one value per dimension and their figures.
pub fn protect(rows: &[(Vec<String>, Counts)], values: &[Vec<String>], k: i64) -> Vec<Cell> {
    assert!(values.len() <= 2, "tables have at most two dimensions");
    let grid = grid(rows, values);
    let counts = Measure { sensitive: &|c, k| sensitive(c, k), size: &|c| c.people, k };
    let suppressed = counts.protect(&grid, values.len(), &BTreeMap::new());
    let hours = Measure { sensitive: &|c, k| hours_sensitive(c, k), size: &|c| c.with_minutes, k };
    let hours_suppressed = hours.protect(&grid, values.len(), &suppressed);
    grid.into_iter()
        .map(|(key, counts)| Cell {
            suppressed: suppressed.get(&key).copied(),
            hours_suppressed: hours_suppressed.get(&key).copied(),
            key,
            counts,
        })
        .collect()
}

type Key = Vec<Option<String>>;

/// Every cell of the table with its figures: every value or "all" in each dimension.
fn grid(rows: &[(Vec<String>, Counts)], values: &[Vec<String>]) -> BTreeMap<Key, Counts> {
    let mut keys: Vec<Key> = vec![Vec::new()];
    for choices in values {
        keys = keys
            .into_iter()
            .flat_map(|key| {
                std::iter::once(None).chain(choices.iter().cloned().map(Some)).map(move |v| {
                    let mut key = key.clone();
                    key.push(v);
                    key
                })
            })
            .collect();
    }
    let mut cells: BTreeMap<Key, Counts> = keys.into_iter().map(|k| (k, Counts::default())).collect();
    for (row, counts) in rows {
        assert_eq!(row.len(), values.len());
        // The cell itself, its margins and the grand total.
        for mask in 0..(1usize << values.len()) {
            let key: Key = row.iter().enumerate().map(|(d, v)| (mask & (1 << d) != 0).then(|| v.clone())).collect();
            *cells.get_mut(&key).expect("a value the dimension lists") += *counts;
        }
    }
    cells
}

/// One figure protected by the rules: what fails rule 1, and how big a cell is (smallest
/// first for rule 2; size 0 is empty).
struct Measure<'a> {
    /// Rule 1 with the given `k` (or the margin rule 2 asks).
    sensitive: &'a dyn Fn(&Counts, i64) -> bool,
    size: &'a dyn Fn(&Counts) -> i64,
    k: i64,
}

impl Measure<'_> {
    /// The withheld cells of the table, starting from those `already` withheld.
    fn protect(
        &self,
        grid: &BTreeMap<Key, Counts>,
        dimensions: usize,
        already: &BTreeMap<Key, Suppression>,
    ) -> BTreeMap<Key, Suppression> {
        let mut withheld = already.clone();
        for (key, counts) in grid {
            if (self.sensitive)(counts, self.k) {
                withheld.entry(key.clone()).or_insert(Suppression::Primary);
            }
        }
        let total: Key = vec![None; dimensions];
        for d in 0..dimensions {
            // The margins along `d`: the one-way table of dimension `d`.
            let line: Vec<&Key> =
                grid.keys().filter(|key| key[d].is_some() && key.iter().filter(|v| v.is_some()).count() == 1).collect();
            if !withheld.contains_key(&total) {
                self.complete_line(grid, &line, &mut withheld);
            }
        }
        if dimensions == 2 {
            let inner: Vec<&Key> = grid.keys().filter(|key| key.iter().all(Option::is_some)).collect();
            if inner.iter().any(|key| withheld.contains_key(*key)) {
                for key in inner {
                    withheld.insert(key.clone(), Suppression::Together);
                }
            }
        }
        withheld
    }

    /// Rule 2: withholds more cells of a line until the withheld ones together pass rule 1
    /// with the partners' margin (or none is withheld); see the module's rule 2.
    fn complete_line(&self, grid: &BTreeMap<Key, Counts>, line: &[&Key], withheld: &mut BTreeMap<Key, Suppression>) {
        let mut partners = 0;
        loop {
            let hidden: Counts = line.iter().filter(|k| withheld.contains_key(**k)).map(|k| grid[*k]).sum();
            let margin = |partners: i64| self.k * (1 + partners);
            if !line.iter().any(|k| withheld.contains_key(*k)) || !(self.sensitive)(&hidden, margin(partners)) {
                break;
            }
            let mut open: Vec<&Key> =
                line.iter().copied().filter(|k| !withheld.contains_key(*k) && (self.size)(&grid[*k]) > 0).collect();
            open.sort_by_key(|k| ((self.size)(&grid[*k]), (*k).clone()));
            let enough = open.iter().find(|k| !(self.sensitive)(&(hidden + grid[**k]), margin(partners + 1)));
            match enough.or(open.last()) {
                Some(key) => {
                    withheld.insert((*key).clone(), Suppression::Secondary);
                    partners += 1;
                }
                // Every non-empty cell is withheld and their sum, the total, passes rule 1
                // but not the margin.
                None => break,
            }
        }
        // The total minus the shown cells is the sum of the withheld ones: a reader who knew
        // which of them are small and which pass (and a rule-aware reader could, from which
        // shown cells were skipped as partners) could bound the small ones. So none says.
        let hidden: Vec<Key> = line.iter().filter(|k| withheld.contains_key(**k)).map(|k| (*k).clone()).collect();
        for key in hidden {
            withheld.insert(key, Suppression::Together);
        }
    }
}
