#!/usr/bin/env python
"""CPU-scale validation of the robustness pipeline (thesis Section 5.5) on Fashion-MNIST. Not a test.

Trains one small Wide ResNet per arm, with the same seed, data, data order and number of steps, through the
pipeline's pieces (``toeplitznet.models.build_model``, ``toeplitznet.runs.robust.training_hooks``,
``toeplitznet.train.train``, as ``toeplitznet.runs.train_job.fit`` does):

* ``undefended``   plain SGD (random crop + flip augmentation);
* ``at``           adversarial training: every batch replaced by PGD-linf examples (eps ``--eps``, ``--train-pgd-steps``
                   iterations, random start, true labels, model in eval mode);
* ``at_lipreg``    AT + the LipBound regulariser of Eq. 5.56 (``C1 = --c1`` norms form, ``C2 = --c2``);
* ``at_pm``        (only with ``--arms ... at_pm``) AT + the power-method regulariser.

Each trained model is evaluated on the test subset: natural accuracy, PGD-linf accuracy (``--eval-steps``
iterations, ``--eval-restarts`` restarts, step ``--eval-step-fraction * eps``, on the first ``--attack-examples``
test images), the product of layer bounds (``product_of_bounds``: certified LipBound, an upper bound of the l2
Lipschitz constant; and with ``--exact`` the tighter ARPACK variant) and the l2 certified accuracy
(``certified_accuracy``, Tsuzuku et al. 2018) at ``--radii`` with each of these constants.

If AT+LipReg certifies nothing at the smallest radius, AT+LipReg is retrained for each ``--c2-sweep`` value (in
the order given) until one certifies something (``--full-sweep``: train them all).

``--norm none`` trains the same WRN without batch norms (not in the thesis; ``--bias`` adds conv biases): with
batch norms the product-of-bounds certificate stays vacuous whatever the regulariser does (docs/lipreg.md),
without them LipReg acts on the certificate directly. ``--fold-bn`` (default) uses the folded product
(``product_of_bounds(fold_bn=True)``: BN scales folded into the convs, global pooling's ``1/sqrt(HW)``).

Expected: undefended ~0 under PGD; AT well above 0; the product of bounds of AT+LipReg below AT's. A JSON summary
(settings, per-run numbers, training history, checks) goes to ``--out``; a table is printed.

Example (2 CPU threads; about 10-20 minutes)::

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python scripts/validate_robust_cpu.py --threads 2 --out /tmp/validate_robust.json
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # read by the OpenMP runtime when torch loads

import argparse  # noqa: E402
import functools  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402
from torch.utils.data import TensorDataset  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
try:
    import toeplitznet  # noqa: F401
except ImportError:  # running from a checkout without installing
    sys.path.insert(0, str(REPO / "src"))

from toeplitznet.attacks import evaluate_attack, pgd  # noqa: E402
from toeplitznet.data import load_split, make_loader  # noqa: E402
from toeplitznet.models import build_model, count_parameters  # noqa: E402
from toeplitznet.regularizers import layer_bounds, product_of_bounds  # noqa: E402
from toeplitznet.robust import certified_accuracy, certified_radius  # noqa: E402
from toeplitznet.runs.robust import training_hooks  # noqa: E402
from toeplitznet.train import train  # noqa: E402

DATA_CANDIDATES = (REPO / "data", Path("/usr/share/datasets/fashion-mnist"))
INPUT_SHAPE = (1, 28, 28)


def find_data_root(given: str | None) -> Path:
    """``--data-root``, else the first of ``DATA_CANDIDATES`` holding Fashion-MNIST's training images."""
    if given:
        return Path(given)
    for c in DATA_CANDIDATES:
        for folder in (c, c / "fashion_mnist"):
            if (folder / "train-images-idx3-ubyte.gz").is_file() or (folder / "train-images-idx3-ubyte").is_file():
                return c
    raise SystemExit(f"Fashion-MNIST not found in {[str(c) for c in DATA_CANDIDATES]}; pass --data-root")


def robust_block(args, arm: str, c2: float | None) -> dict:
    """The ``robust`` block of a run spec (as ``items/ch5_robust/_runs.py:run_spec`` builds it)."""
    attack = None
    if arm != "undefended":
        step = args.train_pgd_step if args.train_pgd_step else 2.5 * args.eps / args.train_pgd_steps
        attack = {"norm": "linf", "eps": args.eps, "step": step, "steps": args.train_pgd_steps,
                  "random_start": True, "labels": "labels", "mode": "eval"}
    reg = None
    if arm in ("at_lipreg", "at_pm"):
        reg = {"method": "lipbound" if arm == "at_lipreg" else "power_method", "c1": args.c1,
               "c1_form": "norms", "c2": float(c2), "samples": 10, "grid": "thesis", "outer": "cout",
               "power_iters": 10, "input_shape": list(INPUT_SHAPE), "c2_form": args.c2_form,
               "linear": args.reg_linear}
    return {"attack": attack, "regularizer": reg, "augment": {"crop_padding": args.crop_padding, "flip": args.flip},
            "nproc": 1}


def train_cfg(args, n_train: int) -> dict:
    per_epoch = n_train // args.batch  # drop_last
    return {"optimizer": "sgd", "lr": args.lr, "momentum": 0.9, "nesterov": False, "weight_decay": args.weight_decay,
            "schedule": ({"type": "multistep", "milestones": [int(m) for m in args.milestones], "gamma": 0.1}
                         if args.milestones else {"type": "constant"}),
            "epochs": max(1, math.ceil(args.steps / per_epoch)), "max_steps": args.steps, "batch_size": args.batch,
            "seed": args.seed, "label_smoothing": 0.0, "ema_decay": None, "eval_every": 10**6, "log_every": 10,
            "device": "cpu", "progress": False, "amp": "none", "channels_last": False, "drop_last": True}


def model_spec(args) -> dict:
    return {"family": "wide_resnet", "depth": args.depth, "widen": args.widen, "num_classes": 10, "in_channels": 1,
            "normalize": "fashion_mnist", "seed": args.seed, "norm": args.norm, "bias": args.bias}


@torch.no_grad()
def logits_of(model, x, batch: int = 500) -> torch.Tensor:
    was = model.training
    model.eval()
    out = torch.cat([model(x[i:i + batch]) for i in range(0, len(x), batch)])
    model.train(was)
    return out


def evaluate_model(args, model, xte, yte) -> dict:
    t0 = time.perf_counter()
    logits = logits_of(model, xte)
    nat = float((logits.argmax(1) == yte).float().mean())
    na = args.attack_examples
    nat_attacked = float((logits[:na].argmax(1) == yte[:na]).float().mean())
    attack = functools.partial(pgd, norm="linf", eps=args.eps, step=args.eval_step_fraction * args.eps,
                               steps=args.eval_steps, restarts=args.eval_restarts, seed=args.seed)
    res = evaluate_attack(model, (xte[:na], yte[:na]), attack, batch_size=250)
    t_pgd = time.perf_counter() - t0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # InputNormalized/WideResNet are composed exactly; nothing unknown
        L = product_of_bounds(model, INPUT_SHAPE, fold_bn=args.fold_bn)
    out = {"natural_acc": nat, "natural_acc_attacked_subset": nat_attacked, "pgd_acc": res["accuracy"],
           "pgd_n": res["n"], "product_of_bounds": L, "log10_product_of_bounds": math.log10(L),
           "certified_acc": {str(r): v for r, v in certified_accuracy(logits, yte, L, args.radii).items()},
           "eval_s": None}
    if args.exact:
        t1 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            Le = product_of_bounds(model, INPUT_SHAPE, method="exact", fold_bn=args.fold_bn)
        out["product_of_bounds_exact"] = Le
        out["certified_acc_exact"] = {str(r): v for r, v in certified_accuracy(logits, yte, Le, args.radii).items()}
        out["exact_s"] = time.perf_counter() - t1
    for key, lip in (("lipbound", L), ("exact", out.get("product_of_bounds_exact"))):
        if lip is None:
            continue
        rad = certified_radius(logits, yte, lip)
        rad = rad[rad > 0]
        out[f"certified_radius_{key}"] = {"median": float(rad.median()) if rad.numel() else 0.0,
                                          "max": float(rad.max()) if rad.numel() else 0.0}
    # where the bound sits: sum of log10 of the layer values per kind (the residual sums make the network
    # bound smaller than the plain product of all layers; this is a breakdown, not the composition)
    layers = {"lipbound": layer_bounds(model, INPUT_SHAPE, certified=True)}
    if args.exact:
        layers["exact"] = layer_bounds(model, INPUT_SHAPE, method="exact")
    out["log10_layer_bounds_by_kind"] = {
        k: {kind: sum(math.log10(v["bound"]) for v in lb if v["kind"] == kind)
            for kind in sorted({v["kind"] for v in lb})} for k, lb in layers.items()}
    out["layer_bounds"] = {k: [{"name": v["name"], "kind": v["kind"], "bound": v["bound"]} for v in lb]
                           for k, lb in layers.items()}
    margins = logits.gather(1, yte[:, None]).squeeze(1) - logits.scatter(1, yte[:, None], float("-inf")).amax(1)
    out["median_margin_correct"] = float(margins[margins > 0].median()) if bool((margins > 0).any()) else 0.0
    out["pgd_s"] = t_pgd
    out["eval_s"] = time.perf_counter() - t0
    return out


def run_arm(args, arm: str, c2: float | None, data, workdir: Path) -> dict:
    (xtr, ytr), (xte, yte) = data
    torch.manual_seed(args.seed)
    model = build_model(model_spec(args))
    rb = robust_block(args, arm, c2)
    hooks = training_hooks(model, rb)
    name = arm if c2 is None else f"{arm}_c2_{c2:g}"
    test_loader = make_loader(xte, yte, batch_size=500, shuffle=False)
    t0 = time.perf_counter()
    metrics = train(model, TensorDataset(xtr, ytr), {"test": test_loader}, train_cfg(args, len(ytr)),
                    workdir / name, hooks=hooks or None, resume="never")
    train_s = time.perf_counter() - t0
    ev = evaluate_model(args, model, xte, yte)
    hist = [{"epoch": h["epoch"], "step": h["step"], "train_loss": h["train"]["loss"],
             "train_acc": h["train"]["accuracy"], "extra_loss": h["train"].get("extra_loss")}
            for h in metrics["history"]]
    rec = {"name": name, "arm": arm, "c2": c2, "train_s": train_s, "steps": metrics["steps"],
           "n_params": count_parameters(model), "history": hist,
           "step_trace": {"step": metrics["step_trace"]["step"], "loss": metrics["step_trace"]["loss"]}, **ev}
    cert = ", ".join(f"r={r}: {v:.3f}" for r, v in rec["certified_acc"].items())
    print(f"[{time.strftime('%H:%M:%S')}] {name:20s} trained {train_s:6.0f} s ({metrics['steps']} steps, last-epoch "
          f"train loss {hist[-1]['train_loss']:.3f}, train acc {hist[-1]['train_acc']:.3f}); natural "
          f"{ev['natural_acc']:.3f}, PGD {ev['pgd_acc']:.3f}, L {ev['product_of_bounds']:.3g}, cert {cert} "
          f"(eval {ev['eval_s']:.0f} s)", flush=True)
    print("      log10 layer values by kind: " + "; ".join(
        f"{k}: " + ", ".join(f"{kind} {v:.2f}" for kind, v in d.items())
        for k, d in ev["log10_layer_bounds_by_kind"].items()), flush=True)
    return rec


def table(runs: list, radii) -> str:
    cols = ["run", "nat acc", "PGD acc", "L (LipBound)", "L (exact)"]
    cols += [f"cert@{r:g}" for r in radii] + [f"cert@{r:g} (exact L)" for r in radii]
    cols += ["median margin", "median cert radius (exact L)", "train s"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in runs:
        row = [r["name"], f"{r['natural_acc']:.3f}", f"{r['pgd_acc']:.3f}", f"{r['product_of_bounds']:.3g}",
               f"{r['product_of_bounds_exact']:.3g}" if "product_of_bounds_exact" in r else "-"]
        row += [f"{r['certified_acc'][str(float(x))]:.3f}" for x in radii]
        row += [f"{r['certified_acc_exact'][str(float(x))]:.3f}" if "certified_acc_exact" in r else "-"
                for x in radii]
        row += [f"{r['median_margin_correct']:.2f}",
                f"{r['certified_radius_exact']['median']:.2g}" if "certified_radius_exact" in r else "-",
                f"{r['train_s']:.0f}"]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-root", help="folder with Fashion-MNIST (or its parent holding fashion_mnist/)")
    ap.add_argument("--train-subset", type=int, default=4000)
    ap.add_argument("--test-subset", type=int, default=1000, help="natural and certified accuracy")
    ap.add_argument("--attack-examples", type=int, default=500, help="first test images attacked by PGD")
    ap.add_argument("--depth", type=int, default=10)
    ap.add_argument("--widen", type=int, default=1)
    ap.add_argument("--norm", choices=["batch", "none"], default="batch",
                    help="the WRN's batch norms ('none': not in the thesis; the certificate is then usable)")
    ap.add_argument("--bias", action=argparse.BooleanOptionalAction, default=False, help="conv biases")
    ap.add_argument("--fold-bn", action=argparse.BooleanOptionalAction, default=True,
                    help="product_of_bounds(fold_bn=...): BN scales folded into the convs, pooling's 1/sqrt(HW)")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--milestones", type=int, nargs="*", default=[], help="epochs where the lr drops by 10x")
    ap.add_argument("--weight-decay", type=float, default=3e-4)
    ap.add_argument("--crop-padding", type=int, default=2)
    ap.add_argument("--flip", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--eps", type=float, default=0.1, help="linf radius on [0, 1] (training and PGD evaluation)")
    ap.add_argument("--train-pgd-steps", type=int, default=5)
    ap.add_argument("--train-pgd-step", type=float, default=None, help="default 2.5 eps / steps")
    ap.add_argument("--eval-steps", type=int, default=20)
    ap.add_argument("--eval-restarts", type=int, default=2)
    ap.add_argument("--eval-step-fraction", type=float, default=0.25)
    ap.add_argument("--c1", type=float, default=3e-4)
    ap.add_argument("--c2", type=float, default=0.008)
    ap.add_argument("--c2-form", choices=["log", "log_hinge"], default="log",
                    help="Eq. 5.56's sum of logs, or only the logs above 0 (not in the thesis)")
    ap.add_argument("--reg-linear", action=argparse.BooleanOptionalAction, default=False,
                    help="also the linear layers' spectral norms in the C2 term (Eq. 5.56 omits the last one)")
    ap.add_argument("--c2-sweep", type=float, nargs="*", default=[0.05, 0.2, 0.5])
    ap.add_argument("--full-sweep", action="store_true", help="train every --c2-sweep value")
    ap.add_argument("--arms", nargs="+", default=["undefended", "at", "at_lipreg"],
                    choices=["undefended", "at", "at_lipreg", "at_pm"])
    ap.add_argument("--radii", type=float, nargs="+", default=[0.05, 0.1])
    ap.add_argument("--exact", action=argparse.BooleanOptionalAction, default=True,
                    help="also the product of exact (ARPACK) conv norms and its certificates")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--workdir", help="checkpoints (default: a temporary folder, deleted)")
    ap.add_argument("--out", default="/tmp/validate_robust.json")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.threads:
        torch.set_num_threads(args.threads)
    root = find_data_root(args.data_root)
    xtr, ytr = load_split("fashion_mnist", root, "train", subset=args.train_subset, seed=args.seed)
    xte, yte = load_split("fashion_mnist", root, "test", subset=args.test_subset, seed=args.seed)
    args.attack_examples = min(args.attack_examples, len(yte))
    data = ((xtr, ytr), (xte, yte))
    print(f"Fashion-MNIST from {root}: {len(ytr)} train / {len(yte)} test ({args.attack_examples} attacked); "
          f"WRN-{args.depth}-{args.widen}, batch {args.batch}, {args.steps} steps, lr {args.lr}, eps {args.eps}, "
          f"train PGD {args.train_pgd_steps} it., eval PGD {args.eval_steps} it. x {args.eval_restarts} restarts; "
          f"C1 {args.c1}, C2 {args.c2}; {torch.get_num_threads()} threads", flush=True)

    t_all = time.perf_counter()
    runs = []
    with tempfile.TemporaryDirectory(prefix="validate_robust_") as tmp:
        workdir = Path(args.workdir) if args.workdir else Path(tmp)
        for arm in args.arms:
            runs.append(run_arm(args, arm, args.c2 if arm in ("at_lipreg", "at_pm") else None, data, workdir))
        by = {r["name"]: r for r in runs}
        lip_name = f"at_lipreg_c2_{args.c2:g}"
        r0 = str(float(min(args.radii)))
        sweep_result = None
        if lip_name in by and by[lip_name]["certified_acc"][r0] == 0.0 and args.c2_sweep:
            for c2 in args.c2_sweep:
                rec = run_arm(args, "at_lipreg", c2, data, workdir)
                runs.append(rec)
                if rec["certified_acc"][r0] > 0 and sweep_result is None:
                    sweep_result = c2
                    if not args.full_sweep:
                        break
    by = {r["name"]: r for r in runs}

    checks = {}
    if "undefended" in by:
        checks["undefended_pgd_near_zero (< 0.05)"] = by["undefended"]["pgd_acc"] < 0.05
    if "at" in by:
        checks["at_pgd_well_above_zero (> 0.2)"] = by["at"]["pgd_acc"] > 0.2
        if "undefended" in by:
            checks["at_pgd_above_undefended"] = by["at"]["pgd_acc"] > by["undefended"]["pgd_acc"]
    lip_runs = [r for r in runs if r["arm"] == "at_lipreg"]
    if "at" in by and lip_runs:
        for r in lip_runs:
            checks[f"{r['name']}_product_below_at"] = r["product_of_bounds"] < by["at"]["product_of_bounds"]
            checks[f"{r['name']}_certified_at_{min(args.radii):g}_nonzero"] = r["certified_acc"][r0] > 0
            if "certified_acc_exact" in r:
                checks[f"{r['name']}_certified_at_{min(args.radii):g}_nonzero_exact_norms"] = \
                    r["certified_acc_exact"][r0] > 0
            # a collapsed (constant) classifier is certified everywhere for its one class: not a success
            checks[f"{r['name']}_not_collapsed (natural > 0.2)"] = r["natural_acc"] > 0.2

    summary = {"settings": {**vars(args), "data_root": str(root), "model": model_spec(args),
                            "robust_blocks": {r["name"]: robust_block(args, r["arm"], r["c2"]) for r in runs},
                            "train_config": train_cfg(args, len(ytr)), "torch": torch.__version__,
                            "threads": torch.get_num_threads(), "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY")},
               "runs": runs, "checks": checks, "first_c2_with_nonzero_certified": sweep_result,
               "total_s": time.perf_counter() - t_all}
    Path(args.out).write_text(json.dumps(summary, indent=2))
    print()
    print(table(runs, args.radii))
    print()
    for k, v in checks.items():
        print(f"  {'ok  ' if v else 'FAIL'} {k}")
    print(f"total {summary['total_s']:.0f} s; summary written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
