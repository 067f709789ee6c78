//! A crash start: a feasible basis made of real arcs instead of big-M ones.
//!
//! The plain start hangs every node from the artificial root, and the first
//! thousand pivots or so only move demands off their big-M arcs. A surge network
//! has a better tree at hand: every demand hangs from the shortage node by its
//! shortage arc and every source by its surplus arc (nothing shipped, everything
//! short). It is feasible and strongly feasible, and its potentials already price
//! need at its priority, so the pivots that follow are all real improvements.

use super::{ArcState, FlowError, FlowProblem, NONE, NetworkSimplex, Number};

impl<P: Number> NetworkSimplex<P> {
    /// Starts every bounded negative-cost arc at its capacity, the artificial
    /// arcs carrying the supplies that leaves. An optimum saturates most such
    /// arcs, and reaching each one by pivots from an empty start is what made
    /// negative-cost instances slow. Only on a fresh basis; false (nothing
    /// changed) otherwise, or when the moved supplies would not fit the width.
    pub fn saturate_negative_arcs(&mut self) -> bool {
        if self.pivots != 0 || self.status.is_some() {
            return false;
        }
        let saturated: Vec<usize> = (0..self.arc_num)
            .filter(|&e| self.cost[e] < P::ZERO && self.cap[e] != P::INF && self.cap[e] > P::ZERO)
            .collect();
        let mut net: Vec<i128> = self.supply.iter().map(|b| b.to_i128()).collect();
        for &e in &saturated {
            net[self.source[e]] -= self.cap[e].to_i128();
            net[self.target[e]] += self.cap[e].to_i128();
        }
        let total: i128 = net.iter().map(|b| b.abs()).sum();
        let (Some(_), Ok(net)) = (
            P::from_total(total),
            net.iter()
                .map(|&b| P::from_total(b).ok_or(()))
                .collect::<Result<Vec<P>, ()>>(),
        ) else {
            return false;
        };
        for &e in &saturated {
            self.state[e] = ArcState::Upper;
            self.flow[e] = self.cap[e];
        }
        for (u, &b) in net.iter().enumerate() {
            let sends = b >= P::ZERO;
            self.set_artificial_direction(u, sends);
            self.flow[self.arc_num + u] = b.abs();
            self.pi[u] = if sends { P::ZERO } else { self.art_cost };
        }
        true
    }
}

impl NetworkSimplex {
    /// Starts with `hub` under the root and, under `hub`, every other end of the
    /// `spokes` (arc indices joining `hub` to distinct nodes). A spoke whose flow
    /// would break a bound or strong feasibility is left out; that node starts on
    /// its artificial arc as usual.
    pub fn with_star_basis(
        problem: &FlowProblem,
        hub: usize,
        spokes: &[usize],
    ) -> Result<Self, FlowError> {
        Self::with_tree_basis(problem, hub, spokes, &[])
    }

    /// [`Self::with_star_basis`], with more of the tree given: each
    /// `(child, arc)` of `below` hangs `child` from the arc's other end, a node
    /// the spokes or an earlier entry placed. Each arc then carries what its
    /// child's subtree sends or takes. A surge network's crash start hangs the
    /// demands a greedy pass can serve whole from their sources, and the rest
    /// from the shortage node. When some arc of `below` would break a bound or
    /// strong feasibility, `below` is left out and the start is the star.
    pub fn with_tree_basis(
        problem: &FlowProblem,
        hub: usize,
        spokes: &[usize],
        below: &[(usize, usize)],
    ) -> Result<Self, FlowError> {
        let mut s = NetworkSimplex::new(problem)?;
        if hub >= s.node_num {
            return Ok(s);
        }
        // The spokes' ends, but for the nodes `below` hangs deeper.
        let mut deep = vec![false; s.node_num];
        for &(child, _) in below {
            if let Some(d) = deep.get_mut(child) {
                *d = true;
            }
        }
        let star = |s: &Self, skip: &[bool]| {
            let mut placed = vec![false; s.node_num];
            placed[hub] = true;
            let mut tree = Vec::with_capacity(spokes.len() + below.len());
            for &e in spokes {
                if let Some((child, e)) = s.usable_spoke(hub, e)
                    && !placed[child]
                    && !skip[child]
                {
                    placed[child] = true;
                    tree.push((child, e));
                }
            }
            (tree, placed)
        };
        let (mut tree, mut placed) = star(&s, &deep);
        let deeper = below.iter().all(|&(child, e)| {
            let parent = s.other_end(e, child);
            let fits =
                !placed[child] && parent.is_some_and(|p| placed[p]) && s.state[e] != ArcState::Tree;
            if fits {
                placed[child] = true;
                tree.push((child, e));
            }
            fits
        });
        if !(deeper && s.hang_tree(hub, &tree)) {
            let (tree, _) = star(&s, &vec![false; s.node_num]);
            let hung = s.hang_tree(hub, &tree);
            debug_assert!(hung, "usable spokes always fit");
        }
        Ok(s)
    }

    /// The spoke's other end, if the arc can carry that node's supply in a
    /// strongly feasible tree.
    fn usable_spoke(&self, hub: usize, e: usize) -> Option<(usize, usize)> {
        if e >= self.arc_num || self.state[e] == ArcState::Tree {
            return None;
        }
        let (from, to) = (self.source[e], self.target[e]);
        let (child, up) = if to == hub && from != hub {
            (from, true)
        } else if from == hub && to != hub {
            (to, false)
        } else {
            return None;
        };
        (self.fits(e, up, self.supply[child]) && self.parent[child] == self.root)
            .then_some((child, e))
    }

    /// The end of real arc `e` that is not `child`, if `child` is one end.
    fn other_end(&self, e: usize, child: usize) -> Option<usize> {
        if e >= self.arc_num || self.source[e] == self.target[e] {
            return None;
        }
        if self.source[e] == child {
            Some(self.target[e])
        } else if self.target[e] == child {
            Some(self.source[e])
        } else {
            None
        }
    }

    /// Whether tree arc `e`, pointing `up` (child to parent) or down, can carry
    /// a subtree that sends `net` with flow left sendable towards the root.
    fn fits(&self, e: usize, up: bool, net: i64) -> bool {
        if up {
            net >= 0 && net < self.cap[e]
        } else {
            net < 0 && -net <= self.cap[e]
        }
    }

    /// Hangs `hub` from the root and the `tree` under it: `(child, arc)`, each
    /// child's parent (the arc's other end) being `hub` or an earlier child.
    /// False, with nothing changed, when some arc cannot carry its subtree.
    fn hang_tree(&mut self, hub: usize, tree: &[(usize, usize)]) -> bool {
        let parent_of = |s: &Self, (child, e): (usize, usize)| {
            if s.source[e] == child {
                s.target[e]
            } else {
                s.source[e]
            }
        };
        // What each subtree sends, leaves first.
        let mut net = self.supply.clone();
        for &(child, e) in tree.iter().rev() {
            let parent = parent_of(self, (child, e));
            if parent != hub {
                net[parent] += net[child];
            }
        }
        let fits = tree
            .iter()
            .all(|&(child, e)| self.fits(e, self.source[e] == child, net[child]));
        if !fits {
            return false;
        }
        let mut hub_net = self.supply[hub];
        for &(child, e) in tree {
            let parent = parent_of(self, (child, e));
            self.parent[child] = parent;
            self.state[self.pred[child]] = ArcState::Lower;
            self.flow[self.pred[child]] = 0;
            self.pred[child] = e;
            self.pred_up[child] = self.source[e] == child;
            self.state[e] = ArcState::Tree;
            self.flow[e] = net[child].abs();
            if parent == hub {
                hub_net += net[child];
            }
        }
        let hub_arc = self.arc_num + hub;
        self.parent[hub] = self.root;
        self.set_artificial_direction(hub, hub_net >= 0);
        self.flow[hub_arc] = hub_net.abs();
        self.pi[hub] = if hub_net >= 0 { 0 } else { self.art_cost };
        for &(child, e) in tree {
            let (c, parent) = (self.cost[e], self.parent[child]);
            self.pi[child] = if self.pred_up[child] {
                self.pi[parent] - c
            } else {
                self.pi[parent] + c
            };
        }
        self.thread_tree(hub, tree);
        true
    }

    /// Preorder: root, the hub's subtree depth first, then every other node.
    fn thread_tree(&mut self, hub: usize, tree: &[(usize, usize)]) {
        // Children as one list per node, last given first, so that a stack
        // takes them in the order given.
        let n = self.node_num;
        let mut first = vec![NONE; n];
        let mut next = vec![NONE; n];
        for &(child, _) in tree {
            let parent = self.parent[child];
            next[child] = first[parent];
            first[parent] = child;
        }
        let mut order = Vec::with_capacity(n + 1);
        order.push(self.root);
        let mut stack = vec![hub];
        while let Some(u) = stack.pop() {
            order.push(u);
            let mut c = first[u];
            while c != NONE {
                stack.push(c);
                c = next[c];
            }
        }
        order.extend((0..n).filter(|&u| u != hub && self.parent[u] == self.root));
        for (i, &u) in order.iter().enumerate() {
            let next = order[(i + 1) % order.len()];
            self.thread[u] = next;
            self.rev_thread[next] = u;
            if u != self.root {
                self.succ_num[u] = 1;
                self.last_succ[u] = u;
            }
        }
        // Sizes and last descendants, leaves first (a preorder reversed).
        for &u in order[1..].iter().rev() {
            let p = self.parent[u];
            if p != self.root {
                self.succ_num[p] += self.succ_num[u];
                if self.last_succ[p] == p {
                    self.last_succ[p] = self.last_succ[u];
                }
            }
        }
        self.last_succ[self.root] = *order.last().expect("the root is in the order");
    }
}
