//! A crash start: a feasible basis made of real arcs instead of big-M ones.
//!
//! The plain start hangs every node from the artificial root, and the first
//! thousand pivots or so only move demands off their big-M arcs. A surge network
//! has a better tree at hand: every demand hangs from the shortage node by its
//! shortage arc and every source by its surplus arc (nothing shipped, everything
//! short). It is feasible and strongly feasible, and its potentials already price
//! need at its priority, so the pivots that follow are all real improvements.

use super::{ArcState, FlowError, FlowProblem, NetworkSimplex, Number};

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
            net[self.src(e)] -= self.cap[e].to_i128();
            net[self.dst(e)] += self.cap[e].to_i128();
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
        let mut s = NetworkSimplex::new(problem)?;
        if hub < s.node_num {
            let children: Vec<(usize, usize)> = spokes
                .iter()
                .filter_map(|&e| s.usable_spoke(hub, e))
                .collect();
            s.hang_star(hub, &children);
        }
        Ok(s)
    }

    /// The spoke's other end, if the arc can carry that node's supply in a
    /// strongly feasible tree.
    fn usable_spoke(&self, hub: usize, e: usize) -> Option<(usize, usize)> {
        if e >= self.arc_num || self.state[e] == ArcState::Tree {
            return None;
        }
        let (from, to) = (self.src(e), self.dst(e));
        let (child, up) = if to == hub && from != hub {
            (from, true)
        } else if from == hub && to != hub {
            (to, false)
        } else {
            return None;
        };
        let supply = self.supply[child];
        let fits = if up {
            supply >= 0 && supply < self.cap[e]
        } else {
            supply < 0 && -supply <= self.cap[e]
        };
        (fits && self.parent[child] == self.root).then_some((child, e))
    }

    fn hang_star(&mut self, hub: usize, children: &[(usize, usize)]) {
        let mut hub_net = self.supply[hub];
        for &(child, e) in children {
            self.parent[child] = hub;
            self.state[self.pred[child]] = ArcState::Lower;
            self.flow[self.pred[child]] = 0;
            self.pred[child] = e;
            self.pred_up[child] = self.src(e) == child;
            self.state[e] = ArcState::Tree;
            self.flow[e] = self.supply[child].abs();
            hub_net += self.supply[child];
        }
        let hub_arc = self.arc_num + hub;
        self.set_artificial_direction(hub, hub_net >= 0);
        self.flow[hub_arc] = hub_net.abs();
        self.pi[hub] = if hub_net >= 0 { 0 } else { self.art_cost };
        for &(child, e) in children {
            let c = self.cost[e];
            self.pi[child] = if self.pred_up[child] {
                self.pi[hub] - c
            } else {
                self.pi[hub] + c
            };
        }
        self.thread_star(hub, children);
    }

    /// Preorder: root, hub, the hub's children, then every other node.
    fn thread_star(&mut self, hub: usize, children: &[(usize, usize)]) {
        let mut order = Vec::with_capacity(self.node_num + 1);
        order.push(self.root);
        order.push(hub);
        order.extend(children.iter().map(|&(c, _)| c));
        order.extend((0..self.node_num).filter(|&u| u != hub && self.parent[u] == self.root));
        for (i, &u) in order.iter().enumerate() {
            let next = order[(i + 1) % order.len()];
            self.thread[u] = next;
            self.rev_thread[next] = u;
            if u != self.root && u != hub {
                self.succ_num[u] = 1;
                self.last_succ[u] = u;
            }
        }
        self.succ_num[hub] = 1 + children.len();
        self.last_succ[hub] = children.last().map_or(hub, |&(c, _)| c);
        self.last_succ[self.root] = *order.last().expect("the root is in the order");
    }
}
