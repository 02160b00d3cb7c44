#!/usr/bin/env python
"""Forward+backward throughput of a diagonal-circulant layer vs a dense layer.

For each size n, times one training-style step (forward, sum of outputs as
the loss, backward through inputs and parameters) of
``DiagonalCirculant(n, n)`` and of ``nn.Linear(n, n)`` on the same batch,
interleaving the two layers so that both see the same machine state, and
prints the median throughput (samples/s) and the DC/dense ratio.

Usage::

    PYTHONPATH=src python benchmarks/bench_dc_layer.py --threads 2
    PYTHONPATH=src python benchmarks/bench_dc_layer.py --sizes 1024 2048 4096 8192 --batch 128 --json out.json

OpenMP wait policy.  On a small, shared CPU (2 cores, other jobs running)
GNU OpenMP's default busy-waiting worker threads make every multi-threaded
MKL FFT and GEMM call pay a scheduler time slice (~10-20 ms measured here for
a 128 x 1024 rfft that takes 0.15 ms otherwise).  The script therefore sets
``OMP_WAIT_POLICY=PASSIVE`` before importing torch unless the variable is
already set or ``--omp-wait-policy`` says otherwise (``active`` reproduces
the default behaviour).  The policy in force is printed and saved.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time


def _step(layer, x) -> None:
    layer.zero_grad(set_to_none=True)
    x.grad = None
    y = layer(x)
    y.sum().backward()


def _time(layer, x, inner: int) -> float:
    t0 = time.perf_counter()
    for _ in range(inner):
        _step(layer, x)
    return (time.perf_counter() - t0) / inner


def bench(n: int, batch: int, repeats: int, warmup: int, min_time: float) -> dict:
    import torch
    from torch import nn

    from toeplitznet.layers import DiagonalCirculant

    dtype = torch.float32
    torch.manual_seed(0)
    layers = {"dc": DiagonalCirculant(n, n).to(dtype), "dense": nn.Linear(n, n).to(dtype)}
    x = torch.randn(batch, n, dtype=dtype, requires_grad=True)
    for layer in layers.values():
        for _ in range(warmup):
            _step(layer, x)
    # pick an inner loop length so that one repeat lasts >= min_time
    inner = {}
    for name, layer in layers.items():
        t = _time(layer, x, 1)
        inner[name] = max(1, int(min_time / max(t, 1e-6)))
    times = {k: [] for k in layers}
    for _ in range(repeats):
        for name, layer in layers.items():
            times[name].append(_time(layer, x, inner[name]))
    med = {k: statistics.median(v) for k, v in times.items()}
    return {
        "n": n,
        "batch": batch,
        "dc_ms": 1e3 * med["dc"],
        "dense_ms": 1e3 * med["dense"],
        "dc_samples_per_s": batch / med["dc"],
        "dense_samples_per_s": batch / med["dense"],
        "speedup_dc_over_dense": med["dense"] / med["dc"],
        "dc_params": sum(p.numel() for p in layers["dc"].parameters()),
        "dense_params": sum(p.numel() for p in layers["dense"].parameters()),
    }


def main(argv=None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1024, 2048, 4096, 8192])
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's choice)")
    ap.add_argument("--repeats", type=int, default=7, help="timed repeats; the median is reported")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--min-time", type=float, default=0.2, help="seconds per timed repeat")
    ap.add_argument("--json", default=None, help="also write the results to this JSON file")
    ap.add_argument("--fft-threads", type=int, default=1,
                    help="toeplitznet.layers.set_fft_num_threads (0: use torch's global thread count)")
    ap.add_argument("--omp-wait-policy", choices=["passive", "active"], default=None,
                    help="OMP_WAIT_POLICY to set before importing torch (default: keep the environment's, else passive)")
    args = ap.parse_args(argv)
    if args.omp_wait_policy is not None:
        os.environ["OMP_WAIT_POLICY"] = args.omp_wait_policy.upper()
    else:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch  # after the OpenMP environment is fixed

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    from toeplitznet.layers import set_fft_num_threads

    set_fft_num_threads(args.fft_threads or None)
    policy = os.environ["OMP_WAIT_POLICY"]
    print(f"torch {torch.__version__}, threads={torch.get_num_threads()}, batch={args.batch}, "
          f"OMP_WAIT_POLICY={policy}, fft_threads={args.fft_threads or 'torch'}, "
          f"{platform.processor() or platform.machine()}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'n':>6} {'DC samples/s':>14} {'dense samples/s':>16} {'DC ms':>9} {'dense ms':>9} {'DC/dense':>9}")
    rows = []
    for n in args.sizes:
        r = bench(n, args.batch, args.repeats, args.warmup, args.min_time)
        rows.append(r)
        print(f"{n:>6} {r['dc_samples_per_s']:>14.0f} {r['dense_samples_per_s']:>16.0f} "
              f"{r['dc_ms']:>9.3f} {r['dense_ms']:>9.3f} {r['speedup_dc_over_dense']:>8.1f}x", flush=True)
    if args.json:
        meta = {"torch": torch.__version__, "threads": torch.get_num_threads(), "batch": args.batch,
                "machine": platform.machine(), "repeats": args.repeats, "omp_wait_policy": policy, "fft_threads": args.fft_threads or None,
                "load_average_1min": os.getloadavg()[0]}
        with open(args.json, "w") as fh:
            json.dump({"meta": meta, "results": rows}, fh, indent=2)
    return rows


if __name__ == "__main__":
    main()
