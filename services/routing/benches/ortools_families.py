#!/usr/bin/env python3
"""OR-Tools' SimpleMinCostFlow on the DIMACS files the `families` bench writes,
and the table of ratios against the bench's own timings.

    cargo bench -p ercs-routing --bench families -- --sizes 1000,10000 --write /tmp/families > /tmp/ours.tsv
    python3 -m venv /tmp/ortools && /tmp/ortools/bin/pip install ortools
    /tmp/ortools/bin/python services/routing/benches/ortools_families.py /tmp/families --ours /tmp/ours.tsv

or, timing both back to back on each file (fairer on a shared machine):

    /tmp/ortools/bin/python services/routing/benches/ortools_families.py /tmp/families \
        --ours-bin "$(ls -t target/release/deps/families-* | grep -v '\\.d$' | head -1)"

Times are for `solve()` alone (best of three, one for 100k nodes), as the bench
times `dimacs::solve` alone; reading the file is left out of both. `CAP -1`
("no bound") is given to OR-Tools as the total supply, which no arc of these
families needs to exceed. Lower bounds are not supported (the bench writes none).
"""

import argparse
import csv
import io
import pathlib
import subprocess
import sys
import time

import numpy as np
from ortools.graph.python import min_cost_flow


def read_dimacs(path):
    supply, tails, heads, caps, costs = None, [], [], [], []
    with open(path) as f:
        for line in f:
            fields = line.split()
            if not fields or fields[0] == "c":
                continue
            if fields[0] == "p":
                supply = np.zeros(int(fields[2]), dtype=np.int64)
            elif fields[0] == "n":
                supply[int(fields[1]) - 1] = int(fields[2])
            elif fields[0] == "a":
                if int(fields[3]) != 0:
                    sys.exit(f"{path}: lower bounds are not supported here")
                tails.append(int(fields[1]) - 1)
                heads.append(int(fields[2]) - 1)
                caps.append(int(fields[4]))
                costs.append(int(fields[5]))
    caps = np.array(caps, dtype=np.int64)
    caps[caps < 0] = supply[supply > 0].sum()
    return supply, np.array(tails), np.array(heads), caps, np.array(costs, dtype=np.int64)


def solve(path):
    supply, tails, heads, caps, costs = read_dimacs(path)
    repeats = 1 if len(supply) >= 100_000 else 3
    best, answer = float("inf"), None
    for _ in range(repeats):
        smcf = min_cost_flow.SimpleMinCostFlow()
        smcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
        smcf.set_nodes_supplies(np.arange(len(supply)), supply)
        started = time.perf_counter()
        status = smcf.solve()
        best = min(best, (time.perf_counter() - started) * 1e3)
        if status == smcf.OPTIMAL:
            answer = ("optimal", str(smcf.optimal_cost()))
        elif status in (smcf.INFEASIBLE, smcf.UNBALANCED):
            answer = ("infeasible", "-")
        else:
            answer = (f"status {status}", "-")
    return answer, best


def run_ours(binary, path, timeout):
    """The bench binary's row for one file, keyed as in the TSV."""
    try:
        out = subprocess.run([binary, "--file", str(path)], capture_output=True, text=True,
                             timeout=timeout, check=True).stdout
    except subprocess.TimeoutExpired:
        family, nodes, variant = path.stem.rsplit("-", 2)
        return {(family, nodes, variant): {"arcs": "?", "verdict": "timeout", "cost": "-",
                                           "ms": str(timeout * 1e3)}}
    rows = list(csv.DictReader(io.StringIO(out), delimiter="\t"))
    return {(r["family"], r["nodes"], r["variant"]): r for r in rows}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=pathlib.Path)
    parser.add_argument("--ours", type=pathlib.Path, help="the families bench's TSV")
    parser.add_argument("--ours-bin", help="the families bench binary, run with --file on each file")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per file for --ours-bin")
    args = parser.parse_args()
    ours = {}
    if args.ours:
        with open(args.ours) as f:
            for row in csv.DictReader(f, delimiter="\t"):
                ours[(row["family"], row["nodes"], row["variant"])] = row
    print("| family | nodes | arcs | variant | ERCS ms | OR-Tools ms | ratio | same answer |")
    print("|---|---|---|---|---|---|---|---|")
    for path in sorted(args.dir.glob("*.min"), key=lambda p: (int(p.stem.split("-")[-2]), p.stem)):
        family, nodes, variant = path.stem.rsplit("-", 2)
        if args.ours_bin:
            ours.update(run_ours(args.ours_bin, path, args.timeout))
        (verdict, cost), ms = solve(path)
        mine = ours.get((family, nodes, variant))
        if mine is None:
            print(f"| {family} | {nodes} | | {variant} | | {ms:.2f} | | {verdict} {cost} |")
            continue
        ratio = float(mine["ms"]) / ms if ms > 0 else float("nan")
        same = "yes" if (mine["verdict"], mine["cost"]) == (verdict, cost) else f"NO: {verdict} {cost}"
        print(f"| {family} | {nodes} | {mine['arcs']} | {variant} | {float(mine['ms']):.2f} | {ms:.2f} | {ratio:.2f} | {same} |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
