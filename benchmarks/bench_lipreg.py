#!/usr/bin/env python
"""Cost of the Lipschitz regulariser (thesis Eq. 5.56, Section 5.5) per training step of a Wide ResNet.

Variants, timed side by side (warm-up, then interleaved round-robin repeats; CUDA synchronised around each call):

* ``plain``          one SGD step: cross-entropy forward + backward + update;
* ``lipreg``         the LipBound regulariser alone (its forward + backward, no data);
* ``pm``             the power-method regulariser alone (AT+PM baseline: 10 iterations, gradients through them);
* ``plain+lipreg``   an SGD step on cross-entropy + regulariser; ``plain+pm`` likewise.

``step_times(model, x, y, variants)`` is generic: each variant is a callable ``fn(model, x, y)`` doing one step,
so further variants (e.g. an adversarial-training step) plug in without changing the timing loop.

Examples::

    PYTHONPATH=src python benchmarks/bench_lipreg.py --depth 10 --widen 2 --batch 32 --threads 2
    PYTHONPATH=src python benchmarks/bench_lipreg.py --depth 28 --widen 10 --batch 200 --device cuda
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Callable, Dict

import torch
import torch.nn.functional as F
from torch import nn

try:
    from toeplitznet.regularizers import LipschitzRegularizer
except ImportError:  # running from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from toeplitznet.regularizers import LipschitzRegularizer

from toeplitznet.bounds.timing import time_fn  # noqa: E402
from toeplitznet.models import count_parameters, wide_resnet  # noqa: E402

Step = Callable[[nn.Module, torch.Tensor, torch.Tensor], object]


def step_times(model: nn.Module, x: torch.Tensor, y: torch.Tensor, variants: Dict[str, Step], *, repeats: int = 10,
               warmup: int = 2, device="cpu") -> Dict[str, Dict[str, float]]:
    """Milliseconds per call of each ``variants[name](model, x, y)``: ``warmup`` untimed rounds, then ``repeats``
    interleaved rounds (round robin over the variants). Returns ``{name: {mean_ms, median_ms, min_ms, std_ms}}``."""
    for _ in range(warmup):
        for fn in variants.values():
            fn(model, x, y)
    times: Dict[str, list] = {k: [] for k in variants}
    for _ in range(repeats):
        for name, fn in variants.items():
            times[name].append(time_fn(lambda: fn(model, x, y), device))
    return {k: {"mean_ms": statistics.fmean(v), "median_ms": statistics.median(v), "min_ms": min(v),
                "std_ms": statistics.stdev(v) if len(v) > 1 else 0.0} for k, v in times.items()}


def make_variants(model: nn.Module, *, c1: float = 3e-4, c2: float = 0.008, samples: int = 10,
                  input_shape=(3, 32, 32), lr: float = 0.1) -> Dict[str, Step]:
    """The standard variants of this benchmark (see the module docstring) for ``model``."""
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=c1)
    lip = LipschitzRegularizer(model, c1=c1, c2=c2, samples=samples, c1_form="weight_decay")
    pm = LipschitzRegularizer(model, c1=c1, c2=c2, method="power_method", power_iters=10, input_shape=input_shape,
                              c1_form="weight_decay")

    def sgd(extra=None):
        def step(m, x, y):
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(m(x), y)
            if extra is not None:
                loss = loss + extra()
            loss.backward()
            opt.step()
        return step

    def alone(reg):
        def step(m, x, y):
            opt.zero_grad(set_to_none=True)
            reg().backward()
        return step

    return {"plain": sgd(), "lipreg": alone(lip), "pm": alone(pm), "plain+lipreg": sgd(lip), "plain+pm": sgd(pm)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--depth", type=int, default=10)
    ap.add_argument("--widen", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--samples", type=int, default=10)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: leave)")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = torch.device(args.device)
    model = wide_resnet(args.depth, args.widen).to(device).train()
    x = torch.rand(args.batch, 3, 32, 32, device=device)
    y = torch.randint(0, 10, (args.batch,), device=device)
    res = step_times(model, x, y, make_variants(model), repeats=args.repeats, warmup=args.warmup, device=device)
    n_conv = sum(isinstance(m, nn.Conv2d) for m in model.modules())
    print(f"WRN-{args.depth}-{args.widen} ({count_parameters(model):,} parameters, {n_conv} convs), batch {args.batch}, "
          f"{device}{'' if device.type != 'cpu' else f', {torch.get_num_threads()} threads'}, {args.repeats} repeats")
    plain = res["plain"]["median_ms"]
    for name, r in res.items():
        print(f"  {name:14s} median {r['median_ms']:9.2f} ms  (min {r['min_ms']:9.2f}, mean {r['mean_ms']:9.2f} "
              f"+- {r['std_ms']:.2f})  / plain step = {r['median_ms'] / plain:.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "results": res}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
