#!/usr/bin/env python
"""Throughput of our PGD (toeplitznet.attacks.pgd, full evaluation bookkeeping) and of the training attack
(pgd_train) against torchattacks 3.5.1's ``PGD`` with identical settings, measured side by side in one run.

Settings: PGD-ℓ∞, ε 8/255, step 2/255, 10 steps, 1 restart, random start, batch 128 of 3x32x32 inputs on a
small pre-activation wide-ResNet-like CNN (random weights, eval mode) defined here. After a warm-up, the three
attacks are timed in interleaved order for ``--repeats`` rounds (CUDA synchronised around each call); the
median examples/s of each and the ratios ours/theirs are printed (goal >= 1.0).

Our ``pgd`` also evaluates the clean point and the final iterate (2 extra forward passes without gradient for
10 steps) and keeps the best point per example, so it does slightly more work than torchattacks' ``PGD``;
``pgd_train`` does the same work as torchattacks. ``torchattacks_PGD+eval`` adds the one forward pass a user
needs to get the robust accuracy our ``pgd`` returns. Our attacks run their passes in channels_last on the CPU
(``memory_format="auto"``, ~25 % faster convolutions with oneDNN); ``ours_pgd_preserve`` keeps the input's
NCHW layout and ``torchattacks_PGD_nhwc`` gives torchattacks a channels_last input, so that the layout's
share of the ratio is visible. Wall time and process CPU time are both recorded (CPU time is less sensitive
to other jobs on a shared machine). ``pgd(early_stop=True)`` (same accuracies, tested) stops
attacking an example once it is misclassified, so its gain depends on how fast the model breaks: the printed
accuracy-vs-iterations line says how informative the comparison is.

Example::

    PYTHONPATH=src python benchmarks/bench_pgd.py --threads 2 --repeats 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

try:
    from toeplitznet.attacks import pgd, pgd_train
except ImportError:  # allow running from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from toeplitznet.attacks import pgd, pgd_train


class Block(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.bn1, self.conv1 = nn.BatchNorm2d(cin), nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn2, self.conv2 = nn.BatchNorm2d(cout), nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.short = nn.Conv2d(cin, cout, 1, stride, bias=False) if (stride != 1 or cin != cout) else nn.Identity()

    def forward(self, x):
        o = self.conv1(F.relu(self.bn1(x)))
        return self.conv2(F.relu(self.bn2(o))) + self.short(x)


class SmallWRN(nn.Module):
    """conv3x3(3, 16) -> blocks of widths 16k, 32k, 64k (strides 1, 2, 2) -> BN-ReLU -> avgpool -> linear."""

    def __init__(self, width: int = 2, n_classes: int = 10):
        super().__init__()
        w = [16 * width, 32 * width, 64 * width]
        self.register_buffer("mean", torch.tensor([0.49, 0.48, 0.45]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.25, 0.24, 0.26]).view(1, 3, 1, 1))
        self.stem = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.blocks = nn.Sequential(Block(16, w[0], 1), Block(w[0], w[1], 2), Block(w[1], w[2], 2))
        self.bn = nn.BatchNorm2d(w[2])
        self.fc = nn.Linear(w[2], n_classes)

    def forward(self, x):
        x = self.blocks(self.stem((x - self.mean) / self.std))
        return self.fc(F.adaptive_avg_pool2d(F.relu(self.bn(x)), 1).flatten(1))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--width", type=int, default=1)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    args = ap.parse_args(argv)

    import torchattacks

    torch.set_num_threads(args.threads)
    dev = torch.device(args.device)
    torch.manual_seed(0)
    model = SmallWRN(args.width).to(dev).eval()
    x = torch.rand(args.batch, 3, 32, 32, device=dev)
    with torch.no_grad():
        y = model(x).argmax(1)            # labels = predictions: every example starts correctly classified
    eps, step, steps = 8 / 255, 2 / 255, args.steps
    theirs_atk = torchattacks.PGD(model, eps=eps, alpha=step, steps=steps, random_start=True)
    x_nhwc = x.contiguous(memory_format=torch.channels_last)

    def theirs_eval():
        xa = theirs_atk(x, y)
        with torch.no_grad():
            return model(xa).argmax(1) == y

    fns = {
        "ours_pgd": lambda: pgd(model, x, y, norm="linf", eps=eps, step=step, steps=steps, restarts=1,
                                random_start=True, seed=0),
        "ours_pgd_early_stop": lambda: pgd(model, x, y, norm="linf", eps=eps, step=step, steps=steps, restarts=1,
                                           random_start=True, seed=0, early_stop=True),
        "ours_pgd_train": lambda: pgd_train(model, x, y, eps=eps, step=step, steps=steps, generator=0),
        "ours_pgd_preserve": lambda: pgd(model, x, y, norm="linf", eps=eps, step=step, steps=steps, restarts=1,
                                         random_start=True, seed=0, memory_format="preserve"),
        "torchattacks_PGD": lambda: theirs_atk(x, y),
        "torchattacks_PGD+eval": theirs_eval,
        "torchattacks_PGD_nhwc": lambda: theirs_atk(x_nhwc, y),
    }

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)

    for _ in range(args.warmup):
        for f in fns.values():
            f()
    times = {k: [] for k in fns}
    cpu = {k: [] for k in fns}
    for r in range(args.repeats):
        order = list(fns) if r % 2 == 0 else list(reversed(fns))      # interleaved, alternating order
        for k in order:
            sync()
            c0, t0 = time.process_time(), time.perf_counter()
            fns[k]()
            sync()
            times[k].append(time.perf_counter() - t0)
            cpu[k].append(time.process_time() - c0)

    n_params = sum(p.numel() for p in model.parameters())
    print(f"device {dev}, threads {torch.get_num_threads()}, torch {torch.__version__}, torchattacks "
          f"{torchattacks.__version__}; SmallWRN width {args.width} ({n_params:,} params), batch {args.batch}, "
          f"PGD-linf eps 8/255 step 2/255 {steps} steps 1 restart, {args.repeats} interleaved repeats")
    med = {k: statistics.median(v) for k, v in times.items()}
    cmed = {k: statistics.median(v) for k, v in cpu.items()}
    for k, t in med.items():
        print(f"  {k:22s} {args.batch / t:9.1f} examples/s   (median {t * 1e3:8.1f} ms, "
              f"min {min(times[k]) * 1e3:8.1f} ms; CPU time median {cmed[k] * 1e3:8.1f} ms)")
    best = {k: min(v) for k, v in times.items()}
    res = pgd(model, x, y, norm="linf", eps=eps, step=step, steps=steps, seed=0, record=range(steps + 1))
    print("  accuracy after k iterations (ours_pgd): " + ", ".join(
        f"k={k}: {float(v.float().mean()):.2f}" for k, v in res.robust_at.items() if k in (0, 1, 2, steps // 2, steps)))
    print("  throughput ratios (>= 1.0: ours faster): wall median, wall best, CPU-time median")
    for name, ref in (("ours_pgd", "torchattacks_PGD"), ("ours_pgd", "torchattacks_PGD+eval"),
                      ("ours_pgd_early_stop", "torchattacks_PGD"), ("ours_pgd_train", "torchattacks_PGD"),
                      ("ours_pgd_preserve", "torchattacks_PGD+eval"), ("ours_pgd", "torchattacks_PGD_nhwc")):
        print(f"  ratio {name:20s} / {ref:22s} = {med[ref] / med[name]:.3f}, {best[ref] / best[name]:.3f}, "
              f"{cmed[ref] / cmed[name]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
