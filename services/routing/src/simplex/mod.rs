//! Primal network simplex for minimum-cost flow, after LEMON's `NetworkSimplex`.
//!
//! Why network simplex: the surge networks are small (a few thousand nodes per
//! commodity) and are solved again and again as the picture changes. The simplex
//! keeps a spanning-tree basis and node potentials, so a re-plan after one changed
//! demand or travel time starts from the last optimum and needs only a handful of
//! pivots (see [`warm`]). The final potentials are the dual solution, which gives
//! every plan a checkable certificate of optimality for free.
//!
//! Choices, all as in LEMON 1.3 unless said otherwise:
//!
//! - **Artificial root with big-M, one phase.** Node `n` is an artificial root
//!   joined to every node by an uncapacitated artificial arc: `u → root` at cost 0
//!   for nodes that send, `root → u` at cost `M` for nodes that receive. That
//!   starting tree is feasible, so there is no separate phase one. `M` is
//!   `(max |cost| + 1) · (n + 1)`, more than any simple path of real arcs, so an
//!   optimum that still uses an artificial arc proves the problem infeasible.
//!   LEMON uses `i64::MAX / 2` for integer costs; a bounded `M` leaves room to add
//!   potentials without overflow checks.
//! - **Strongly feasible trees.** The leaving arc is the last blocking arc met
//!   when the cycle is walked from the join node in the direction of flow. That
//!   keeps positive flow sendable from every node to the root, which rules out
//!   cycling on degenerate pivots.
//! - **Tree storage:** `parent`, `pred` (the tree arc to the parent), `pred_up`
//!   (whether that arc points to the parent), `thread` / `rev_thread` (preorder as
//!   a doubly linked list), `succ_num` (subtree size) and `last_succ` (last node of
//!   the subtree in preorder). Re-hanging a subtree touches only the stem between
//!   the entering and the leaving arc.
//! - **Block search pivot rule:** scan arcs cyclically in blocks of about `√m`
//!   and enter the most negative reduced cost of the first block that has one.
//!   A block is scanned as runs of contiguous slices, so the arc fields need no
//!   bounds checks, and the state multiplies the reduced cost by its sign, as in
//!   LEMON, instead of branching.
//!   Not LEMON: after [`NetworkSimplex::add_arcs`] the new arcs are searched
//!   alone until none prices out, then all arcs.
//!
//! Reduced costs are `cost + π(from) − π(to)`; an optimum has them `≥ 0` on arcs
//! below capacity and `≤ 0` on arcs with flow. Everything is integer and the scan
//! order is fixed, so the same problem always gives the same flows.

mod start;
mod tree;
pub mod warm;

mod number;

use crate::flow::{FlowError, FlowProblem, UNCAPACITATED};
pub use number::Number;

const INF: i64 = UNCAPACITATED;
const NONE: usize = usize::MAX;

/// The arc states of the bounded simplex. A superbasic arc is off the tree but
/// strictly inside its bounds; only a warm start creates one, and it is pivoted
/// away before the search resumes.
/// The discriminants are the sign a reduced cost is seen with (see
/// [`ArcState::signed`]), as in LEMON, so the search multiplies instead of
/// branching on the state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i8)]
enum ArcState {
    Lower = 1,
    Tree = 0,
    Upper = -1,
}

impl ArcState {
    /// How much the objective falls per unit pushed in the improving direction,
    /// negated: the reduced cost as seen from this state (0 on the tree).
    fn signed<P: Number>(self, reduced_cost: P) -> P {
        reduced_cost * P::from(self as i8 as i64)
    }
}

/// How a solve ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SolveStatus {
    Optimal,
    /// No flow meets every supply within the capacities.
    Infeasible,
    /// A negative-cost cycle has no capacity bound.
    Unbounded,
}

/// The solver and its basis. Keep it to re-solve after a change (see [`warm`]).
///
/// `P` is the width of flows, capacities, costs and potentials: `i64` for the
/// limits of [`FlowProblem::validate`] (fast, and what warm starts use), `i128`
/// for any `i64` cost and capacity (see [`NetworkSimplex::exact`]).
#[derive(Clone, Debug)]
pub struct NetworkSimplex<P: Number = i64> {
    node_num: usize,
    arc_num: usize,
    root: usize,
    art_cost: P,
    max_abs_cost: i64,
    supply: Vec<P>,
    // Arcs: real ones first, then one artificial arc per node (index arc_num + u).
    /// Arc ends, as `u32` (at most [`crate::flow::MAX_NODES`] nodes): the
    /// pivot search reads them for every arc it scans.
    source: Vec<u32>,
    target: Vec<u32>,
    cap: Vec<P>,
    cost: Vec<P>,
    flow: Vec<P>,
    state: Vec<ArcState>,
    // Nodes, the root included.
    pi: Vec<P>,
    parent: Vec<usize>,
    pred: Vec<usize>,
    pred_up: Vec<bool>,
    thread: Vec<usize>,
    rev_thread: Vec<usize>,
    succ_num: Vec<usize>,
    last_succ: Vec<usize>,
    dirty_revs: Vec<usize>,
    // Pivot scratch: the entering arc, the join node and the leaving edge.
    block_size: usize,
    next_arc: usize,
    /// Arcs added since the last solve (see [`warm`]): searched alone first.
    fresh_arcs: std::ops::Range<usize>,
    next_fresh: usize,
    in_arc: usize,
    join: usize,
    u_in: usize,
    v_in: usize,
    u_out: usize,
    delta: P,
    pivots: u64,
    status: Option<SolveStatus>,
}

impl NetworkSimplex {
    /// Builds the starting basis: every node hangs off the artificial root.
    /// A capacity of [`UNCAPACITATED`] is no bound.
    pub fn new(problem: &FlowProblem) -> Result<Self, FlowError> {
        problem.validate()?;
        Ok(Self::build(
            problem,
            problem.arcs.iter().map(|a| a.capacity),
        ))
    }
}

impl NetworkSimplex<i128> {
    /// The same solver in `i128`, for any `i64` cost, supply and capacity: big-M,
    /// potentials and flows around a cycle then stay far inside the width (at
    /// most 2^20 nodes × 2^84). `bounded(arc)` says whether the arc's capacity is
    /// a bound, so that a finite capacity of `i64::MAX` is never read as "none".
    pub fn exact(
        problem: &FlowProblem,
        bounded: impl Fn(usize) -> bool,
    ) -> Result<Self, FlowError> {
        problem.validate_with(u64::MAX, u64::MAX)?;
        let caps = problem.arcs.iter().enumerate().map(|(e, a)| {
            if bounded(e) {
                i128::from(a.capacity)
            } else {
                i128::INF
            }
        });
        Ok(Self::build(problem, caps))
    }
}

impl<P: Number> NetworkSimplex<P> {
    fn build(problem: &FlowProblem, caps: impl Iterator<Item = P>) -> Self {
        let n = problem.node_count();
        let m = problem.arcs.len();
        let all = m + n;
        let max_abs_cost = problem
            .arcs
            .iter()
            .map(|a| a.cost.unsigned_abs())
            .max()
            .unwrap_or(0);
        let mut s = NetworkSimplex {
            node_num: n,
            arc_num: m,
            root: n,
            art_cost: P::big_m(max_abs_cost, n),
            max_abs_cost: i64::try_from(max_abs_cost).unwrap_or(i64::MAX),
            supply: problem.supply.iter().map(|&b| P::from(b)).collect(),
            source: Vec::with_capacity(all),
            target: Vec::with_capacity(all),
            cap: Vec::with_capacity(all),
            cost: Vec::with_capacity(all),
            flow: vec![P::ZERO; all],
            state: vec![ArcState::Lower; all],
            pi: vec![P::ZERO; n + 1],
            parent: vec![NONE; n + 1],
            pred: vec![NONE; n + 1],
            pred_up: vec![true; n + 1],
            thread: vec![0; n + 1],
            rev_thread: vec![0; n + 1],
            succ_num: vec![1; n + 1],
            last_succ: vec![0; n + 1],
            dirty_revs: Vec::new(),
            block_size: block_size(m),
            next_arc: 0,
            fresh_arcs: 0..0,
            next_fresh: 0,
            in_arc: NONE,
            join: NONE,
            u_in: NONE,
            v_in: NONE,
            u_out: NONE,
            delta: P::ZERO,
            pivots: 0,
            status: None,
        };
        for a in &problem.arcs {
            s.source.push(a.from as u32);
            s.target.push(a.to as u32);
            s.cost.push(P::from(a.cost));
        }
        s.cap.extend(caps);
        s.init_tree();
        s
    }

    fn init_tree(&mut self) {
        let (n, root) = (self.node_num, self.root);
        for u in 0..n {
            let e = self.arc_num + u;
            self.parent[u] = root;
            self.pred[u] = e;
            self.thread[u] = u + 1;
            self.rev_thread[u + 1] = u;
            self.last_succ[u] = u;
            self.state[e] = ArcState::Tree;
            self.cap.push(P::INF);
            let sends = self.supply[u] >= P::ZERO;
            self.set_artificial_direction(u, sends);
            self.flow[e] = self.supply[u].abs();
            self.pi[u] = if sends { P::ZERO } else { self.art_cost };
        }
        self.thread[root] = 0;
        self.rev_thread[0] = root;
        self.succ_num[root] = n + 1;
        self.last_succ[root] = if n == 0 { root } else { n - 1 };
        if n == 0 {
            self.thread[root] = root;
            self.rev_thread[root] = root;
        }
    }

    /// Points the artificial arc of `u` up (`u → root`, cost 0) or down
    /// (`root → u`, cost M). Only the cost-0 direction may carry flow for free.
    fn set_artificial_direction(&mut self, u: usize, up: bool) {
        let e = self.arc_num + u;
        let (from, to, cost) = if up {
            (u, self.root, P::ZERO)
        } else {
            (self.root, u, self.art_cost)
        };
        if e == self.source.len() {
            self.source.push(from as u32);
            self.target.push(to as u32);
            self.cost.push(cost);
        } else {
            self.source[e] = from as u32;
            self.target[e] = to as u32;
            self.cost[e] = cost;
        }
        if self.pred[u] == e {
            self.pred_up[u] = up;
        }
    }

    /// Pivots until no arc prices out. The status is remembered until a change.
    pub fn solve(&mut self) -> SolveStatus {
        if let Some(status) = self.status {
            return status;
        }
        let status = self.pivot_to_optimum();
        self.status = Some(status);
        status
    }

    fn pivot_to_optimum(&mut self) -> SolveStatus {
        if self.supply.iter().fold(P::ZERO, |sum, &b| sum + b) != P::ZERO {
            return SolveStatus::Infeasible;
        }
        while self.find_entering_arc() {
            if self.pivot() == SolveStatus::Unbounded {
                return SolveStatus::Unbounded;
            }
        }
        let artificial = self.arc_num..self.arc_num + self.node_num;
        if self.flow[artificial].iter().any(|&f| f != P::ZERO) {
            return SolveStatus::Infeasible;
        }
        SolveStatus::Optimal
    }

    /// One pivot on `in_arc`, whose state says which way its flow moves.
    fn pivot(&mut self) -> SolveStatus {
        self.pivots += 1;
        self.find_join_node();
        let limit = self.cap[self.in_arc];
        let change = self.find_leaving_arc(limit);
        if self.delta == P::INF {
            return SolveStatus::Unbounded;
        }
        self.change_flow(change);
        if change {
            self.update_tree_structure();
            self.update_potential();
        }
        SolveStatus::Optimal
    }

    #[cfg(test)]
    fn reduced_cost(&self, e: usize) -> P {
        self.cost[e] + self.pi[self.src(e)] - self.pi[self.dst(e)]
    }

    /// Block search: the best violation in the first block that has one.
    /// Arcs just added are searched alone first, while one of them prices out:
    /// they are what the last optimum lacked, and the rest mostly still price
    /// at zero or more, so a search of all would scan far for each pivot.
    fn find_entering_arc(&mut self) -> bool {
        if !self.fresh_arcs.is_empty() {
            let found;
            (found, self.next_fresh) = self.block_search(self.fresh_arcs.clone(), self.next_fresh);
            if found {
                return true;
            }
            self.fresh_arcs = 0..0;
        }
        let found;
        (found, self.next_arc) = self.block_search(0..self.arc_num, self.next_arc);
        found
    }

    /// Scans `arcs` cyclically from `start` in blocks and sets `in_arc` to the
    /// best violation of the first block that has one: whether there was one,
    /// and where the next search starts.
    fn block_search(&mut self, arcs: std::ops::Range<usize>, start: usize) -> (bool, usize) {
        let (mut min, mut best) = (P::ZERO, NONE);
        let (mut e, mut left) = (start, arcs.len());
        while left > 0 {
            // One block, in at most two runs when it wraps past the end.
            let mut block = self.block_size.min(left);
            left -= block;
            while block > 0 {
                let end = (e + block).min(arcs.end);
                let run = self.best_in_run(e..end);
                if run.0 < min {
                    (min, best) = run;
                }
                block -= end - e;
                e = if end == arcs.end { arcs.start } else { end };
            }
            if min < P::ZERO {
                break;
            }
        }
        if best != NONE {
            self.in_arc = best;
        }
        (min < P::ZERO, e)
    }

    /// The most negative signed reduced cost over contiguous `arcs`, the first
    /// arc to have it, or `(0, NONE)`: a loop over slices, so that the arc
    /// fields need no bounds checks.
    fn best_in_run(&self, arcs: std::ops::Range<usize>) -> (P, usize) {
        let (mut min, mut best) = (P::ZERO, NONE);
        let pi = &self.pi;
        let fields = (self.state[arcs.clone()].iter())
            .zip(&self.cost[arcs.clone()])
            .zip(
                self.source[arcs.clone()]
                    .iter()
                    .zip(&self.target[arcs.clone()]),
            );
        for (i, ((state, &cost), (&from, &to))) in fields.enumerate() {
            let c = state.signed(cost + pi[from as usize] - pi[to as usize]);
            if c < min {
                (min, best) = (c, arcs.start + i);
            }
        }
        (min, best)
    }

    fn find_join_node(&mut self) {
        let (mut u, mut v) = (self.src(self.in_arc), self.dst(self.in_arc));
        while u != v {
            if self.succ_num[u] < self.succ_num[v] {
                u = self.parent[u];
            } else {
                v = self.parent[v];
            }
        }
        self.join = u;
    }

    /// Room on the tree arc above `u` for flow moving up (towards the root) or down.
    fn room(&self, u: usize, moving_up: bool) -> P {
        let e = self.pred[u];
        if self.pred_up[u] == moving_up {
            if self.cap[e] == P::INF {
                P::INF
            } else {
                self.cap[e] - self.flow[e]
            }
        } else {
            self.flow[e]
        }
    }

    /// Sets `delta` and the leaving edge; false when the entering arc itself
    /// reaches its other bound first. `limit` is how far the entering arc can move.
    fn find_leaving_arc(&mut self, limit: P) -> bool {
        let (first, second) = if self.state[self.in_arc] == ArcState::Upper {
            (self.dst(self.in_arc), self.src(self.in_arc))
        } else {
            (self.src(self.in_arc), self.dst(self.in_arc))
        };
        self.delta = limit;
        let mut result = 0;
        // Flow enters `first`'s side from the join downwards...
        let mut u = first;
        while u != self.join {
            let d = self.room(u, false);
            if d < self.delta {
                self.delta = d;
                self.u_out = u;
                result = 1;
            }
            u = self.parent[u];
        }
        // ...and climbs from `second` to the join; ties go to the later arc.
        let mut u = second;
        while u != self.join {
            let d = self.room(u, true);
            if d <= self.delta {
                self.delta = d;
                self.u_out = u;
                result = 2;
            }
            u = self.parent[u];
        }
        (self.u_in, self.v_in) = if result == 1 {
            (first, second)
        } else {
            (second, first)
        };
        result != 0
    }

    fn change_flow(&mut self, change: bool) {
        let e_in = self.in_arc;
        if self.delta > P::ZERO {
            let val = if self.state[e_in] == ArcState::Upper {
                -self.delta
            } else {
                self.delta
            };
            self.flow[e_in] += val;
            let mut u = self.src(e_in);
            while u != self.join {
                let e = self.pred[u];
                self.flow[e] += if self.pred_up[u] { -val } else { val };
                u = self.parent[u];
            }
            let mut u = self.dst(e_in);
            while u != self.join {
                let e = self.pred[u];
                self.flow[e] += if self.pred_up[u] { val } else { -val };
                u = self.parent[u];
            }
        }
        if change {
            self.state[e_in] = ArcState::Tree;
            let out = self.pred[self.u_out];
            self.state[out] = if self.flow[out] == P::ZERO {
                ArcState::Lower
            } else {
                ArcState::Upper
            };
        } else {
            self.state[e_in] = match self.state[e_in] {
                ArcState::Lower => ArcState::Upper,
                _ => ArcState::Lower,
            };
        }
    }

    /// Shifts the potentials of the re-hung subtree so the entering arc prices at 0.
    fn update_potential(&mut self) {
        let c = self.cost[self.in_arc];
        let sigma =
            self.pi[self.v_in] - self.pi[self.u_in] - if self.pred_up[self.u_in] { c } else { -c };
        self.shift_subtree(self.u_in, sigma);
    }

    fn shift_subtree(&mut self, top: usize, sigma: P) {
        if sigma == P::ZERO {
            return;
        }
        let end = self.thread[self.last_succ[top]];
        let mut u = top;
        loop {
            self.pi[u] += sigma;
            u = self.thread[u];
            if u == end {
                break;
            }
        }
    }

    fn src(&self, e: usize) -> usize {
        self.source[e] as usize
    }

    fn dst(&self, e: usize) -> usize {
        self.target[e] as usize
    }

    /// The flow on each real arc, in problem order.
    pub fn flows(&self) -> &[P] {
        &self.flow[..self.arc_num]
    }

    /// Pivots done since the solver was built, warm starts included.
    pub fn pivots(&self) -> u64 {
        self.pivots
    }

    pub fn node_count(&self) -> usize {
        self.node_num
    }

    pub fn arc_count(&self) -> usize {
        self.arc_num
    }

    pub fn supply(&self) -> &[P] {
        &self.supply[..self.node_num]
    }

    pub fn cost(&self, arc: usize) -> P {
        self.cost[arc]
    }
}

impl NetworkSimplex {
    /// The node potentials (dual values), shifted so the artificial root is 0.
    pub fn potentials(&self) -> Vec<i64> {
        let base = self.pi[self.root];
        self.pi[..self.node_num].iter().map(|p| p - base).collect()
    }

    /// Σ cost × flow over the real arcs.
    pub fn total_cost(&self) -> i128 {
        (0..self.arc_num)
            .map(|e| i128::from(self.cost[e]) * i128::from(self.flow[e]))
            .sum()
    }
}

fn block_size(arcs: usize) -> usize {
    ((arcs as f64).sqrt().ceil() as usize).max(10)
}

/// Solves `problem` from scratch: the status, and the flows when optimal.
pub fn solve(problem: &FlowProblem) -> Result<(SolveStatus, NetworkSimplex), FlowError> {
    let mut solver = NetworkSimplex::new(problem)?;
    let status = solver.solve();
    Ok((status, solver))
}

#[cfg(test)]
mod tests;
