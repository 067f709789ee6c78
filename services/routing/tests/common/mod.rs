//! An independent exact solver, written plainly to check the network simplex:
//! successive shortest paths with Bellman-Ford on the residual graph.
#![allow(dead_code)]

use ercs_routing::flow::{FlowProblem, UNCAPACITATED};

struct Edge {
    to: usize,
    cap: i64,
    cost: i64,
}

/// The optimal cost, or `None` when no flow meets the supplies. Negative-cost
/// arcs must be capacitated (they are saturated first so no negative cycle is left).
pub fn min_cost(problem: &FlowProblem) -> Option<i128> {
    let n = problem.supply.len();
    let (s, t) = (n, n + 1);
    let mut edges: Vec<Edge> = Vec::new();
    let mut adj = vec![Vec::new(); n + 2];
    let add = |edges: &mut Vec<Edge>,
               adj: &mut Vec<Vec<usize>>,
               a: usize,
               b: usize,
               cap: i64,
               cost: i64| {
        adj[a].push(edges.len());
        edges.push(Edge { to: b, cap, cost });
        adj[b].push(edges.len());
        edges.push(Edge {
            to: a,
            cap: 0,
            cost: -cost,
        });
    };
    let mut excess: Vec<i64> = problem.supply.clone();
    let mut cost: i128 = 0;
    for a in &problem.arcs {
        if a.cost < 0 {
            assert!(
                a.capacity != UNCAPACITATED,
                "oracle needs negative arcs capacitated"
            );
            // Saturate: the reverse residual arc can undo it at a positive cost.
            cost += i128::from(a.cost) * i128::from(a.capacity);
            excess[a.from] -= a.capacity;
            excess[a.to] += a.capacity;
            add(&mut edges, &mut adj, a.to, a.from, a.capacity, -a.cost);
        } else {
            let cap = if a.capacity == UNCAPACITATED {
                i64::MAX / 4
            } else {
                a.capacity
            };
            add(&mut edges, &mut adj, a.from, a.to, cap, a.cost);
        }
    }
    if problem.supply.iter().sum::<i64>() != 0 {
        return None;
    }
    let mut need = 0;
    for (u, &e) in excess.iter().enumerate() {
        if e > 0 {
            add(&mut edges, &mut adj, s, u, e, 0);
            need += e;
        } else if e < 0 {
            add(&mut edges, &mut adj, u, t, -e, 0);
        }
    }
    while need > 0 {
        let (dist, via) = bellman_ford(&edges, &adj, s);
        if dist[t] == i64::MAX {
            return None;
        }
        let mut push = need;
        let mut v = t;
        while v != s {
            let e = via[v];
            push = push.min(edges[e].cap);
            v = edges[e ^ 1].to;
        }
        let mut v = t;
        while v != s {
            let e = via[v];
            edges[e].cap -= push;
            edges[e ^ 1].cap += push;
            v = edges[e ^ 1].to;
        }
        cost += i128::from(push) * i128::from(dist[t]);
        need -= push;
    }
    Some(cost)
}

fn bellman_ford(edges: &[Edge], adj: &[Vec<usize>], s: usize) -> (Vec<i64>, Vec<usize>) {
    let n = adj.len();
    let mut dist = vec![i64::MAX; n];
    let mut via = vec![usize::MAX; n];
    dist[s] = 0;
    for _ in 0..n {
        let mut changed = false;
        for u in 0..n {
            if dist[u] == i64::MAX {
                continue;
            }
            for &e in &adj[u] {
                let edge = &edges[e];
                if edge.cap > 0 && dist[u] + edge.cost < dist[edge.to] {
                    dist[edge.to] = dist[u] + edge.cost;
                    via[edge.to] = e;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    (dist, via)
}
