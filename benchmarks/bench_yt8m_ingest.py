#!/usr/bin/env python
"""Records/s of the YouTube-8M TFRecord converter against the tf.data read-and-parse floor.

Writes synthetic shards of the official schema (``toeplitznet.yt8m.tfrecords.write_synthetic_shard``),
then, ``--repeats`` times and alternating the two so that both see the same machine state, times in
separate TensorFlow subprocesses (TF never shares a process with torch). Each subprocess first runs its
side once, untimed, on the first shard (TF start-up, tracing and the first iterator are one-time costs
that a real conversion amortises over ~1000-record shards), then times its own work on all shards:

* ``convert``: ``convert_shards`` of all shards (one pipeline; parse, check every record, write the raw
  shards hashing them as they are written and, unless ``--no-fsync``, fsync), as the ingest job runs
  it in the DAG: the sources' sha256 is already in the hash cache, put there by the download's
  verification (``io.remember_sha256``; here by hashing the synthetic shards once, untimed);
* ``convert, source hashed``: the same with an empty hash cache, so the converter also reads every
  source once more to hash it (a shard that did not come through the download);
* ``floor``: ``read_floor`` of the same shards (tf.data merely reading and parsing them).

Prints the best and the median records/s of each side and the ratios (goal: convert >= 0.5 x floor). The
goal is judged on the best repeats: on an idle machine single runs of either side take ~0.1 s longer now and
then (tf.data's iterator start-up and teardown, which both sides pay), and the best repeat is the one without.

Usage::

    PYTHONPATH=src python benchmarks/bench_yt8m_ingest.py --level frame          # one shard of 1000 videos
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
from toeplitznet.io import sha256_file
for i in range(n_shards):
    write_synthetic_shard(f"{d}/train{i:04d}.tfrecord", level, n_videos, i, config=SyntheticConfig(n_classes=n_classes))
    sha256_file(f"{d}/train{i:04d}.tfrecord", cache=True)  # what the download's verification records
"""

CONVERT = """
import json, os, sys, time
from toeplitznet.yt8m.tfrecords import convert_shards
level, out, cold, paths = sys.argv[1], sys.argv[2], sys.argv[6] == "1", sys.argv[7:]
kw = dict(n_classes=int(sys.argv[3]), batch_size=int(sys.argv[4]), fsync=sys.argv[5] == "1")
convert_shards(paths[:1], [f"{out}/warmup"], level, **kw)  # untimed
if cold:  # forget the digest the warm-up computed: the timed run hashes every source itself
    os.unlink(os.environ["TOEPLITZNET_HASH_CACHE"])
t0, c0 = time.perf_counter(), time.process_time()
ms = convert_shards(paths, [f"{out}/s{i:04d}" for i in range(len(paths))], level, **kw)
n = sum(m["n_records"] for m in ms)
print(json.dumps({"n_records": n, "seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0}))
"""

FLOOR = """
import json, sys, time
from toeplitznet.yt8m.tfrecords import read_floor
read_floor(sys.argv[3:4], sys.argv[1], int(sys.argv[2]))  # untimed warm-up
c0 = time.process_time()
n, s = read_floor(sys.argv[3:], sys.argv[1], int(sys.argv[2]))
print(json.dumps({"n_records": n, "seconds": s, "cpu_seconds": time.process_time() - c0}))
"""


def _tf(code: str, *args: str, hash_cache: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="",
               TOEPLITZNET_HASH_CACHE=str(hash_cache))
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    proc = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, env=env)
    if proc.returncode:
        raise SystemExit(f"TensorFlow subprocess failed:\n{proc.stderr[-4000:]}")
    lines = proc.stdout.strip().splitlines()
    return json.loads(lines[-1]) if lines else {}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--level", choices=["frame", "video"], default="frame")
    ap.add_argument("--shards", type=int, default=1,
                    help="shards converted in one call (the ingest job converts one)")
    ap.add_argument("--videos", type=int, default=1000,
                    help="videos per shard (a real train shard holds ~1000: 3,888,919 videos in 3844 shards)")
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
        known, cold = work / "hash-cache.json", work / "empty-hash-cache.json"
        _tf(SYNTH, args.level, src, args.shards, args.videos, args.n_classes, hash_cache=known)
        paths = sorted(str(p) for p in src.glob("*.tfrecord"))
        size = sum(os.path.getsize(p) for p in paths)
        print(f"{args.level} level: {args.shards} shards x {args.videos} videos, {size / 2**20:.1f} MiB of TFRecords, "
              f"batch {args.batch_size}, fsync {'off' if args.no_fsync else 'on'}, "
              f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.1f}")
        _tf(FLOOR, args.level, args.batch_size, *paths, hash_cache=known)  # warm the page cache
        sides = {"floor": None, "convert": known, "convert_source_hashed": cold}
        rates: dict[str, list[float]] = {k: [] for k in sides}
        cpu: dict[str, list[float]] = {k: [] for k in sides}  # CPU seconds (all threads) per 1000 records
        for r in range(args.repeats):
            for side, cache in sides.items():
                if side == "floor":
                    res = _tf(FLOOR, args.level, args.batch_size, *paths, hash_cache=known)
                else:
                    shutil.rmtree(out, ignore_errors=True)
                    out.mkdir()
                    cold.unlink(missing_ok=True)
                    res = _tf(CONVERT, args.level, out, args.n_classes, args.batch_size, int(not args.no_fsync),
                              int(cache == cold), *paths, hash_cache=cache)
                rates[side].append(res["n_records"] / res["seconds"])
                cpu[side].append(1000 * res["cpu_seconds"] / res["n_records"])
            print(f"repeat {r + 1}: " + "   ".join(f"{k} {v[-1]:8.1f}" for k, v in rates.items()) + " records/s",
                  flush=True)
        med = {k: statistics.median(v) for k, v in rates.items()}
        best = {k: max(v) for k, v in rates.items()}
        ratio = best["convert"] / best["floor"]
        cold_ratio = best["convert_source_hashed"] / best["floor"]
        print("best records/s:   " + ", ".join(f"{k} {v:.1f}" for k, v in best.items()))
        print("median records/s: " + ", ".join(f"{k} {v:.1f}" for k, v in med.items()))
        print(f"convert/floor = {ratio:.2f} best (goal >= 0.5), {med['convert'] / med['floor']:.2f} median; "
              f"with the source hashed again: {cold_ratio:.2f} best, "
              f"{med['convert_source_hashed'] / med['floor']:.2f} median")
        cpu_med = {k: statistics.median(v) for k, v in cpu.items()}
        print("median CPU seconds per 1000 records (all threads; on a busy machine the fairer comparison): "
              + ", ".join(f"{k} {v:.3f}" for k, v in cpu_med.items())
              + f"; floor/convert {cpu_med['floor'] / cpu_med['convert']:.2f}")
        result = {"level": args.level, "shards": args.shards, "videos_per_shard": args.videos,
                  "tfrecord_bytes": size, "batch_size": args.batch_size, "fsync": not args.no_fsync,
                  "records_per_s": rates, "median_records_per_s": med, "best_records_per_s": best,
                  "convert_over_floor": ratio, "convert_source_hashed_over_floor": cold_ratio,
                  "convert_over_floor_median": med["convert"] / med["floor"],
                  "convert_source_hashed_over_floor_median": med["convert_source_hashed"] / med["floor"],
                  "cpu_seconds_per_1000_records": cpu, "median_cpu_seconds_per_1000_records": cpu_med,
                  "cpus": os.cpu_count(), "load_average_1min": os.getloadavg()[0]}
        if args.json:
            Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
        return result
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
