//! Re-hanging the spanning tree after a pivot (LEMON's `updateTreeStructure`).
//!
//! The leaving arc cuts the subtree under `u_out` away; the entering arc hangs it
//! back under `v_in`, from `u_in`. The nodes on the stem between `u_in` and
//! `u_out` reverse their parent links, and the preorder thread, subtree sizes and
//! last successors are patched along the stem and the two paths to the join node,
//! never over the whole tree.

use super::{NONE, NetworkSimplex, Number};

impl<P: Number> NetworkSimplex<P> {
    pub(super) fn update_tree_structure(&mut self) {
        let u_in = self.u_in;
        let u_out = self.u_out;
        let old_rev_thread = self.rev_thread[u_out];
        let old_succ_num = self.succ_num[u_out];
        let old_last_succ = self.last_succ[u_out];
        let v_out = self.parent[u_out];

        if u_in == u_out {
            self.hang_single(old_rev_thread, old_last_succ);
        } else {
            self.reverse_stem(old_rev_thread, old_succ_num);
        }
        self.fix_last_succ(old_rev_thread, old_last_succ, v_out);
        self.fix_succ_num(old_succ_num, v_out);
    }

    /// The entering and leaving arcs hang from the same node: move its subtree.
    fn hang_single(&mut self, old_rev_thread: usize, old_last_succ: usize) {
        let (u_in, v_in) = (self.u_in, self.v_in);
        self.parent[u_in] = v_in;
        self.pred[u_in] = self.in_arc;
        self.pred_up[u_in] = u_in == self.src(self.in_arc);
        if self.thread[v_in] != u_in {
            let after = self.thread[old_last_succ];
            self.link(old_rev_thread, after);
            let after = self.thread[v_in];
            self.link(v_in, u_in);
            self.link(old_last_succ, after);
        }
    }

    fn link(&mut self, before: usize, after: usize) {
        self.thread[before] = after;
        self.rev_thread[after] = before;
    }

    /// Reverses the stem from `u_in` up to `u_out` and splices each stem node's
    /// remaining subtree into the thread after the previous one.
    fn reverse_stem(&mut self, old_rev_thread: usize, old_succ_num: usize) {
        let (u_in, v_in, u_out) = (self.u_in, self.v_in, self.u_out);
        let old_last_succ = self.last_succ[u_out];
        let thread_continue = if old_rev_thread == v_in {
            self.thread[old_last_succ]
        } else {
            self.thread[v_in]
        };

        let mut stem = u_in;
        let mut par_stem = v_in;
        let mut last = self.last_succ[u_in];
        let mut after = self.thread[last];
        self.thread[v_in] = u_in;
        self.dirty_revs.clear();
        self.dirty_revs.push(v_in);
        while stem != u_out {
            let next_stem = self.parent[stem];
            self.thread[last] = next_stem;
            self.dirty_revs.push(last);
            let before = self.rev_thread[stem];
            self.link(before, after);
            self.parent[stem] = par_stem;
            par_stem = stem;
            stem = next_stem;
            last = if self.last_succ[stem] == self.last_succ[par_stem] {
                self.rev_thread[par_stem]
            } else {
                self.last_succ[stem]
            };
            after = self.thread[last];
        }
        self.parent[u_out] = par_stem;
        self.link(last, thread_continue);
        self.last_succ[u_out] = last;
        if old_rev_thread != v_in {
            self.link(old_rev_thread, after);
        }
        for i in 0..self.dirty_revs.len() {
            let u = self.dirty_revs[i];
            self.rev_thread[self.thread[u]] = u;
        }

        let mut tmp_sc = 0;
        let tmp_ls = self.last_succ[u_out];
        let mut u = u_out;
        while u != u_in {
            let p = self.parent[u];
            self.pred[u] = self.pred[p];
            self.pred_up[u] = !self.pred_up[p];
            tmp_sc += self.succ_num[u] - self.succ_num[p];
            self.succ_num[u] = tmp_sc;
            self.last_succ[p] = tmp_ls;
            u = p;
        }
        self.pred[u_in] = self.in_arc;
        self.pred_up[u_in] = u_in == self.src(self.in_arc);
        self.succ_num[u_in] = old_succ_num;
    }

    fn fix_last_succ(&mut self, old_rev_thread: usize, old_last_succ: usize, v_out: usize) {
        let (v_in, join, u_out) = (self.v_in, self.join, self.u_out);
        let up_limit_out = if self.last_succ[join] == v_in {
            join
        } else {
            NONE
        };
        let last_succ_out = self.last_succ[u_out];
        let mut u = v_in;
        while u != NONE && self.last_succ[u] == v_in {
            self.last_succ[u] = last_succ_out;
            u = self.parent[u];
        }
        let replacement = if join != old_rev_thread && v_in != old_rev_thread {
            Some(old_rev_thread)
        } else if last_succ_out != old_last_succ {
            Some(last_succ_out)
        } else {
            None
        };
        if let Some(replacement) = replacement {
            let mut u = v_out;
            while u != up_limit_out && u != NONE && self.last_succ[u] == old_last_succ {
                self.last_succ[u] = replacement;
                u = self.parent[u];
            }
        }
    }

    fn fix_succ_num(&mut self, old_succ_num: usize, v_out: usize) {
        let join = self.join;
        let mut u = self.v_in;
        while u != join {
            self.succ_num[u] += old_succ_num;
            u = self.parent[u];
        }
        let mut u = v_out;
        while u != join {
            self.succ_num[u] -= old_succ_num;
            u = self.parent[u];
        }
    }

    /// Recomputes the tree bookkeeping from `parent` and compares: a test aid.
    #[cfg(test)]
    pub(super) fn check_tree(&self) -> Result<(), String> {
        let n = self.node_num + 1;
        let mut count = 0;
        let mut u = self.root;
        let mut order = vec![NONE; n];
        loop {
            order[u] = count;
            count += 1;
            if self.rev_thread[self.thread[u]] != u {
                return Err(format!("rev_thread broken at {u}"));
            }
            u = self.thread[u];
            if u == self.root || count > n {
                break;
            }
        }
        if count != n {
            return Err(format!("thread visits {count} of {n} nodes"));
        }
        let mut size = vec![1usize; n];
        for v in 0..n {
            let mut p = self.parent[v];
            while p != NONE {
                size[p] += 1;
                p = self.parent[p];
            }
            if v != self.root {
                let e = self.pred[v];
                let (a, b) = (self.src(e), self.dst(e));
                let ok = if self.pred_up[v] {
                    a == v && b == self.parent[v]
                } else {
                    b == v && a == self.parent[v]
                };
                if !ok || self.state[e] != super::ArcState::Tree {
                    return Err(format!("pred of {v} is not its tree arc"));
                }
                if order[self.parent[v]] > order[v] {
                    return Err(format!("thread is not a preorder at {v}"));
                }
                if self.room(v, true) == P::ZERO {
                    return Err(format!("tree is not strongly feasible at {v}"));
                }
                if self.reduced_cost(e) != P::ZERO {
                    return Err(format!(
                        "tree arc {e} has reduced cost {}",
                        self.reduced_cost(e)
                    ));
                }
            }
        }
        for (v, &size) in size.iter().enumerate() {
            if size != self.succ_num[v] {
                return Err(format!(
                    "succ_num[{v}] = {} but subtree has {size}",
                    self.succ_num[v]
                ));
            }
            let last = (0..n)
                .filter(|&w| self.in_subtree(w, v))
                .max_by_key(|&w| order[w])
                .unwrap_or(v);
            if last != self.last_succ[v] {
                return Err(format!(
                    "last_succ[{v}] = {} but should be {last}",
                    self.last_succ[v]
                ));
            }
        }
        Ok(())
    }

    #[cfg(test)]
    fn in_subtree(&self, mut w: usize, top: usize) -> bool {
        loop {
            if w == top {
                return true;
            }
            if w == NONE {
                return false;
            }
            w = self.parent[w];
        }
    }
}
