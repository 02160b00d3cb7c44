#!/usr/bin/env python
"""Benchmark LipBound vs the 10-iteration power method over all conv layers (thesis Table 5.2).

For each torchvision network (random initialisation, ``weights=None``) the bound of
every convolution layer is computed with the layer's real input size for an
``input-size x input-size`` image.  LipBound, the power method (and optionally
Gram iteration) are timed side by side in one run by
:func:`toeplitznet.bounds.timing.time_network_bounds` (warm-up, then interleaved
repeats; CUDA is synchronised around each timed call).

Example::

    PYTHONPATH=src python benchmarks/bench_lipbound.py --device cpu --threads 2 \\
        --networks alexnet resnet18 --repeats 5 --warmup 2

The thesis ratios (Table 5.2, Tesla V100) are printed beside the measured ones;
they were measured on a different device, so only the order of magnitude is
comparable.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

import torch

try:
    from toeplitznet.bounds.timing import time_network_bounds
except ImportError:  # allow running from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from toeplitznet.bounds.timing import time_network_bounds

from toeplitznet.bounds.timing import TABLE_5_2_NETWORKS as NETWORKS  # noqa: E402

# Fallback copy of the thesis's "Ratio" column (Table 5.2); the CSV is preferred.
_THESIS_RATIO_FALLBACK = {
    "AlexNet": 8.14, "ResNet 18": 4.96, "ResNet 34": 4.87, "ResNet 50": 7.69, "ResNet 101": 7.95,
    "ResNet 152": 8.64, "DenseNet 121": 7.46, "DenseNet 161": 7.33, "DenseNet 169": 7.29,
    "DenseNet 201": 6.86, "VGG 11": 5.95, "VGG 13": 6.82, "VGG 16": 6.03, "VGG 19": 5.58,
    "WideResNet 50-2": 4.13, "SqueezeNet 1-0": 12.05, "SqueezeNet 1-1": 11.48,
}


def thesis_table(csv_path: str | None) -> dict:
    """{row label: {"lipbound_ms", "pm_ms", "ratio"}} from thesis_values.csv (item=table_5_2)."""
    out = {k: {"ratio": v} for k, v in _THESIS_RATIO_FALLBACK.items()}
    if csv_path and os.path.exists(csv_path):
        with open(csv_path, newline="") as fh:
            for row in csv.DictReader(fh):
                if row.get("item") != "table_5_2":
                    continue
                col = {"LipBound (ms)": "lipbound_ms", "Power Method (ms)": "pm_ms", "Ratio": "ratio"}.get(row["column"])
                if col is None:
                    continue
                try:
                    out.setdefault(row["row"], {})[col] = float(row["value"])
                except ValueError:
                    pass
    return out


def build(name: str):
    import torchvision.models as tvm

    return getattr(tvm, name)(weights=None)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--networks", nargs="+", default=list(NETWORKS), choices=list(NETWORKS), metavar="NET")
    ap.add_argument("--input-size", type=int, default=224)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (CPU)")
    ap.add_argument("--n-samples", type=int, default=10, help="LipBound grid size S")
    ap.add_argument("--pm-iters", type=int, default=10)
    ap.add_argument("--gram", action="store_true", help="also time Gram iteration (expensive at 224 on CPU)")
    ap.add_argument("--gram-iters", type=int, default=6)
    ap.add_argument("--thesis-csv", default="/work/shared/thesis_values.csv")
    ap.add_argument("--json", default=None, help="write the raw results to this file")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device == "cuda" and not torch.cuda.is_available():
        ap.error("CUDA requested but not available")
    torch.manual_seed(args.seed)
    thesis = thesis_table(args.thesis_csv)
    methods = ["lipbound", "power_method"] + (["gram_iteration"] if args.gram else [])
    kwargs = {"lipbound": {"n_samples": args.n_samples}, "power_method": {"n_iter": args.pm_iters},
              "gram_iteration": {"n_iter": args.gram_iters}}
    device_name = torch.cuda.get_device_name() if args.device == "cuda" else f"CPU ({torch.get_num_threads()} threads)"
    print(f"# device: {device_name}; torch {torch.__version__}; input {args.input_size}; "
          f"repeats {args.repeats}, warmup {args.warmup}; LipBound S={args.n_samples}; PM {args.pm_iters} iters; "
          f"load average {os.getloadavg()[0]:.2f}")
    hdr = f"{'network':<16}{'layers':>7}{'LipBound ms':>20}{'PM ms':>22}{'ratio':>8}{'thesis':>8}"
    if args.gram:
        hdr += f"{'Gram ms':>22}"
    print(hdr)
    records = []
    for name in args.networks:
        label = NETWORKS[name]
        model = build(name)
        t0 = time.perf_counter()
        res = time_network_bounds(model, (1, 3, args.input_size, args.input_size), methods=methods,
                                  repeats=args.repeats, warmup=args.warmup, device=args.device,
                                  method_kwargs=kwargs)
        lb, pm = res["lipbound"], res["power_method"]
        ratio = pm["mean_ms"] / lb["mean_ms"]
        th = thesis.get(label, {}).get("ratio", float("nan"))
        line = (f"{label:<16}{res['n_layers']:>7}{lb['mean_ms']:>12.2f} ± {lb['std_ms']:<6.2f}"
                f"{pm['mean_ms']:>13.1f} ± {pm['std_ms']:<7.1f}{ratio:>8.1f}{th:>8.2f}")
        rec = {"network": name, "label": label, "n_layers": res["n_layers"], "device": device_name,
               "lipbound_mean_ms": lb["mean_ms"], "lipbound_std_ms": lb["std_ms"],
               "pm_mean_ms": pm["mean_ms"], "pm_std_ms": pm["std_ms"], "ratio": ratio, "thesis_ratio": th,
               "lipbound_times_ms": lb["times_ms"], "pm_times_ms": pm["times_ms"],
               "ratio_of_medians": pm["median_ms"] / lb["median_ms"]}
        if args.gram:
            gr = res["gram_iteration"]
            line += f"{gr['mean_ms']:>13.1f} ± {gr['std_ms']:<7.1f}"
            rec.update(gram_mean_ms=gr["mean_ms"], gram_std_ms=gr["std_ms"])
        print(line + f"   (ratio of medians {rec['ratio_of_medians']:.1f})", flush=True)
        rec["wall_s"] = time.perf_counter() - t0
        records.append(rec)
        del model
    ok = all(r["ratio"] >= r["thesis_ratio"] for r in records if r["thesis_ratio"] == r["thesis_ratio"])
    print(f"# speed-up >= thesis ratio for every network: {ok}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        with open(args.json, "w") as fh:
            json.dump(records, fh, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
