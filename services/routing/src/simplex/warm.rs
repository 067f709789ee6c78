//! Warm starts: change the problem under a solved basis, then pivot on from there.
//!
//! A re-plan usually changes one demand or one travel time. Throwing the basis
//! away would repeat thousands of pivots to rediscover an optimum that is mostly
//! unchanged, so the solver keeps its spanning tree, flows and potentials and
//! repairs what the change broke:
//!
//! - **A cost change** leaves the flow feasible. If the arc is in the tree, the
//!   potentials of the subtree below it shift by the change so tree arcs still
//!   price at zero; then the ordinary pivot loop restores optimality.
//! - **A supply change** (`move_supply`: one node sends `amount` more, another
//!   receives it) breaks conservation. First try to carry the amount along the
//!   tree path between the two nodes; when every arc on it has room and the tree
//!   stays strongly feasible, the basis is untouched and still optimal. Otherwise
//!   route it through the artificial root on the two nodes' artificial arcs (turned
//!   around when they must carry flow the other way). An artificial arc that is not
//!   in the tree now carries flow strictly inside its bounds; one pivot that lowers
//!   its flow back towards zero restores a proper basis. The big-M cost then drives
//!   the artificial flow out as the pivot loop goes on, unless the new supplies
//!   cannot be met, which the solve reports as infeasible.
//!
//! - **New arcs** (`add_arcs`, for column generation) enter at zero flow outside
//!   the tree: flows, tree and potentials are untouched, and the pivot loop takes
//!   the new arcs that price out, searching them alone first.
//!
//! The only fallback to a cold start is a cost beyond the range the big-M was sized
//! for; the result is the same either way, only slower.

use super::{ArcState, INF, NONE, NetworkSimplex};
use crate::flow::{FlowArc, FlowError, FlowProblem, MAX_ABS_COST, MAX_ABS_SUPPLY};

/// Why a warm change was refused; the solver is left as it was.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WarmError {
    #[error("arc {0} does not exist")]
    NoSuchArc(usize),
    #[error("node {0} does not exist")]
    NoSuchNode(usize),
    #[error("the amount {0} is out of range")]
    AmountOutOfRange(i64),
    #[error(transparent)]
    Flow(#[from] FlowError),
}

impl NetworkSimplex {
    /// Sets the cost of a real arc; call [`solve`](NetworkSimplex::solve) after.
    pub fn set_cost(&mut self, arc: usize, cost: i64) -> Result<(), WarmError> {
        if arc >= self.arc_num {
            return Err(WarmError::NoSuchArc(arc));
        }
        if cost.unsigned_abs() > MAX_ABS_COST as u64 {
            return Err(FlowError::CostTooLarge { arc, cost }.into());
        }
        if cost.abs() > self.max_abs_cost {
            return self.restart_with(|p| p.arcs[arc].cost = cost);
        }
        let change = cost - self.cost[arc];
        self.cost[arc] = cost;
        if self.state[arc] == ArcState::Tree {
            let child =
                if self.parent[self.src(arc)] == self.dst(arc) && self.pred[self.src(arc)] == arc {
                    self.src(arc)
                } else {
                    self.dst(arc)
                };
            self.shift_subtree(child, if self.pred_up[child] { -change } else { change });
        }
        self.status = None;
        Ok(())
    }

    /// Makes `from` send `amount` less and `to` send `amount` more (a negative
    /// supply is a demand); call [`solve`](NetworkSimplex::solve) after.
    pub fn move_supply(&mut self, from: usize, to: usize, amount: i64) -> Result<(), WarmError> {
        for node in [from, to] {
            if node >= self.node_num {
                return Err(WarmError::NoSuchNode(node));
            }
        }
        let out_of_range = |s: i64| s.unsigned_abs() > MAX_ABS_SUPPLY as u64;
        if amount < 0
            || out_of_range(amount)
            || out_of_range(self.supply[from] - amount)
            || out_of_range(self.supply[to] + amount)
        {
            return Err(WarmError::AmountOutOfRange(amount));
        }
        if amount == 0 || from == to {
            return Ok(());
        }
        self.supply[from] -= amount;
        self.supply[to] += amount;
        if !self.push_along_tree(to, from, amount) {
            self.push_through_root(to, from, amount);
        }
        self.status = None;
        Ok(())
    }

    /// Sends `amount` from `a` to `b` along the tree path, if it fits and leaves
    /// the tree strongly feasible. Checks first, then changes.
    fn push_along_tree(&mut self, a: usize, b: usize, amount: i64) -> bool {
        let join = self.tree_join(a, b);
        let mut u = a;
        while u != join {
            // Flow climbs from `a`: it must leave room to send more upwards.
            let room = self.room(u, true);
            if room != INF && room <= amount {
                return false;
            }
            u = self.parent[u];
        }
        let mut u = b;
        while u != join {
            if self.room(u, false) < amount {
                return false;
            }
            u = self.parent[u];
        }
        self.add_path_flow(a, join, amount, true);
        self.add_path_flow(b, join, amount, false);
        true
    }

    fn add_path_flow(&mut self, mut u: usize, join: usize, amount: i64, upwards: bool) {
        while u != join {
            let e = self.pred[u];
            self.flow[e] += if self.pred_up[u] == upwards {
                amount
            } else {
                -amount
            };
            u = self.parent[u];
        }
    }

    fn tree_join(&self, mut u: usize, mut v: usize) -> usize {
        while u != v {
            if self.succ_num[u] < self.succ_num[v] {
                u = self.parent[u];
            } else {
                v = self.parent[v];
            }
        }
        u
    }

    fn push_through_root(&mut self, a: usize, b: usize, amount: i64) {
        self.add_artificial_flow(a, amount, true);
        self.add_artificial_flow(b, amount, false);
        for u in [a, b] {
            let e = self.arc_num + u;
            if self.state[e] != ArcState::Tree && self.flow[e] > 0 {
                self.pivot_superbasic(e);
            }
        }
    }

    /// Sends `amount` between `u` and the root on `u`'s artificial arc, turning
    /// the arc around when it would otherwise go negative or, in the tree, sit at
    /// zero pointing down (no flow could then climb from `u` to the root, which
    /// strong feasibility needs).
    fn add_artificial_flow(&mut self, u: usize, amount: i64, upwards: bool) {
        let e = self.arc_num + u;
        let up = self.src(e) == u;
        let net = if up == upwards {
            self.flow[e] + amount
        } else {
            self.flow[e] - amount
        };
        let in_tree = self.state[e] == ArcState::Tree;
        let turn = net < 0 || (net == 0 && in_tree && !up);
        self.flow[e] = net.abs();
        if turn {
            self.set_artificial_direction(u, !up);
            if in_tree {
                let target_pi = self.pi[self.root] + if up { self.art_cost } else { 0 };
                let sigma = target_pi - self.pi[u];
                self.shift_subtree(u, sigma);
            }
        }
    }

    /// Pivots an off-tree arc that carries flow inside its bounds: its flow moves
    /// down around its cycle until it or a tree arc reaches a bound.
    fn pivot_superbasic(&mut self, e: usize) {
        self.in_arc = e;
        self.state[e] = ArcState::Upper;
        self.pivots += 1;
        self.find_join_node();
        let change = self.find_leaving_arc(self.flow[e]);
        self.change_flow(change);
        if change {
            self.update_tree_structure();
            self.update_potential();
        }
    }

    /// Rebuilds from the current problem with one edit: for a change the big-M
    /// was not sized for.
    fn restart_with(&mut self, edit: impl FnOnce(&mut FlowProblem)) -> Result<(), WarmError> {
        let mut problem = self.problem();
        edit(&mut problem);
        *self = NetworkSimplex::new(&problem)?;
        Ok(())
    }

    /// The problem as the solver now holds it, warm changes included.
    pub fn problem(&self) -> FlowProblem {
        FlowProblem {
            supply: self.supply[..self.node_num].to_vec(),
            arcs: (0..self.arc_num)
                .map(|e| FlowArc {
                    from: self.src(e),
                    to: self.dst(e),
                    capacity: self.cap[e],
                    cost: self.cost[e],
                })
                .collect(),
        }
    }
}

impl NetworkSimplex {
    /// Adds arcs after the last real arc (they get indices `arc_count()..`), at zero
    /// flow and outside the tree, so the basis stays feasible and its potentials
    /// stay valid; call [`solve`](NetworkSimplex::solve) after. This is how column
    /// generation brings in the arcs that pricing found: the next solve pivots on
    /// from the last optimum instead of starting over.
    pub fn add_arcs(&mut self, arcs: &[FlowArc]) -> Result<(), WarmError> {
        let nodes = self.node_num;
        for (i, a) in arcs.iter().enumerate() {
            let arc = self.arc_num + i;
            if let Some(node) = [a.from, a.to].into_iter().find(|&n| n >= nodes) {
                return Err(FlowError::NodeOutOfRange { arc, node, nodes }.into());
            }
            if a.capacity < 0 {
                let capacity = a.capacity;
                return Err(FlowError::NegativeCapacity { arc, capacity }.into());
            }
            if a.cost.unsigned_abs() > MAX_ABS_COST as u64 {
                return Err(FlowError::CostTooLarge { arc, cost: a.cost }.into());
            }
        }
        if arcs.iter().any(|a| a.cost.abs() > self.max_abs_cost) {
            // The big-M no longer exceeds every path: start over, sized afresh.
            return self.restart_with(|p| p.arcs.extend_from_slice(arcs));
        }
        self.splice_arcs(arcs);
        Ok(())
    }

    /// Inserts the arcs between the real and the artificial ones and renumbers the
    /// artificial arcs (`arc_num + u`) that the tree refers to.
    fn splice_arcs(&mut self, arcs: &[FlowArc]) {
        let (m, k) = (self.arc_num, arcs.len());
        if k == 0 {
            return;
        }
        self.source.splice(m..m, arcs.iter().map(|a| a.from as u32));
        self.target.splice(m..m, arcs.iter().map(|a| a.to as u32));
        self.cap.splice(m..m, arcs.iter().map(|a| a.capacity));
        self.cost.splice(m..m, arcs.iter().map(|a| a.cost));
        self.flow.splice(m..m, std::iter::repeat_n(0, k));
        self.state
            .splice(m..m, std::iter::repeat_n(ArcState::Lower, k));
        for e in self.pred.iter_mut().chain([&mut self.in_arc]) {
            if *e != NONE && *e >= m {
                *e += k;
            }
        }
        // The search for an entering arc starts at the new arcs: they are the
        // ones known to price out.
        self.next_arc = m;
        // Arcs added before and not yet solved over stay fresh too.
        let first = if self.fresh_arcs.is_empty() {
            m
        } else {
            self.fresh_arcs.start
        };
        self.fresh_arcs = first..m + k;
        self.next_fresh = m;
        self.arc_num += k;
        self.block_size = super::block_size(self.arc_num);
        self.status = None;
    }
}
