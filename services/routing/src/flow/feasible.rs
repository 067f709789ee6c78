//! Is there any flow at all? A maximum flow answers, and its minimum cut says why not.
//!
//! The simplex proves infeasibility only at the end of a big-M solve, after it
//! has optimised the real costs of whatever part of the network is feasible.
//! A maximum flow from the supplies to the demands (Dinic's algorithm) needs no
//! costs and is much cheaper, and when it falls short the nodes still reachable
//! from the supplies in the residual network are a set that must send more than
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

/// The residual network: arcs in pairs (`e`, `e ^ 1`), source `n`, sink `n + 1`.
struct Residual {
    head: Vec<usize>,
    next: Vec<usize>,
    to: Vec<usize>,
    cap: Vec<i128>,
    level: Vec<u32>,
    cursor: Vec<usize>,
    source: usize,
    sink: usize,
}

const END: usize = usize::MAX;
const UNSEEN: u32 = u32::MAX;

impl Residual {
    /// No arc can usefully carry more than the total supply (a maximum flow has
    /// no cycles), so "no bound" and huge bounds are clamped to it; a cut that
    /// falls short of the total never contains a clamped arc.
    fn new(supply: &[i64], links: &[Link], total: i128) -> Self {
        let n = supply.len();
        let mut net = Residual {
            head: vec![END; n + 2],
            next: Vec::with_capacity(2 * (links.len() + n)),
            to: Vec::with_capacity(2 * (links.len() + n)),
            cap: Vec::with_capacity(2 * (links.len() + n)),
            level: vec![UNSEEN; n + 2],
            cursor: vec![END; n + 2],
            source: n,
            sink: n + 1,
        };
        for l in links {
            let cap = l.capacity.map_or(total, |c| i128::from(c).min(total));
            net.add(l.from, l.to, cap);
        }
        for (u, &b) in supply.iter().enumerate() {
            match b.signum() {
                1 => net.add(net.source, u, i128::from(b)),
                -1 => net.add(u, net.sink, -i128::from(b)),
                _ => {}
            }
        }
        net
    }

    fn add(&mut self, from: usize, to: usize, cap: i128) {
        for (a, b, c) in [(from, to, cap), (to, from, 0)] {
            self.next.push(self.head[a]);
            self.head[a] = self.to.len();
            self.to.push(b);
            self.cap.push(c);
        }
    }

    fn max_flow(&mut self) -> i128 {
        let mut total = 0;
        while self.levels() {
            self.cursor.clone_from(&self.head);
            while let Some(pushed) = self.augment() {
                total += pushed;
            }
        }
        total
    }

    /// Breadth-first levels from the source; true when the sink is reached.
    fn levels(&mut self) -> bool {
        self.level.fill(UNSEEN);
        self.level[self.source] = 0;
        let mut queue = VecDeque::from([self.source]);
        while let Some(u) = queue.pop_front() {
            let mut e = self.head[u];
            while e != END {
                let v = self.to[e];
                if self.cap[e] > 0 && self.level[v] == UNSEEN {
                    self.level[v] = self.level[u] + 1;
                    queue.push_back(v);
                }
                e = self.next[e];
            }
        }
        self.level[self.sink] != UNSEEN
    }

    /// One augmenting path in the level graph, found without recursion (a long
    /// path of 100k nodes must not overflow the stack); `None` when blocked.
    fn augment(&mut self) -> Option<i128> {
        let mut path: Vec<usize> = Vec::new();
        let mut u = self.source;
        loop {
            if u == self.sink {
                return Some(self.push_along(&path));
            }
            match self.admissible(u) {
                Some(e) => {
                    path.push(e);
                    u = self.to[e];
                }
                None => {
                    // A dead end: nothing more goes through `u` in this phase.
                    self.level[u] = UNSEEN;
                    let e = path.pop()?;
                    u = self.to[e ^ 1];
                    self.cursor[u] = self.next[e];
                }
            }
        }
    }

    fn admissible(&mut self, u: usize) -> Option<usize> {
        while self.cursor[u] != END {
            let e = self.cursor[u];
            let v = self.to[e];
            if self.cap[e] > 0 && self.level[v] != UNSEEN && self.level[v] == self.level[u] + 1 {
                return Some(e);
            }
            self.cursor[u] = self.next[e];
        }
        None
    }

    fn push_along(&mut self, path: &[usize]) -> i128 {
        let pushed = path.iter().map(|&e| self.cap[e]).min().unwrap_or(0);
        for &e in path {
            self.cap[e] -= pushed;
            self.cap[e ^ 1] += pushed;
        }
        pushed
    }

    /// The nodes still reachable from the source, or the rest if that is smaller.
    fn cut(&mut self, supply: &[i64], links: &[Link]) -> Cut {
        self.levels();
        let inside: Vec<bool> = (0..supply.len()).map(|u| self.level[u] != UNSEEN).collect();
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
