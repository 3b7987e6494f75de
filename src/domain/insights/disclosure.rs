//! Disclosure control: which cells of a table of figures about people may be shown.
//!
//! The rules (decision record 11), applied to the counts and again, separately, to the
//! hours:
//! 1. **Primary**: a cell's counts are shown only when its participants and its
//!    non-participants each number at least `k` people, or when it is empty ("all but two
//!    of them learned" is about two people). Its hours are shown only when its counts are
//!    and at least `k` of its people logged a duration (an average over fewer is about them).
//! 2. **Secondary**: in a line whose total is shown (a one-way table and its grand total),
//!    the withheld cells together must pass rule 1, because the total minus the shown cells
//!    is their sum. The smallest non-empty shown cell is withheld next until they do.
//! 3. **All or nothing inside a two-way table**: its inner cells are shown only when none
//!    fails rule 1; otherwise every inner cell is withheld and the table shows its margins
//!    only. So every two-way table either adds nothing to its margins or shows cells that
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

/// Whether a cell's hours would be an average over fewer than `k` people (rule 1).
pub fn hours_sensitive(counts: &Counts, k: i64) -> bool {
    counts.with_minutes > 0 && counts.with_minutes < k
}

/// The cells of a table over zero, one or two dimensions, margins included, protected.
/// `values` lists every value each dimension can take: the table has a cell for every
/// combination, empty ones included (a group without people is about nobody).
/// `rows` are the groups of the finest breakdown: one value per dimension and their figures.
pub fn protect(rows: &[(Vec<String>, Counts)], values: &[Vec<String>], k: i64) -> Vec<Cell> {
    assert!(values.len() <= 2, "tables have at most two dimensions");
    let grid = grid(rows, values);
    let counts = Measure { sensitive: &|c| sensitive(c, k), size: &|c| c.people };
    let suppressed = counts.protect(&grid, values.len(), &BTreeMap::new());
    let hours = Measure { sensitive: &|c| hours_sensitive(c, k), size: &|c| c.with_minutes };
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
    sensitive: &'a dyn Fn(&Counts) -> bool,
    size: &'a dyn Fn(&Counts) -> i64,
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
            if (self.sensitive)(counts) {
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
                    withheld.entry(key.clone()).or_insert(Suppression::Secondary);
                }
            }
        }
        withheld
    }

    /// Rule 2: withholds more cells of a line, smallest non-empty first, until the withheld
    /// ones together pass rule 1 (or none is withheld).
    fn complete_line(&self, grid: &BTreeMap<Key, Counts>, line: &[&Key], withheld: &mut BTreeMap<Key, Suppression>) {
        loop {
            let hidden: Counts = line.iter().filter(|k| withheld.contains_key(**k)).map(|k| grid[*k]).sum();
            if !line.iter().any(|k| withheld.contains_key(*k)) || !(self.sensitive)(&hidden) {
                return;
            }
            let next = line
                .iter()
                .filter(|k| !withheld.contains_key(**k) && (self.size)(&grid[**k]) > 0)
                .min_by_key(|k| ((self.size)(&grid[**k]), (**k).clone()));
            match next {
                Some(key) => {
                    withheld.insert((*key).clone(), Suppression::Secondary);
                }
                // Everything non-empty is withheld: their sum is the total, which is shown
                // only when it passes rule 1, so this is unreachable; stop regardless.
                None => return,
            }
        }
    }
}
