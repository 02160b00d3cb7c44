#!/usr/bin/env python
"""Cost of one full adversarial-training step of a Wide ResNet: AT vs AT+LipReg vs AT+PM (thesis Section 5.5).

One step of every variant is the pipeline's (``toeplitznet.runs.robust.attack_batch`` + the trainer's update):

1. the training attack: PGD-linf, ``--pgd-steps`` (10) iterations, eps 8/255, step eps/5, random start, on the true
   labels, model in **eval** mode (``toeplitznet.attacks.pgd_train``, thesis L6246-6248);
2. model back in train mode, cross-entropy forward on the adversarial batch, plus the regulariser for
   AT+LipReg (``LipschitzRegularizer(method="lipbound")``, Eq. 5.56) or AT+PM
   (``LipschitzRegularizer(method="power_method", power_iters=10)``, Farnia et al. 2019), backward, SGD step
   (momentum 0.9, weight decay 3e-4).

The variants are timed side by side: ``--warmup`` untimed rounds, then ``--repeats`` interleaved rounds (round
robin, the order rotated every round so that no variant always runs first); CUDA is synchronised before and after
every timed call. Reported per variant: median (min, mean +- std) ms; then the ratios AT+LipReg / AT (goal <= 1.10)
and AT+PM / AT, both as a ratio of medians and as the median of the per-round ratios (paired: the variants of one
round ran back to back, so load from other jobs affects them alike). ``--components`` also times the attack alone
and each regulariser's forward + backward alone.

Examples::

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/bench_at_step.py --depth 10 --widen 2 --batch 64 --threads 2
    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/bench_at_step.py --depth 16 --widen 2 --threads 2 --components
    python benchmarks/bench_at_step.py --depth 28 --widen 10 --batch 128 --device cuda --json /tmp/at_step.json
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # read by the OpenMP runtime when torch loads

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Callable, Dict, List  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

try:
    from toeplitznet.regularizers import LipschitzRegularizer
except ImportError:  # running from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from toeplitznet.regularizers import LipschitzRegularizer

from toeplitznet.bounds.timing import time_fn  # noqa: E402
from toeplitznet.models import count_parameters, wide_resnet  # noqa: E402
from toeplitznet.runs.robust import attack_batch  # noqa: E402

Step = Callable[[], object]


def make_variants(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, eps: float = 8 / 255,
                  pgd_steps: int = 10, c1: float = 3e-4, c2: float = 0.008, samples: int = 10,
                  outer: str = "cout", power_iters: int = 10, lr: float = 0.01,
                  components: bool = False) -> Dict[str, Step]:
    """``{name: step()}``: one full AT / AT+LipReg / AT+PM training step each (see the module docstring)."""
    attack = {"norm": "linf", "eps": eps, "step": eps / 5, "steps": pgd_steps, "random_start": True,
              "labels": "labels", "mode": "eval"}
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=c1)
    input_shape = tuple(x.shape[1:])
    lip = LipschitzRegularizer(model, c1=c1, c2=c2, method="lipbound", samples=samples, outer=outer,
                               input_shape=input_shape)
    pm = LipschitzRegularizer(model, c1=c1, c2=c2, method="power_method", power_iters=power_iters,
                              outer=outer, input_shape=input_shape)
    last_loss: List[float] = []

    def at_step(reg=None):
        def step():
            xa = attack_batch(model, x, y, attack)  # eval-mode PGD, restores train mode
            model.train()
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(xa), y)
            if reg is not None:
                loss = loss + reg(model)
            loss.backward()
            opt.step()
            last_loss.append(loss.detach())
        return step

    variants: Dict[str, Step] = {"AT": at_step(), "AT+LipReg": at_step(lip), "AT+PM": at_step(pm)}
    if components:
        def attack_only():
            attack_batch(model, x, y, attack)

        def reg_only(reg):
            def step():
                opt.zero_grad(set_to_none=True)
                reg(model).backward()
            return step

        variants.update({"attack alone": attack_only, "LipReg alone": reg_only(lip), "PM alone": reg_only(pm)})
    variants["_last_loss"] = last_loss  # type: ignore[assignment]  # popped by the caller
    return variants


def interleaved_times(variants: Dict[str, Step], *, repeats: int, warmup: int, device) -> Dict[str, List[float]]:
    """``{name: [ms per timed call]}``: ``warmup`` untimed rounds, then ``repeats`` rounds over every variant,
    the order rotated by one each round."""
    names = list(variants)
    for _ in range(warmup):
        for n in names:
            variants[n]()
    times: Dict[str, List[float]] = {n: [] for n in names}
    for r in range(repeats):
        k = r % len(names)
        for n in names[k:] + names[:k]:
            times[n].append(time_fn(variants[n], device))
    return times


def summarise(times: Dict[str, List[float]]) -> Dict[str, Dict[str, float]]:
    return {k: {"median_ms": statistics.median(v), "min_ms": min(v), "mean_ms": statistics.fmean(v),
                "std_ms": statistics.stdev(v) if len(v) > 1 else 0.0, "times_ms": v} for k, v in times.items()}


def ratios(times: Dict[str, List[float]], num: str, den: str = "AT") -> Dict[str, float]:
    """Ratio of medians and median of the per-round (paired) ratios of ``num`` over ``den``."""
    paired = [a / b for a, b in zip(times[num], times[den])]
    return {"ratio_of_medians": statistics.median(times[num]) / statistics.median(times[den]),
            "median_paired_ratio": statistics.median(paired)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--depth", type=int, default=10)
    ap.add_argument("--widen", type=int, default=2)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--size", type=int, default=32, help="input height = width (3 channels)")
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--pgd-steps", type=int, default=10)
    ap.add_argument("--c2", type=float, default=0.008)
    ap.add_argument("--samples", type=int, default=10, help="LipBound grid size S")
    ap.add_argument("--power-iters", type=int, default=10)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: leave)")
    ap.add_argument("--components", action="store_true", help="also time the attack and each regulariser alone")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # as the trainer does on CUDA
    torch.manual_seed(0)
    model = wide_resnet(args.depth, args.widen).to(device).train()
    x = torch.rand(args.batch, 3, args.size, args.size, device=device)
    y = torch.randint(0, 10, (args.batch,), device=device)
    variants = make_variants(model, x, y, pgd_steps=args.pgd_steps, c2=args.c2, samples=args.samples,
                             power_iters=args.power_iters, components=args.components)
    last_loss = variants.pop("_last_loss")  # type: ignore[arg-type]
    times = interleaved_times(variants, repeats=args.repeats, warmup=args.warmup, device=device)
    res = summarise(times)
    rat = {"AT+LipReg/AT": ratios(times, "AT+LipReg"), "AT+PM/AT": ratios(times, "AT+PM")}
    finite = all(math.isfinite(float(v)) for v in last_loss)

    n_conv = sum(isinstance(m, nn.Conv2d) for m in model.modules())
    where = (torch.cuda.get_device_name(device) if device.type == "cuda"
             else f"cpu, {torch.get_num_threads()} threads, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}")
    print(f"WRN-{args.depth}-{args.widen} ({count_parameters(model):,} parameters, {n_conv} convs), batch "
          f"{args.batch}, 3x{args.size}x{args.size}, {where}; PGD-linf {args.pgd_steps} it. eps 8/255 (eval mode); "
          f"{args.warmup} warm-up + {args.repeats} interleaved rounds")
    at = res["AT"]["median_ms"]
    for name, r in res.items():
        print(f"  {name:13s} median {r['median_ms']:10.1f} ms  (min {r['min_ms']:10.1f}, mean {r['mean_ms']:10.1f} "
              f"+- {r['std_ms']:8.1f})  / AT = {r['median_ms'] / at:.3f}")
    for k, v in rat.items():
        goal = "  (goal <= 1.10: " + ("met" if v["ratio_of_medians"] <= 1.10 else "NOT met") + ")" \
            if k.startswith("AT+LipReg") else ""
        print(f"  {k:13s} ratio of medians {v['ratio_of_medians']:.3f}, median of paired per-round ratios "
              f"{v['median_paired_ratio']:.3f}{goal}")
    if not finite:
        print("  warning: a training loss became non-finite during the benchmark")
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "device": where, "results": res, "ratios": rat,
                                               "losses_finite": finite}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
