//! Disclosure control: which cells of a table of figures about people may be shown.
//!
//! The rules (decision record 11):
//! 1. **Primary**: a cell is shown only when its participants and its non-participants each
//!    number at least `k` people, or when it is empty. Fewer than `k` on either side would
//!    tell something about a group of fewer than `k` people ("all but two of them learned").
//! 2. **Secondary**: in every line of a table whose total is shown (a row or column of a
//!    two-way table with its margin, the cells of a one-way table with the grand total),
//!    the withheld cells together must pass rule 1, because subtracting the shown cells
//!    from the total gives their sum. Cells are added, smallest first, until they do.
//! 3. **No cell worked out**: in a two-way table no withheld cell that fails rule 1 may
//!    follow from what is shown (the classic "rows minus columns" attack). A total that is
//!    withheld keeps one of its cells withheld, or it would be their sum; and the exact test
//!    (a withheld cell is determined exactly when it is a bridge of the graph whose nodes are
//!    the table's rows and columns, margins included, and whose edges are the withheld cells)
//!    must pass, or else the table withholds its whole interior and shows only its margins.
//! 4. **One answer per question**: a two-way table's margins are exactly the one-way
//!    tables of its dimensions, protected as those are, so asking both gives nothing new;
//!    the two dimensions are always taken in one canonical order.

use std::collections::{BTreeMap, BTreeSet};

use super::Counts;

/// Why a cell's figures are withheld.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suppression {
    /// Fewer than `k` participants or non-participants.
    Primary,
    /// The cell would let a withheld cell be worked out from a total.
    Secondary,
}

/// A cell: its place (one value per dimension of the table, `None` for "all"), its
/// figures and whether they are withheld.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub key: Vec<Option<String>>,
    pub counts: Counts,
    pub suppressed: Option<Suppression>,
}

/// The cells of a table over zero, one or two dimensions, margins included, protected.
/// `values` lists every value each dimension can take: the table has a cell for every
/// combination, empty ones included (shown as zeros: a group without people tells nothing
/// about anyone, and a reader learns that a withheld group is not empty, which is about
/// nobody in particular).
/// `rows` are the groups of the finest breakdown: one value per dimension and their figures.
pub fn protect(rows: &[(Vec<String>, Counts)], values: &[Vec<String>], k: i64) -> Vec<Cell> {
    let dimensions = values.len();
    assert!(dimensions <= 2, "tables have at most two dimensions");
    let mut t = Tab::new(rows, values, k);
    let total: Vec<Option<String>> = vec![None; dimensions];
    t.primary(&total);
    match dimensions {
        0 => {}
        1 => {
            let cells = t.keys_where(|key| key[0].is_some());
            t.one_way(&total, &cells);
        }
        _ => {
            for d in 0..2 {
                let margins = t.keys_where(|key| key[d].is_some() && key[1 - d].is_none());
                t.one_way(&total, &margins);
            }
            t.interior();
        }
    }
    t.cells.into_iter().map(|(key, (counts, suppressed))| Cell { key, counts, suppressed }).collect()
}

type Key = Vec<Option<String>>;

struct Tab {
    cells: BTreeMap<Key, (Counts, Option<Suppression>)>,
    values: Vec<Vec<String>>,
    k: i64,
}

impl Tab {
    fn new(rows: &[(Vec<String>, Counts)], values: &[Vec<String>], k: i64) -> Self {
        let dimensions = values.len();
        let mut cells: BTreeMap<Key, (Counts, Option<Suppression>)> = BTreeMap::new();
        // The whole grid, empty: every value or "all" in each dimension.
        let mut grid: Vec<Key> = vec![Vec::new()];
        for choices in values {
            grid = grid
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
        for key in grid {
            cells.insert(key, Default::default());
        }
        for (row, counts) in rows {
            assert_eq!(row.len(), dimensions);
            // Every combination of "this value" and "all" for each dimension: the cell itself,
            // its margins and the grand total.
            for mask in 0..(1usize << dimensions) {
                let key: Key = row.iter().enumerate().map(|(d, v)| (mask & (1 << d) != 0).then(|| v.clone())).collect();
                cells.entry(key).or_default().0 += *counts;
            }
        }
        Self { cells, values: values.to_vec(), k }
    }

    fn keys_where(&self, f: impl Fn(&Key) -> bool) -> Vec<Key> {
        self.cells.keys().filter(|k| f(k)).cloned().collect()
    }

    fn shown(&self, key: &Key) -> bool {
        self.cells.get(key).is_some_and(|c| c.1.is_none())
    }

    /// Rule 1. A group without people is shown (as zeros): it tells nothing about anyone.
    fn primary(&mut self, key: &Key) {
        let k = self.k;
        let cell = self.cells.get_mut(key).expect("a cell of this table");
        if sensitive(&cell.0, k) {
            cell.1 = Some(Suppression::Primary);
        }
    }

    /// Rules 1 and 2 for the cells of one line and its total.
    fn one_way(&mut self, total: &Key, cells: &[Key]) {
        for key in cells {
            self.primary(key);
        }
        if self.shown(total) {
            self.complete_line(cells);
        }
    }

    /// Rule 2: withholds more cells of a line, smallest first, until the withheld ones
    /// together pass rule 1 (or none is withheld). Returns whether anything changed.
    fn complete_line(&mut self, line: &[Key]) -> bool {
        let mut changed = false;
        loop {
            let withheld: Counts = line.iter().filter(|k| !self.shown(k)).map(|k| self.cells[k].0).sum();
            let any = line.iter().any(|k| !self.shown(k));
            if !any || withheld.disclosable(self.k) {
                return changed;
            }
            // Withholding an empty cell would add nothing to the sum.
            let next = line
                .iter()
                .filter(|k| self.shown(k) && self.cells[*k].0.people > 0)
                .min_by_key(|k| (self.cells[*k].0.people, (*k).clone()));
            match next {
                Some(key) => {
                    let key = key.clone();
                    self.cells.get_mut(&key).expect("a cell of this line").1 = Some(Suppression::Secondary);
                    changed = true;
                }
                // Everything in the line is withheld: their sum is the total, which is shown
                // only when it passes rule 1, so this is unreachable; stop regardless.
                None => return changed,
            }
        }
    }

    /// Rules 1 to 3 for the inner cells of a two-way table whose margins are settled.
    fn interior(&mut self) {
        let inner = self.keys_where(|key| key.iter().all(Option::is_some));
        for key in &inner {
            self.primary(key);
        }
        let lines = |d: usize| -> BTreeMap<String, Vec<Key>> {
            let mut by: BTreeMap<String, Vec<Key>> = BTreeMap::new();
            for key in &inner {
                by.entry(key[d].clone().expect("inner")).or_default().push(key.clone());
            }
            by
        };
        let (rows, columns) = (lines(0), lines(1));
        let margin = |d: usize, value: &str| -> Key {
            let mut key = vec![None, None];
            key[d] = Some(value.to_string());
            key
        };
        loop {
            let mut changed = false;
            for (d, by) in [(0, &rows), (1, &columns)] {
                for (value, line) in by {
                    if self.shown(&margin(d, value)) {
                        changed |= self.complete_line(line);
                    } else if line.iter().all(|k| self.shown(k)) {
                        // A withheld total whose cells are all shown is their sum: withhold one.
                        let smallest = line
                            .iter()
                            .filter(|k| self.cells[*k].0.people > 0)
                            .min_by_key(|k| (self.cells[*k].0.people, (*k).clone()))
                            .cloned();
                        if let Some(key) = smallest {
                            self.cells.get_mut(&key).expect("a cell of this line").1 = Some(Suppression::Secondary);
                            changed = true;
                        }
                    }
                }
            }
            if !changed {
                break;
            }
        }
        if self.a_sensitive_cell_is_determinable() {
            for key in &inner {
                let cell = self.cells.get_mut(key).expect("inner");
                if cell.1.is_none() {
                    cell.1 = Some(Suppression::Secondary);
                }
            }
            debug_assert!(!self.a_sensitive_cell_is_determinable(), "margins that are one-way tables are safe");
        }
    }

    /// Rule 3, exactly: whether the shown cells fix the value of a withheld cell that fails
    /// rule 1. Seen as an (R+1) x (C+1) grid whose last row and column are the margins
    /// (counted negatively), every row and column of a two-way table sums to zero; so the
    /// unknowns are the withheld cells, one equation per line, and each unknown is in exactly
    /// two lines: the edges of a bipartite graph between the lines. An edge's value follows
    /// from the equations exactly when it is a cut on its own: a bridge.
    fn a_sensitive_cell_is_determinable(&self) -> bool {
        let (rows, columns) = (self.values[0].len(), self.values[1].len());
        let place = |d: usize, v: &Option<String>| -> usize {
            match v {
                Some(v) => self.values[d].iter().position(|x| x == v).expect("a value of the dimension"),
                None => self.values[d].len(),
            }
        };
        let edges: Vec<(usize, usize, bool)> = self
            .cells
            .iter()
            .filter(|(_, (_, suppressed))| suppressed.is_some())
            .map(|(key, (counts, _))| (place(0, &key[0]), rows + 1 + place(1, &key[1]), sensitive(counts, self.k)))
            .collect();
        bridges(rows + columns + 2, &edges).into_iter().any(|e| edges[e].2)
    }
}

/// Whether a cell's figures would tell something about fewer than `k` people (rule 1).
pub fn sensitive(counts: &Counts, k: i64) -> bool {
    counts.people > 0 && !counts.disclosable(k)
}

/// The edges (by index) of an undirected multigraph that lie on no cycle. Self-loops and
/// parallel edges lie on cycles.
fn bridges(n: usize, edges: &[(usize, usize, bool)]) -> BTreeSet<usize> {
    let mut adjacent: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
    for (i, &(u, v, _)) in edges.iter().enumerate() {
        adjacent[u].push((v, i));
        adjacent[v].push((u, i));
    }
    let (mut order, mut low) = (vec![usize::MAX; n], vec![0; n]);
    let mut found = BTreeSet::new();
    let mut counter = 0;
    for root in 0..n {
        if order[root] != usize::MAX {
            continue;
        }
        // Iterative depth-first search: (node, the edge it was reached by, next neighbour).
        let mut stack: Vec<(usize, Option<usize>, usize)> = vec![(root, None, 0)];
        order[root] = counter;
        low[root] = counter;
        counter += 1;
        while let Some(&mut (u, via, ref mut next)) = stack.last_mut() {
            if *next < adjacent[u].len() {
                let (v, e) = adjacent[u][*next];
                *next += 1;
                if Some(e) == via {
                    continue;
                }
                if order[v] == usize::MAX {
                    order[v] = counter;
                    low[v] = counter;
                    counter += 1;
                    stack.push((v, Some(e), 0));
                } else {
                    low[u] = low[u].min(order[v]);
                }
            } else {
                stack.pop();
                if let (Some(e), Some(&(parent, ..))) = (via, stack.last()) {
                    low[parent] = low[parent].min(low[u]);
                    if low[u] > order[parent] {
                        found.insert(e);
                    }
                }
            }
        }
    }
    found
}

#[cfg(test)]
pub(super) fn bridges_for_tests(n: usize, edges: &[(usize, usize)]) -> BTreeSet<usize> {
    let edges: Vec<_> = edges.iter().map(|&(u, v)| (u, v, true)).collect();
    bridges(n, &edges)
}
