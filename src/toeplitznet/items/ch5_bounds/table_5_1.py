"""Table 5.1: accuracy (ratio to the exact σ1) and time of spectral-norm estimates of one convolution.

Protocol (thesis L6019-6071, INVENTORY S5): take 20 kernels from a trained model, compute σ1 of each
kernel's zero-padded convolution with IRAM (ARPACK), then, for each method, the ratio method / σ1 averaged
over the 20 kernels (mean ± std) and the time of one computation (ms, mean ± std). Methods:
Sedghi et al. (exact σ1 of the *circular* convolution), Singla & Feizi (reshape bound, the two-matrix
version of thesis Thm 3.8), Farnia et al. (power method, 10 iterations), LipBound (PolyGrid, S = 10, no
(1-α)⁻¹ factor, as the thesis's numbers), and two rows the thesis does not have: the certified LipBound
(Eq. 5.52) and Gram iteration (Delattre et al. 2023) on the zero-padded operator. All from
:mod:`toeplitznet.bounds`.

Choices where the thesis is silent (all config, ``studies.table_5_1``):

* **What "1x3x3" and "32x3x3" mean.** As in Figure 5.2's series names (``1xCxKxK``, legend ``CxKxK``), a
  kernel ``C x 3 x 3`` is one filter (one output channel) over C input channels: the operator maps C
  channels to one. The "1x3x3" kernels are the first 20 filters of the model's first convolution restricted
  to its first input channel, the "32x3x3" kernels the first 20 filters of its second convolution
  (32 input channels) (``columns``).
* **Which trained model.** ``checkpoint`` names a state dict / trainer checkpoint, or a Section 5.5 run as
  ``run:<run id>``: the paper config takes the kernels of ``run:ch5_cifar10_at``, the CIFAR-10 Wide ResNet
  trained with AT (the thesis's "trained model" most plausibly). Without one, the generic rule
  ``train_run`` trains the small CNN :class:`~toeplitznet.models.kernel_cnn.KernelCNN` (conv 3x3 widths ``model.channels``)
  with the shared trainer on ``dataset`` (smoke: Fashion-MNIST standing in for CIFAR-10) and this study
  reads its kernels (:func:`kernel_run`).
* **Input size and padding** of the operator: n = ``input_size`` (32, CIFAR's) and ``padding`` (1, the
  "same" padding of a 3x3 layer).
* **Timing**: per kernel and method, ``warmup`` untimed calls then ``repeats`` timed calls
  (:func:`toeplitznet.bounds.time_fn`, which synchronises CUDA); the time cell is the mean ± std over all
  20 × repeats calls. The device is recorded in the result (and its provenance). Milliseconds are not
  compared with the thesis's Tesla V100 (L6054); the speed-up of LipBound over the power method (row
  ``LipBound vs Farnia et al. (PM)``) is, against the ratio of the thesis's printed times.
* **Stand-in.** When the kernels come from the small CNN, the result says they are a stand-in
  (``stand_in``): even at paper scale the table is then not the thesis's setting and says so.
"""

from __future__ import annotations

import logging
import statistics
import time
from pathlib import Path

from ...registry import IMPLEMENTED, Item
from ...runtime import device_name


#: row label -> (thesis row?, what it is)
METHOD_ROWS = {
    "sedghi": "Sedghi et al.",
    "singla": "Singla & Feizi",
    "power": "Farnia et al.",
    "lipbound": "LipBound",
    "lipbound_certified": "LipBound certified (Eq. 5.52)",
    "gram": "Gram iteration (Delattre et al. 2023)",
    "exact": "IRAM (ARPACK, reference)",
}

#: row of the speed-up cells (power method time / LipBound time, per column): compared with the ratio of the
#: thesis's printed times (reference/thesis_values.csv), not the milliseconds
SPEEDUP_ROW = "LipBound vs Farnia et al. (PM)"

log = logging.getLogger("toeplitznet")


# ------------------------------------------------------------------------------- declaration and DAG
#: JSON schema of ``studies.table_5_1`` (validated before any job runs; unknown keys are errors)
SCHEMA = """
type: object
additionalProperties: false
required: [checkpoint, dataset, model, train, columns, n_kernels, input_size, padding,
           lipbound_samples, power_iterations, gram_iterations, singla_variant, arpack_tol, warmup,
           repeats]
properties:
  checkpoint:
    type: [string, "null"]
    description: weights to take the kernels from (null = train the small CNN of table_5_1.kernel_run with rule train_run)
  dataset: {enum: [fashion_mnist, mnist, cifar10, cifar100]}
  model:
    type: object
    additionalProperties: false
    required: [channels]
    properties:
      channels:
        type: array
        minItems: 1
        items: {$ref: "#/$defs/posint"}
  train:
    type: object
    additionalProperties: false
    required: [steps, batch_size, lr, optimizer, train_subset, test_subset]
    properties:
      steps: {$ref: "#/$defs/posint"}
      batch_size: {$ref: "#/$defs/posint"}
      lr: {$ref: "#/$defs/posnum"}
      optimizer: {enum: [adam, adamw, sgd]}
      train_subset: {type: [integer, "null"], minimum: 1}
      test_subset: {type: [integer, "null"], minimum: 1}
  columns:
    type: array
    minItems: 1
    items:
      type: object
      additionalProperties: false
      required: [label, parameter, in_channels]
      properties:
        label: {type: string, description: "the thesis's column prefix, e.g. 1x3x3"}
        parameter: {type: string, description: "4-D parameter of the model, e.g. conv2.weight"}
        in_channels: {$ref: "#/$defs/posint"}
  n_kernels: {$ref: "#/$defs/posint"}
  input_size: {type: integer, minimum: 3}
  padding: {$ref: "#/$defs/nonnegint"}
  lipbound_samples: {type: integer, minimum: 3}
  power_iterations: {$ref: "#/$defs/posint"}
  gram_iterations: {$ref: "#/$defs/nonnegint"}
  singla_variant: {enum: [single, min2, min4, R, S, T, U]}
  arpack_tol: {type: number, exclusiveMinimum: 0, maximum: 1.0e-4}
  warmup: {$ref: "#/$defs/nonnegint"}
  repeats: {$ref: "#/$defs/posint"}
"""
ITEM = Item(id="table_5_1", kind="table", title="bounds vs exact σ1 of one convolution: ratio and time",
            thesis_lines="L6006-6071", status=IMPLEMENTED, schema=SCHEMA, gpu=True, threads="config")


def kernel_run(config, paths=None) -> dict | None:
    """Run spec of the small CNN the kernels come from (None when ``checkpoint`` names a trained model):
    :class:`toeplitznet.models.kernel_cnn.KernelCNN` trained ``train.steps`` steps on ``dataset``."""
    p = config["studies"]["table_5_1"]
    if p["checkpoint"]:  # a file, or a Section 5.5 run (planned_run)
        return None
    tp, ds, ch = p["train"], p["dataset"], [int(c) for c in p["model"]["channels"]]
    rid = f"table_5_1_{ds}_kernel_cnn_c{'x'.join(map(str, ch))}"
    train = {"optimizer": tp["optimizer"], "lr": float(tp["lr"]), "batch_size": int(tp["batch_size"]),
             "epochs": None, "max_steps": int(tp["steps"]), "seed": int(config["seed"]),
             "device": "cuda" if config["device"] == "cuda" else ("cpu" if config["device"] == "cpu" else "auto"),
             "eval_every": 10**6, "progress": False,
             "meta": {"study": "table_5_1", "model": "kernel_cnn", "channels": ch, "dataset": ds,
                      "train_subset": tp["train_subset"], "scale": config["scale"]}}
    return {"id": rid, "inputs": {"manifest": paths.manifest(ds)} if paths else {},
            "model": {"family": "kernel_cnn", "channels": ch, "dataset": ds, "seed": int(config["seed"])},
            "data": {"dataset": "cifar10", "source": ds, "features": None, "flatten": False,
                     "train_subset": tp["train_subset"], "test_subset": tp["test_subset"], "eval_batch_size": 500},
            "train": train, "labels": {"role": "Table 5.1 kernel source"}, "count": {}, "gpu": True,
            # the kernels come from one trained model: one seed whatever config key seeds says
            "seeds": [int(config["seed"])]}


RUN_PREFIX = "run:"


def planned_run(config, paths=None) -> dict | None:
    """The Section 5.5 run named by ``checkpoint: run:<run id>`` (e.g. ``run:ch5_cifar10_at``, the CIFAR-10 Wide
    ResNet trained with AT), trained by this item's plan if no other item asks for it; None otherwise."""
    ck = config["studies"]["table_5_1"]["checkpoint"]
    if not (isinstance(ck, str) and ck.startswith(RUN_PREFIX)):
        return None
    from ..ch5_robust import _runs as robust_runs

    rid = ck[len(RUN_PREFIX):]
    if "ch5_robust_train" not in config["studies"]:
        raise ValueError(f"config key studies.table_5_1.checkpoint: {ck} needs studies.ch5_robust_train")
    for ds in robust_runs.DATASETS:
        specs = robust_runs.specs(config, [ds], paths)
        if rid in specs:
            return dict(specs[rid], seeds=[int(config["seed"])])
    raise ValueError(f"config key studies.table_5_1.checkpoint: no Section 5.5 run {rid!r} "
                     "(ids: ch5_<dataset>_<arm>[_c2_<C2>], e.g. ch5_cifar10_at)")


def runs(config, paths):
    planned = planned_run(config, paths)
    if planned is not None:
        return {planned["id"]: planned}
    spec = kernel_run(config, paths)
    return {spec["id"]: spec} if spec else {}


def evaluations(config, paths):
    """The kernel CNN's natural test accuracy, from its saved weights (named in the table's notes)."""
    planned = planned_run(config, paths)
    if planned is not None:
        from ..ch5_robust import _runs as robust_runs

        bs = int(config["studies"]["ch5_robust_train"]["eval_batch_size"])
        return {(planned["id"], "natural"): {"kind": "accuracy", "batch_size": bs}}
    spec = kernel_run(config, paths)
    return {(spec["id"], "accuracy"): {"kind": "accuracy", "batch_size": 500}} if spec else {}


def inputs(config, paths):
    planned = planned_run(config, paths)
    if planned is not None:
        rid = planned["id"]
        return {"model": paths.run(rid, "model.pt"), "training": paths.run(rid, "metrics.json"),
                "accuracy": paths.evaluation(rid, "natural")}
    spec = kernel_run(config, paths)
    if spec is None:
        return {"model": config["studies"]["table_5_1"]["checkpoint"]}
    return {"model": paths.run(spec["id"], "model.pt"), "training": paths.run(spec["id"], "metrics.json"),
            "accuracy": paths.evaluation(spec["id"], "accuracy")}


# ---------------------------------------------------------------------------------- kernels and stats
def load_state_dict(path) -> dict:
    """A state dict from a plain ``state_dict`` file or a trainer checkpoint (``{"model": ...}``)."""
    import torch

    obj = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(obj, dict):
        for key in ("model", "state_dict"):
            if isinstance(obj.get(key), dict):
                return obj[key]
    return obj


def select_kernels(state: dict, parameter: str, in_channels: int, n_kernels: int) -> list:
    """The first ``n_kernels`` filters of ``state[parameter]`` restricted to the first ``in_channels``
    input channels: a list of ``(1, in_channels, kh, kw)`` tensors."""
    if parameter not in state:
        convs = sorted(k for k, v in state.items() if getattr(v, "dim", lambda: 0)() == 4)
        raise KeyError(f"parameter {parameter!r} not in the model; 4-D parameters: {convs}")
    w = state[parameter]
    if w.shape[0] < n_kernels or w.shape[1] < in_channels:
        raise ValueError(f"{parameter} has shape {tuple(w.shape)}: cannot take {n_kernels} filters of "
                         f"{in_channels} input channels")
    return [w[i:i + 1, :in_channels].clone().contiguous() for i in range(n_kernels)]


def ratio_stats(values, reference) -> dict:
    """Per-kernel ratios ``values[i] / reference[i]`` with their mean and sample standard deviation."""
    r = [float(v) / float(e) for v, e in zip(values, reference)]
    return {"ratios": r, "mean": statistics.fmean(r), "std": statistics.stdev(r) if len(r) > 1 else 0.0}


def time_stats(times_ms) -> dict:
    return {"mean": statistics.fmean(times_ms), "std": statistics.stdev(times_ms) if len(times_ms) > 1 else 0.0,
            "median": statistics.median(times_ms), "n": len(times_ms)}


def method_functions(p: dict, device) -> dict:
    """``key -> f(kernel, generator) -> 0-dim tensor`` for every estimate (see :data:`METHOD_ROWS`)."""
    from ...bounds import gram_iteration_zero_padding, lipbound, power_method, sedghi2019, singla2019

    n, pad, S = int(p["input_size"]), int(p["padding"]), int(p["lipbound_samples"])
    return {
        "sedghi": lambda k, g: sedghi2019(k, n),
        "singla": lambda k, g: singla2019(k, p["singla_variant"]),
        "power": lambda k, g: power_method(k, n, n_iter=int(p["power_iterations"]), padding=pad, generator=g),
        "lipbound": lambda k, g: lipbound(k, n_samples=S),
        "lipbound_certified": lambda k, g: lipbound(k, n_samples=S, certified=True),
        "gram": lambda k, g: gram_iteration_zero_padding(k, n, int(p["gram_iterations"]), pad),
    }


def evaluate_column(kernels, p: dict, device, seed: int) -> dict:
    """Exact σ1, every method's ratio and timing for one list of kernels."""
    import torch

    from ...bounds import exact_spectral_norm, time_fn

    n, pad = int(p["input_size"]), int(p["padding"])
    exact, exact_ms = [], []
    for k in kernels:
        t0 = time.perf_counter()
        exact.append(exact_spectral_norm(k, n, padding=pad, tol=float(p["arpack_tol"])))
        exact_ms.append((time.perf_counter() - t0) * 1e3)
    fns = method_functions(p, device)
    out = {"exact": {"values": exact, "time_ms": time_stats(exact_ms)}}
    dev_kernels = [k.to(device) for k in kernels]
    with torch.no_grad():
        for key, fn in fns.items():
            values, times = [], []
            for i, k in enumerate(dev_kernels):
                gen = torch.Generator(device=device).manual_seed(seed * 1000 + i)
                values.append(float(fn(k, gen)))
                for _ in range(int(p["warmup"])):
                    fn(k, gen)
                for _ in range(int(p["repeats"])):
                    times.append(time_fn(lambda: fn(k, gen), device))
            out[key] = {"values": values, **{"ratio": ratio_stats(values, exact)}, "time_ms": time_stats(times)}
    return out


def run(ctx) -> None:
    device = ctx.torch_device()
    p = ctx.params
    state = load_state_dict(ctx.input("model"))
    training = None
    if "training" in ctx.inputs:
        import json

        m = json.loads(Path(ctx.input("training")).read_text())
        acc = json.loads(Path(ctx.input("accuracy")).read_text())
        training = {"run": m.get("run_id"), "steps": m.get("steps"), "test_accuracy": acc.get("accuracy"),
                    "train_loss": (m.get("final_train") or {}).get("loss"), "stand_in": m.get("stand_in"),
                    "device_name": m.get("device_name"), "weights": ctx.input("model")}
    cells, columns = [], {}
    for col in p["columns"]:
        kernels = select_kernels(state, col["parameter"], int(col["in_channels"]), int(p["n_kernels"]))
        t0 = time.perf_counter()
        res = evaluate_column(kernels, p, device, ctx.seed)
        log.info("table_5_1 %s: %d kernels in %.1f s", col["label"], len(kernels), time.perf_counter() - t0)
        columns[col["label"]] = {"parameter": col["parameter"], "in_channels": int(col["in_channels"]),
                                 "kernel_shape": list(kernels[0].shape), **res}
        for key, row in METHOD_ROWS.items():
            if key != "exact":
                cells.append({"row": row, "column": f"{col['label']} Ratio", "value": res[key]["ratio"]["mean"],
                              "plus_minus": res[key]["ratio"]["std"]})
            cells.append({"row": row, "column": f"{col['label']} Time (ms)", "value": res[key]["time_ms"]["mean"],
                          "plus_minus": res[key]["time_ms"]["std"]})
    for col in columns:  # the speed-up of LipBound over the power method: what is compared across hardware
        res = columns[col]
        cells.append({"row": SPEEDUP_ROW, "column": f"{col} speed-up",
                      "value": res["power"]["time_ms"]["mean"] / res["lipbound"]["time_ms"]["mean"]})
    cells.append({"row": "setup", "column": "number of kernels averaged", "value": int(p["n_kernels"]),
                  "setting": True})
    dev_name = device_name(device)
    planned = isinstance(p["checkpoint"], str) and p["checkpoint"].startswith(RUN_PREFIX)
    source = (f"the Wide ResNet of run {(training or {}).get('run')} (Section 5.5, trained "
              f"{(training or {}).get('steps')} steps, test accuracy {(training or {}).get('test_accuracy')})"
              if planned else f"checkpoint {p['checkpoint']}" if p["checkpoint"] else
              f"the small CNN of run {(training or {}).get('run')} (conv widths {p['model']['channels']}, trained "
              f"{(training or {}).get('steps')} steps on {p['dataset']}, test accuracy "
              f"{(training or {}).get('test_accuracy')})")
    notes = [
        f"Kernels: {source}; 'CxKxK' = one filter over C input channels "
        + ", ".join(f"{c['label']} = {c['parameter']}[:{p['n_kernels']}, :{c['in_channels']}]" for c in p["columns"])
        + ".",
        f"Operator: zero-padded convolution, input {p['input_size']}x{p['input_size']}, padding {p['padding']}, "
        f"stride 1 (thesis: not stated). Reference sigma_1: ARPACK (tol {p['arpack_tol']:g}).",
        f"LipBound: PolyGrid S = {p['lipbound_samples']} without the (1-alpha)^-1 factor (thesis); the certified "
        f"row multiplies by it. Power method: {p['power_iterations']} iterations from a random start. Singla & "
        f"Feizi: variant {p['singla_variant']}. Gram iteration: {p['gram_iterations']} iterations on the "
        f"circular embedding of the zero-padded operator.",
        f"Times: {p['warmup']} warm-up + {p['repeats']} timed calls per kernel, mean ± std over all calls, on "
        f"{dev_name} (thesis: Tesla V100). Ratios: mean ± sample std over the kernels.",
        "Sedghi et al. is exact for the circular convolution of the same size; its mean ratio to the zero-padded "
        "sigma_1 here: " + ", ".join(f"{c} {columns[c]['sedghi']['ratio']['mean']:.3f}" for c in columns)
        + " (thesis: 0.431, 0.666; see docs/deviations.md).",
    ]
    stand_in = [(training or {}).get("stand_in")]
    if not p["checkpoint"]:
        stand_in.append("the kernels come from a small CNN (run " + str((training or {}).get("run"))
                        + "), standing in for the CIFAR-10 Wide ResNet of Section 5.5; set "
                          "studies.table_5_1.checkpoint to run:ch5_cifar10_at (the paper config does)")
    stand_in = "; ".join(s for s in stand_in if s) or None
    ctx.write_result("result", {
        "item": "table_5_1", "device": str(device), "device_name": dev_name, "input_size": int(p["input_size"]),
        "padding": int(p["padding"]), "n_kernels": int(p["n_kernels"]), "kernel_source": source,
        "seeds": [ctx.seed], "stand_in": stand_in, "training": training, "columns": columns,
        "cells": cells, "notes": notes,
    })
