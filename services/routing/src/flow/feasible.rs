//! Is there any flow at all? A maximum flow answers, and its minimum cut says why not.
//!
//! The simplex proves infeasibility only at the end of a big-M solve, after it
//! has optimised the real costs of whatever part of the network is feasible.
//! A maximum flow from the supplies to the demands (push-relabel) needs no costs
//! and is much cheaper, and when it falls short the nodes that can no longer
//! reach the demands in the residual network are a set that must send more than
//! the arcs leaving it can carry: a reason a dispatcher or a modeller can act on.

use std::collections::VecDeque;

/// Why no flow meets every supply within the capacities.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Infeasibility {
    /// The supplies and demands do not balance: Σ supply ≠ Σ demand.
    Unbalanced { supply: i128, demand: i128 },
    /// A set of nodes that cannot send (or receive) its net supply.
    Cut(Cut),
}

/// A set of nodes whose net supply exceeds what the arcs across its border carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cut {
    /// Node indices, ascending: the smaller side of the cut.
    pub nodes: Vec<usize>,
    /// True when `nodes` must send `need` out; false when they must receive it.
    pub sends: bool,
    /// The net supply (when sending) or net demand (when receiving) of `nodes`.
    pub need: i128,
    /// The total capacity of the arcs leaving (or entering) `nodes`.
    pub capacity: i128,
}

/// One arc for the check: `capacity` is `None` for no bound.
#[derive(Clone, Copy, Debug)]
pub struct Link {
    pub from: usize,
    pub to: usize,
    pub capacity: Option<i64>,
}

/// `Ok` when some flow meets every supply within the capacities.
pub fn check(supply: &[i64], links: &[Link]) -> Result<(), Infeasibility> {
    let sent: i128 = supply
        .iter()
        .filter(|&&b| b > 0)
        .map(|&b| i128::from(b))
        .sum();
    let wanted: i128 = supply
        .iter()
        .filter(|&&b| b < 0)
        .map(|&b| -i128::from(b))
        .sum();
    if sent != wanted {
        return Err(Infeasibility::Unbalanced {
            supply: sent,
            demand: wanted,
        });
    }
    let mut net = Residual::new(supply, links, sent);
    if net.max_flow() == sent {
        return Ok(());
    }
    Err(Infeasibility::Cut(net.cut(supply, links)))
}

/// The residual network in compressed rows (arcs of node `u` are
/// `first[u]..first[u + 1]`, `rev` pairs each arc with its reverse), with the
/// source `n` and the sink `n + 1`. Solved by push-relabel, highest label
/// first, with global relabelling: unlike Dinic it does not need one
/// breadth-first pass per path length, which made long paths slow.
struct Residual {
    first: Vec<usize>,
    to: Vec<usize>,
    rev: Vec<usize>,
    cap: Vec<i128>,
    label: Vec<usize>,
    excess: Vec<i128>,
    current: Vec<usize>,
    /// Active nodes by label; `highest` bounds the labels in use.
    active: Vec<Vec<usize>>,
    highest: usize,
    source: usize,
    sink: usize,
}

impl Residual {
    /// No arc can usefully carry more than the total supply (a maximum flow has
    /// no cycles), so "no bound" and huge bounds are clamped to it; a cut that
    /// falls short of the total never contains a clamped arc.
    fn new(supply: &[i64], links: &[Link], total: i128) -> Self {
        let n = supply.len();
        let (source, sink) = (n, n + 1);
        // A loop carries nothing from the supplies to the demands.
        let mut arcs: Vec<(usize, usize, i128)> = links
            .iter()
            .filter(|l| l.from != l.to)
            .map(|l| {
                (
                    l.from,
                    l.to,
                    l.capacity.map_or(total, |c| i128::from(c).min(total)),
                )
            })
            .collect();
        for (u, &b) in supply.iter().enumerate() {
            match b.signum() {
                1 => arcs.push((source, u, i128::from(b))),
                -1 => arcs.push((u, sink, -i128::from(b))),
                _ => {}
            }
        }
        let mut first = vec![0; n + 3];
        for &(from, to, _) in &arcs {
            first[from + 1] += 1;
            first[to + 1] += 1;
        }
        for u in 0..n + 2 {
            first[u + 1] += first[u];
        }
        let mut fill = first.clone();
        let size = 2 * arcs.len();
        let (mut to_, mut rev, mut cap) = (vec![0; size], vec![0; size], vec![0; size]);
        for &(from, to, c) in &arcs {
            let f = fill[from];
            fill[from] += 1;
            let r = fill[to];
            fill[to] += 1;
            (to_[f], rev[f], cap[f]) = (to, r, c);
            (to_[r], rev[r], cap[r]) = (from, f, 0);
        }
        Residual {
            current: first[..n + 2].to_vec(),
            first,
            to: to_,
            rev,
            cap,
            label: vec![0; n + 2],
            excess: vec![0; n + 2],
            active: vec![Vec::new(); n + 3],
            highest: 0,
            source,
            sink,
        }
    }

    fn nodes(&self) -> usize {
        self.label.len()
    }

    /// The value of a maximum flow: what reaches the sink once no node below
    /// label `nodes` has excess (the first phase of push-relabel is enough).
    fn max_flow(&mut self) -> i128 {
        let s = self.source;
        for e in self.first[s]..self.first[s + 1] {
            let c = self.cap[e];
            self.push(e, c);
        }
        self.global_relabel();
        let mut work = 0;
        while let Some(u) = self.next_active() {
            work += self.discharge(u);
            // Exact distances again once relabelling has cost about a pass.
            if work > 6 * self.nodes() + self.to.len() {
                self.global_relabel();
                work = 0;
            }
        }
        self.excess[self.sink]
    }

    fn push(&mut self, e: usize, amount: i128) {
        let (u, v) = (self.to[self.rev[e]], self.to[e]);
        self.cap[e] -= amount;
        self.cap[self.rev[e]] += amount;
        self.excess[u] -= amount;
        if self.excess[v] == 0 && v != self.sink && v != self.source && self.label[v] < self.nodes()
        {
            self.activate(v);
        }
        self.excess[v] += amount;
    }

    fn activate(&mut self, v: usize) {
        self.active[self.label[v]].push(v);
        self.highest = self.highest.max(self.label[v]);
    }

    fn next_active(&mut self) -> Option<usize> {
        loop {
            if let Some(u) = self.active[self.highest].pop() {
                // Entries go stale when a global relabel moves a node.
                if self.excess[u] > 0 && self.label[u] == self.highest {
                    return Some(u);
                }
            } else if self.highest == 0 {
                return None;
            } else {
                self.highest -= 1;
            }
        }
    }

    /// Pushes `u`'s excess down admissible arcs, relabelling when none is left;
    /// returns the arcs scanned, for the global relabel heuristic.
    fn discharge(&mut self, u: usize) -> usize {
        let mut scanned = 0;
        while self.excess[u] > 0 {
            if self.current[u] == self.first[u + 1] {
                scanned += self.relabel(u);
                if self.label[u] >= self.nodes() {
                    return scanned;
                }
                continue;
            }
            let e = self.current[u];
            let v = self.to[e];
            if self.cap[e] > 0 && self.label[u] == self.label[v] + 1 {
                let amount = self.excess[u].min(self.cap[e]);
                self.push(e, amount);
            } else {
                self.current[u] += 1;
            }
        }
        scanned
    }

    fn relabel(&mut self, u: usize) -> usize {
        let arcs = self.first[u]..self.first[u + 1];
        let scanned = arcs.len();
        let lowest = arcs
            .filter(|&e| self.cap[e] > 0)
            .map(|e| self.label[self.to[e]])
            .min();
        self.label[u] = lowest.map_or(self.nodes(), |l| (l + 1).min(self.nodes()));
        self.current[u] = self.first[u];
        scanned
    }

    /// Labels every node with its residual distance to the sink; nodes that
    /// cannot reach it (and the source) get `nodes`, which takes them out.
    fn global_relabel(&mut self) {
        let n = self.nodes();
        self.label.fill(n);
        self.label[self.sink] = 0;
        let mut queue = VecDeque::from([self.sink]);
        while let Some(v) = queue.pop_front() {
            for e in self.first[v]..self.first[v + 1] {
                let u = self.to[e];
                if self.cap[self.rev[e]] > 0 && self.label[u] == n && u != self.source {
                    self.label[u] = self.label[v] + 1;
                    queue.push_back(u);
                }
            }
        }
        self.active.iter_mut().for_each(Vec::clear);
        self.highest = 0;
        for u in 0..n {
            self.current[u] = self.first[u];
            if self.excess[u] > 0 && u != self.sink && u != self.source && self.label[u] < n {
                self.activate(u);
            }
        }
    }

    /// The nodes that cannot reach the sink any more (a minimum cut's source
    /// side), or the rest if that is smaller.
    fn cut(&mut self, supply: &[i64], links: &[Link]) -> Cut {
        self.global_relabel();
        let n = self.nodes();
        let inside: Vec<bool> = (0..supply.len()).map(|u| self.label[u] == n).collect();
        let count = inside.iter().filter(|&&x| x).count();
        let sends = 2 * count <= supply.len();
        let nodes: Vec<usize> = (0..supply.len()).filter(|&u| inside[u] == sends).collect();
        let net: i128 = (0..supply.len())
            .filter(|&u| inside[u])
            .map(|u| i128::from(supply[u]))
            .sum();
        let capacity = links
            .iter()
            .filter(|l| inside[l.from] && !inside[l.to])
            .map(|l| l.capacity.map_or(i128::MAX, i128::from))
            .fold(0i128, |sum, c| sum.saturating_add(c));
        Cut {
            nodes,
            sends,
            need: net,
            capacity,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(from: usize, to: usize, capacity: i64) -> Link {
        Link {
            from,
            to,
            capacity: Some(capacity),
        }
    }

    #[test]
    fn a_network_that_can_carry_every_supply_is_feasible() {
        let links = [link(0, 1, 3), link(1, 2, 3), link(0, 2, 2)];
        assert_eq!(check(&[5, 0, -5], &links), Ok(()));
    }

    #[test]
    fn unbalanced_supplies_are_named_with_both_totals() {
        assert_eq!(
            check(&[5, -4], &[link(0, 1, 9)]),
            Err(Infeasibility::Unbalanced {
                supply: 5,
                demand: 4
            })
        );
    }

    #[test]
    fn a_bottleneck_is_reported_as_the_cut_that_holds_the_supply() {
        // 0 and 1 must send 6 to 2, but only 4 crosses into 2.
        let links = [link(0, 1, 9), link(1, 2, 4), link(0, 2, 0)];
        let Err(Infeasibility::Cut(cut)) = check(&[3, 3, -6], &links) else {
            panic!("expected a cut");
        };
        assert_eq!((cut.need, cut.capacity), (6, 4));
        assert!(cut.need > cut.capacity);
        // The smaller side is named: node 2 cannot receive its 6.
        assert_eq!((cut.nodes, cut.sends), (vec![2], false));
    }

    #[test]
    fn a_loop_carries_nothing() {
        let links = [link(0, 0, 9), link(1, 1, 9), link(0, 1, 2)];
        let Err(Infeasibility::Cut(cut)) = check(&[3, -3], &links) else {
            panic!("expected a cut");
        };
        assert_eq!((cut.need, cut.capacity), (3, 2));
    }

    #[test]
    fn arcs_without_a_bound_carry_anything() {
        let links = [Link {
            from: 0,
            to: 1,
            capacity: None,
        }];
        assert_eq!(check(&[i64::MAX, -i64::MAX], &links), Ok(()));
    }

    #[test]
    fn a_long_path_is_checked_without_recursion() {
        let n = 200_000;
        let links: Vec<Link> = (0..n - 1).map(|u| link(u, u + 1, 1)).collect();
        let mut supply = vec![0; n];
        (supply[0], supply[n - 1]) = (2, -2);
        let Err(Infeasibility::Cut(cut)) = check(&supply, &links) else {
            panic!("expected a cut");
        };
        assert_eq!((cut.need, cut.capacity), (2, 1));
    }
}
