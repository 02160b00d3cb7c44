#!/usr/bin/env python
"""Compact (diagonal-circulant) vs dense layers of the YouTube-8M models at thesis sizes (Appendix B.2.3).

Two comparisons, each measured side by side in one run (the two layers of a pair interleaved, the median of
several repeats reported):

* DBoF projection 1024 -> 8192 on ``videos x frames`` frame rows (default 80 x 30): ``nn.Linear`` without bias vs
  :func:`~toeplitznet.models.yt8m_compact.compact_linear` (8 concatenated DC blocks, ``order="cd"``).
* FC projection 8192 -> 512 on ``videos`` rows: ``nn.Linear`` without bias vs one sliced DC of size 8192 with 1, 3
  and 6 factors (Table B.2).

One step = forward, ``sum`` of the outputs as the loss, backward through the parameters (the input is data, no
gradient).  Peak memory of one step: on CUDA ``torch.cuda.max_memory_allocated`` above the memory in use before
the step; on the CPU the peak resident set size (Linux ``VmHWM`` after resetting it through
``/proc/self/clear_refs``) above the RSS before the step, measured in a child process started with
``MALLOC_MMAP_THRESHOLD_=65536`` (glibc: every block of 64 KiB or more is mmapped and returned to the system when
freed, so the RSS follows the live tensors; timing stays in the parent with the default allocator).  A coarse
measure: page granularity, small allocations stay in the heap.

Usage::

    PYTHONPATH=src python benchmarks/bench_yt8m_layers.py --threads 2
    PYTHONPATH=src python benchmarks/bench_yt8m_layers.py --device cuda --frames 150 --json out.json

The script sets ``OMP_WAIT_POLICY=PASSIVE`` before importing torch unless the variable is already set (see
``bench_dc_layer.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time


def _rss_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_hwm() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _step(layer, x, sync) -> None:
    layer.zero_grad(set_to_none=True)
    layer(x).sum().backward()
    sync()


def _peak_mib(layer, x, device, sync) -> float | None:
    import torch

    layer.zero_grad(set_to_none=True)
    if device.type == "cuda":
        sync()
        base = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        _step(layer, x, sync)
        return (torch.cuda.max_memory_allocated(device) - base) / 2**20
    if not _reset_hwm():
        return None
    base = _rss_kib("VmRSS")
    _step(layer, x, sync)
    peak = _rss_kib("VmHWM")
    return None if base is None or peak is None else (peak - base) / 1024


def compare(name: str, layers: dict, x, repeats: int, warmup: int, min_time: float, device,
            mem: dict | None = None) -> list[dict]:
    """Time the layers side by side; ``mem`` (peak MiB per layer) is measured here unless given."""
    import torch

    sync = (lambda: torch.cuda.synchronize(device)) if device.type == "cuda" else (lambda: None)
    for layer in layers.values():
        for _ in range(warmup):
            _step(layer, x, sync)
    if mem is None:
        mem = {k: _peak_mib(layer, x, device, sync) for k, layer in layers.items()}
    if repeats == 0:
        return [{"comparison": name, "layer": k, "peak_mib": v} for k, v in mem.items()]
    inner = {}
    for k, layer in layers.items():
        t0 = time.perf_counter()
        _step(layer, x, sync)
        inner[k] = max(1, int(min_time / max(time.perf_counter() - t0, 1e-6)))
    times = {k: [] for k in layers}
    for _ in range(repeats):
        for k, layer in layers.items():
            t0 = time.perf_counter()
            for _ in range(inner[k]):
                _step(layer, x, sync)
            times[k].append((time.perf_counter() - t0) / inner[k])
    dense_ms = 1e3 * statistics.median(times["dense"])
    rows = []
    for k, layer in layers.items():
        ms = 1e3 * statistics.median(times[k])
        rows.append({
            "comparison": name, "layer": k, "rows": x.shape[0], "params": sum(p.numel() for p in layer.parameters()),
            "ms": ms, "time_vs_dense": ms / dense_ms, "peak_mib": mem[k],
            "peak_vs_dense": (mem[k] / mem["dense"]) if mem[k] is not None and mem["dense"] else None,
        })
    return rows


def _cpu_memory_subprocess(argv) -> dict:
    """Peak MiB per comparison and layer, measured in a child process with glibc's mmap threshold pinned to
    64 KiB: otherwise glibc keeps freed large blocks in its heap once its threshold has adapted, the RSS never
    drops between steps and the peak above the pre-step RSS reads ~0.  (Timing stays in this process, with the
    default allocator behaviour: the pinned threshold makes every large allocation a fresh mmap.)"""
    import subprocess

    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536")
    cmd = [sys.executable, os.path.abspath(__file__), *(sys.argv[1:] if argv is None else argv), "--memory-only"]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    for line in res.stdout.splitlines():
        if line.startswith("MEMORY_JSON "):
            return json.loads(line[len("MEMORY_JSON "):])
    raise RuntimeError(f"memory subprocess printed no result:\n{res.stdout}\n{res.stderr}")


def main(argv=None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--videos", type=int, default=80, help="videos per batch (the author's 80 per GPU)")
    ap.add_argument("--frames", type=int, default=30, help="frames per video seen by the DBoF projection")
    ap.add_argument("--factors", type=int, nargs="+", default=[1, 3, 6], help="DC factors of the compact FC")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's choice)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--min-time", type=float, default=0.3, help="seconds per timed repeat")
    ap.add_argument("--json", default=None, help="also write the results to this JSON file")
    ap.add_argument("--memory-only", action="store_true", help=argparse.SUPPRESS)  # the CPU memory subprocess
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch  # after the OpenMP environment is fixed
    from torch import nn

    from toeplitznet.models.yt8m_compact import compact_linear

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, device={device}, threads={torch.get_num_threads()}, "
          f"OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}, "
          f"{platform.processor() or platform.machine()}, "
          f"load average {os.getloadavg()[0]:.1f}")
    mem = {}
    if device.type == "cpu" and not args.memory_only:
        mem = _cpu_memory_subprocess(argv)
    pairs = []
    dbof = {"dense": nn.Linear(1024, 8192, bias=False), "compact": compact_linear(1024, 8192)}
    pairs.append(("dbof 1024->8192", dbof, torch.randn(args.videos * args.frames, 1024)))
    fc = {"dense": nn.Linear(8192, 512, bias=False)}
    fc.update({f"compact m={m}": compact_linear(8192, 512, n_factors=m) for m in args.factors})
    pairs.append(("fc 8192->512", fc, torch.randn(args.videos, 8192)))
    rows = []
    for name, layers, x in pairs:
        rows += compare(name, {k: v.to(device) for k, v in layers.items()}, x.to(device),
                        0 if args.memory_only else args.repeats, args.warmup, args.min_time, device,
                        mem.get(name))
    if args.memory_only:
        out = {}
        for r in rows:
            out.setdefault(r["comparison"], {})[r["layer"]] = r["peak_mib"]
        print("MEMORY_JSON " + json.dumps(out))
        return rows
    print(f"{'comparison':<16} {'layer':<12} {'rows':>6} {'params':>10} {'ms':>9} {'x dense':>8} "
          f"{'peak MiB':>9} {'x dense':>8}")
    for r in rows:
        mem = "n/a" if r["peak_mib"] is None else f"{r['peak_mib']:.1f}"
        rel = "n/a" if r["peak_vs_dense"] is None else f"{r['peak_vs_dense']:.2f}"
        print(f"{r['comparison']:<16} {r['layer']:<12} {r['rows']:>6} {r['params']:>10} {r['ms']:>9.2f} "
              f"{r['time_vs_dense']:>8.2f} {mem:>9} {rel:>8}")
    if args.json:
        meta = {"torch": torch.__version__, "device": str(device), "threads": torch.get_num_threads(),
                "videos": args.videos, "frames": args.frames, "machine": platform.machine(),
                "omp_wait_policy": os.environ["OMP_WAIT_POLICY"], "load_average_1min": os.getloadavg()[0]}
        with open(args.json, "w") as fh:
            json.dump({"meta": meta, "results": rows}, fh, indent=2)
    return rows


if __name__ == "__main__":
    main()
