#!/usr/bin/env python
"""Records/s of the YouTube-8M TFRecord converter against the tf.data read-and-parse floor.

Writes synthetic shards of the official schema (``toeplitznet.yt8m.tfrecords.write_synthetic_shard``),
then, ``--repeats`` times and alternating the two so that both see the same machine state, times in
separate TensorFlow subprocesses (TF never shares a process with torch). Each subprocess first runs its
side once, untimed, on the first shard (TF start-up, tracing and the first iterator are one-time costs
that a real conversion amortises over ~1000-record shards), then times its own work on all shards:

* ``convert``: ``convert_shards`` of all shards (one pipeline; parse, check every record, write the numpy
  shards with sha256s and, unless ``--no-fsync``, fsync);
* ``floor``: ``read_floor`` of the same shards (tf.data merely reading and parsing them).

Prints the median records/s of each and their ratio (goal: convert >= 0.5 x floor).

Usage::

    PYTHONPATH=src python benchmarks/bench_yt8m_ingest.py --level frame --shards 4 --videos 200
    PYTHONPATH=src python benchmarks/bench_yt8m_ingest.py --level video --videos 2000 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SYNTH = """
import sys
from toeplitznet.yt8m.synthetic import SyntheticConfig
from toeplitznet.yt8m.tfrecords import write_synthetic_shard
level, d, n_shards, n_videos, n_classes = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
for i in range(n_shards):
    write_synthetic_shard(f"{d}/train{i:04d}.tfrecord", level, n_videos, i, config=SyntheticConfig(n_classes=n_classes))
"""

CONVERT = """
import json, sys, time
from toeplitznet.yt8m.tfrecords import convert_shards
level, out, paths = sys.argv[1], sys.argv[2], sys.argv[6:]
kw = dict(n_classes=int(sys.argv[3]), batch_size=int(sys.argv[4]), fsync=sys.argv[5] == "1")
convert_shards(paths[:1], [f"{out}/warmup"], level, **kw)  # untimed
t0 = time.perf_counter()
ms = convert_shards(paths, [f"{out}/s{i:04d}" for i in range(len(paths))], level, **kw)
n = sum(m["n_records"] for m in ms)
print(json.dumps({"n_records": n, "seconds": time.perf_counter() - t0}))
"""

FLOOR = """
import json, sys
from toeplitznet.yt8m.tfrecords import read_floor
read_floor(sys.argv[3:4], sys.argv[1], int(sys.argv[2]))  # untimed warm-up
n, s = read_floor(sys.argv[3:], sys.argv[1], int(sys.argv[2]))
print(json.dumps({"n_records": n, "seconds": s}))
"""


def _tf(code: str, *args: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    proc = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, env=env)
    if proc.returncode:
        raise SystemExit(f"TensorFlow subprocess failed:\n{proc.stderr[-4000:]}")
    lines = proc.stdout.strip().splitlines()
    return json.loads(lines[-1]) if lines else {}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--level", choices=["frame", "video"], default="frame")
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--videos", type=int, default=200, help="videos per shard")
    ap.add_argument("--n-classes", type=int, default=100)
    ap.add_argument("--batch-size", type=int, default=64, help="records per tf.data parse batch (both sides)")
    ap.add_argument("--repeats", type=int, default=3, help="timed repeats of each side; the median is reported")
    ap.add_argument("--no-fsync", action="store_true", help="convert without fsync (the pipeline fsyncs)")
    ap.add_argument("--workdir", default=None, help="folder for the shards (default: a temporary one, removed)")
    ap.add_argument("--json", default=None, help="also write the results to this JSON file")
    args = ap.parse_args(argv)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench_yt8m_ingest."))
    try:
        src, out = work / "tfrecords", work / "converted"
        src.mkdir(parents=True, exist_ok=True)
        _tf(SYNTH, args.level, src, args.shards, args.videos, args.n_classes)
        paths = sorted(str(p) for p in src.glob("*.tfrecord"))
        size = sum(os.path.getsize(p) for p in paths)
        print(f"{args.level} level: {args.shards} shards x {args.videos} videos, {size / 2**20:.1f} MiB of TFRecords, "
              f"batch {args.batch_size}, fsync {'off' if args.no_fsync else 'on'}, "
              f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.1f}")
        _tf(FLOOR, args.level, args.batch_size, *paths)  # warm the page cache
        rates: dict[str, list[float]] = {"convert": [], "floor": []}
        for r in range(args.repeats):
            fl = _tf(FLOOR, args.level, args.batch_size, *paths)
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir()
            cv = _tf(CONVERT, args.level, out, args.n_classes, args.batch_size, int(not args.no_fsync), *paths)
            for k, v in (("floor", fl), ("convert", cv)):
                rates[k].append(v["n_records"] / v["seconds"])
            print(f"repeat {r + 1}: floor {rates['floor'][-1]:9.1f} records/s   convert {rates['convert'][-1]:9.1f} "
                  f"records/s", flush=True)
        med = {k: statistics.median(v) for k, v in rates.items()}
        ratio = med["convert"] / med["floor"]
        print(f"median: floor {med['floor']:.1f} records/s, convert {med['convert']:.1f} records/s, "
              f"convert/floor = {ratio:.2f} (goal >= 0.5)")
        result = {"level": args.level, "shards": args.shards, "videos_per_shard": args.videos,
                  "tfrecord_bytes": size, "batch_size": args.batch_size, "fsync": not args.no_fsync,
                  "records_per_s": rates, "median_records_per_s": med, "convert_over_floor": ratio,
                  "cpus": os.cpu_count(), "load_average_1min": os.getloadavg()[0]}
        if args.json:
            Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
        return result
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
