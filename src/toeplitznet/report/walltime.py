"""Benchmark target: wall time of a whole DAG from scratch, plus the slowest rules.

    python -m toeplitznet.report.walltime --cores 2                                  (make smoke-benchmark)
    python -m toeplitznet.report.walltime --cores 2 --configfile config/medium.yaml  (make medium-benchmark)

Runs ``snakemake --forceall`` on the config after removing that scale's training checkpoints (so every model
is trained again; ``--keep-checkpoints`` skips that), prints the wall time and the per-job times read from
Snakemake's ``benchmark:`` files, and writes them to ``results/<scale>/dag_walltime.json``. The budgets on 2
CPU cores: 15 minutes for the smoke DAG, about two hours for the medium claims check.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
import time
from pathlib import Path

from ..config import load_config
from .provenance import atomic_write_json, git_state, device_description, utc_now

BUDGET_S = 15 * 60
#: wall-time budget of each timed scale on 2 CPU cores (the paper scale is not timed here)
BUDGETS = {"smoke": BUDGET_S, "medium": 2 * 3600}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cores", default="2")
    ap.add_argument("--configfile", default=None)
    ap.add_argument("--keep-checkpoints", action="store_true",
                    help="reuse finished smoke-scale training runs (the time is then not from scratch)")
    args = ap.parse_args(argv)
    cfg = load_config(args.configfile or "config/config.yaml", check_paths=False)
    scale = cfg["scale"]
    if scale not in BUDGETS:
        ap.error(f"{args.configfile}: scale is {scale!r}; this benchmark times the {' or '.join(BUDGETS)} DAG")
    budget = BUDGETS[scale]
    ckpt = Path(cfg["paths"]["checkpoints"]) / scale
    if ckpt.exists() and not args.keep_checkpoints:
        print(f"removing {ckpt} ({scale}-scale checkpoints) so every run trains from scratch")
        shutil.rmtree(ckpt)
    exe = shutil.which("snakemake") or str(Path(sys.executable).with_name("snakemake"))
    cmd = [exe, "--cores", str(args.cores), "--forceall", "--quiet", "rules"]
    if args.configfile:
        cmd += ["--configfile", args.configfile]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd)
    wall = time.perf_counter() - t0
    jobs = []
    for tsv in Path(f"logs/{scale}/benchmarks").rglob("*.tsv"):
        with open(tsv, newline="") as fh:
            rows = list(csv.DictReader(fh, delimiter="\t"))
        if rows:
            jobs.append((float(rows[-1]["s"]), str(tsv.relative_to(f"logs/{scale}/benchmarks"))))
    jobs.sort(reverse=True)
    print(f"{scale} DAG wall time: {wall:.1f} s on {args.cores} cores (budget {budget} s) "
          f"-> {'within' if wall <= budget else 'OVER'} budget")
    for s, name in jobs[:10]:
        print(f"  {s:8.1f} s  {name}")
    atomic_write_json(f"{cfg['paths']['results']}/{scale}/dag_walltime.json", {
        "scale": scale, "wall_s": wall, "cores": args.cores, "from_scratch": not args.keep_checkpoints,
        "budget_s": budget, "returncode": proc.returncode,
        "jobs": [{"job": n, "s": s} for s, n in jobs], "git": git_state(), "device": device_description(),
        "finished": utc_now()})
    return proc.returncode


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
