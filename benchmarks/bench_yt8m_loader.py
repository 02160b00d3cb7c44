#!/usr/bin/env python
"""Examples/s of the torch loader over converted YouTube-8M shards against tf.data on the TFRecords.

Writes synthetic shards of the official schema and converts them (one TensorFlow subprocess), then,
``--repeats`` times and alternating the two:

* ``torch``: ``toeplitznet.yt8m.loader.make_loader`` over the converted (memory-mapped) shards, in this
  process (torch only);
* ``tf.data``: ``toeplitznet.yt8m.tfrecords.tf_batches`` reading and parsing the original TFRecords into
  batches of the same layout (``((uint8 [B, 300, 1152], n_frames), multi-hot)`` at frame level), in a
  TensorFlow subprocess that times its own iteration (start-up excluded).

Both sides read files already in the page cache (one warm-up pass each). Prints the median examples/s
and the ratio torch / tf.data (goal >= 5).

Usage::

    PYTHONPATH=src python benchmarks/bench_yt8m_loader.py --level frame --shards 2 --videos 200
    PYTHONPATH=src python benchmarks/bench_yt8m_loader.py --level video --videos 4000 --batch-size 1024
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
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PREPARE = """
import sys
from toeplitznet.yt8m.synthetic import SyntheticConfig
from toeplitznet.yt8m.tfrecords import convert_shard, write_synthetic_shard
level, d, n_shards, n_videos, n_classes = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
for i in range(n_shards):
    p = f"{d}/train{i:04d}.tfrecord"
    write_synthetic_shard(p, level, n_videos, i, config=SyntheticConfig(n_classes=n_classes))
    convert_shard(p, f"{d}/train{i:04d}", level, n_classes=n_classes)
"""

TF_ITER = """
import json, sys, time
from toeplitznet.yt8m.tfrecords import tf_batches
level, n_classes, batch, passes, paths = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5:]
ds = tf_batches(paths, level, n_classes, batch)
out = []
for _ in range(passes):
    t0 = time.perf_counter(); n = 0
    for x, y in ds:
        n += int(y.shape[0])
    out.append({"examples": n, "seconds": time.perf_counter() - t0})
print(json.dumps(out))
"""


def _tf(code: str, *args) -> object:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    proc = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, env=env)
    if proc.returncode:
        raise SystemExit(f"TensorFlow subprocess failed:\n{proc.stderr[-4000:]}")
    lines = proc.stdout.strip().splitlines()
    return json.loads(lines[-1]) if lines else None


def _torch_pass(loader) -> dict:
    t0 = time.perf_counter()
    n = 0
    for _x, y in loader:
        n += int(y.shape[0])
    return {"examples": n, "seconds": time.perf_counter() - t0}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--level", choices=["frame", "video"], default="frame")
    ap.add_argument("--shards", type=int, default=2)
    ap.add_argument("--videos", type=int, default=200, help="videos per shard")
    ap.add_argument("--n-classes", type=int, default=3862, help="width of the multi-hot labels (real: 3862)")
    ap.add_argument("--batch-size", type=int, default=80, help="examples per batch (Appendix B: 80 per GPU)")
    ap.add_argument("--shuffle", action="store_true", help="torch side: shuffled order (tf.data reads in order)")
    ap.add_argument("--num-workers", type=int, default=0, help="torch DataLoader workers")
    ap.add_argument("--repeats", type=int, default=3, help="timed passes of each side; the median is reported")
    ap.add_argument("--workdir", default=None, help="folder for the shards (default: a temporary one, removed)")
    ap.add_argument("--json", default=None, help="also write the results to this JSON file")
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch  # after the OpenMP environment is fixed

    from toeplitznet.yt8m.loader import make_loader

    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench_yt8m_loader."))
    try:
        work.mkdir(parents=True, exist_ok=True)
        _tf(PREPARE, args.level, work, args.shards, args.videos, args.n_classes)
        tfrecords = sorted(str(p) for p in work.glob("*.tfrecord"))
        prefixes = [p[: -len(".tfrecord")] for p in tfrecords]
        loader = make_loader(prefixes, args.level, args.n_classes, args.batch_size, shuffle=args.shuffle,
                             num_workers=args.num_workers)
        print(f"{args.level} level: {args.shards} shards x {args.videos} videos, batch {args.batch_size}, "
              f"{args.n_classes} classes, torch {torch.__version__} threads={torch.get_num_threads()} "
              f"workers={args.num_workers}, {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.1f}")
        _torch_pass(loader)  # warm-up (page cache)
        rates: dict[str, list[float]] = {"torch": [], "tf.data": []}
        for r in range(args.repeats):
            tf_pass = _tf(TF_ITER, args.level, args.n_classes, args.batch_size, 2, *tfrecords)[-1]  # 1st warms up
            th = _torch_pass(loader)
            rates["tf.data"].append(tf_pass["examples"] / tf_pass["seconds"])
            rates["torch"].append(th["examples"] / th["seconds"])
            print(f"repeat {r + 1}: tf.data {rates['tf.data'][-1]:10.1f} examples/s   torch {rates['torch'][-1]:10.1f} "
                  f"examples/s", flush=True)
        med = {k: statistics.median(v) for k, v in rates.items()}
        ratio = med["torch"] / med["tf.data"]
        print(f"median: tf.data {med['tf.data']:.1f} examples/s, torch loader {med['torch']:.1f} examples/s, "
              f"torch/tf.data = {ratio:.1f}x (goal >= 5x)")
        result = {"level": args.level, "shards": args.shards, "videos_per_shard": args.videos,
                  "batch_size": args.batch_size, "n_classes": args.n_classes, "num_workers": args.num_workers,
                  "examples_per_s": rates, "median_examples_per_s": med, "torch_over_tf": ratio,
                  "cpus": os.cpu_count(), "load_average_1min": os.getloadavg()[0]}
        if args.json:
            Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
        return result
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
