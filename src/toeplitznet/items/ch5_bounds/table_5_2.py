"""Table 5.2: time of LipBound vs the power method (10 iterations) over all convolutions of full networks.

Thesis L6072-6085 (INVENTORY S6): 17 torchvision architectures (AlexNet, ResNet 18/34/50/101/152,
DenseNet 121/161/169/201, VGG 11/13/16/19, Wide ResNet 50-2, SqueezeNet 1.0/1.1); the time to compute
the bound of every convolution layer, LipBound against the power method of Farnia et al. with 10
iterations, and their ratio ("up to 12").

Protocol (:func:`toeplitznet.bounds.time_network_bounds`): the networks are built with random weights
(``weights=None``; timing does not depend on the values), probed once with a ``1 x 3 x n x n`` input
(n = ``input_size``, 224 inferred for ImageNet networks) to record every convolution's input size, stride
and padding; then each method's whole-network computation is run ``warmup`` times untimed and ``repeats``
times timed, interleaved round robin, with CUDA synchronisation around each call. LipBound uses PolyGrid
with S = ``lipbound_samples`` for every kernel size (thesis: S only stated for 3x3) and no (1-α)⁻¹ factor,
with the outer sum of Eq. 5.38 over ``lipbound_outer`` (``cout``, the thesis's Eq. 5.38, L5736-5746, by
default; ``smaller`` sums over min(cin, cout), also a valid bound, tighter and cheaper when cin < cout). The
grid values are computed from each row's tap Gram matrix (the autocorrelation evaluator of
:mod:`toeplitznet.bounds.lipbound`, exact on the grid), not by the grid loop of Alg. 5.1. The power method
keeps one persistent vector per layer, as in training. Extra columns (not in the thesis) when listed in
``methods``: ``lipbound_smaller`` (the smaller-dimension form, with its own speed-up ratio) and Gram iteration
(Delattre et al. 2023, circular operator of each layer's input size).

Ratio = mean PM time / mean LipBound time (the thesis's column is close to, but not always exactly, the
ratio of its means). The timings themselves are never compared with the thesis's (other hardware); the
ratios are, as the claim "faster by a factor up to 12" (L6083): ours at least the thesis's.
"""

from __future__ import annotations

import logging
import time

from ...registry import IMPLEMENTED, Item


#: JSON schema of ``studies.table_5_2`` (validated before any job runs; unknown keys are errors)
SCHEMA = """
type: object
additionalProperties: false
required: [networks, input_size, methods, lipbound_samples, lipbound_outer, power_iterations, gram_iterations,
           warmup, repeats]
properties:
  networks:
    type: array
    minItems: 1
    uniqueItems: true
    items:
      enum: [alexnet, resnet18, resnet34, resnet50, resnet101, resnet152, densenet121, densenet161,
             densenet169, densenet201, vgg11, vgg13, vgg16, vgg19, wide_resnet50_2, squeezenet1_0,
             squeezenet1_1]
  input_size: {type: integer, minimum: 32}
  methods:
    type: array
    minItems: 1
    uniqueItems: true
    items: {enum: [lipbound, power_method, lipbound_smaller, gram_iteration, gram_iteration_zero_padding]}
  lipbound_samples: {type: integer, minimum: 3}
  lipbound_outer:
    description: channel dimension of the outer sum of Eq. 5.38 (cout = the thesis; smaller = min(cin, cout))
    enum: [cout, smaller, cin]
  power_iterations: {$ref: "#/$defs/posint"}
  gram_iterations: {$ref: "#/$defs/nonnegint"}
  warmup: {$ref: "#/$defs/nonnegint"}
  repeats: {$ref: "#/$defs/posint"}
"""
ITEM = Item(id="table_5_2", kind="table", title="LipBound vs power method on 17 networks (time)",
            thesis_lines="L6030-6085", status=IMPLEMENTED, schema=SCHEMA, gpu=True, threads="config")


def _networks() -> dict[str, str]:
    """torchvision name -> the thesis's row label (imported lazily: torch is not needed to declare the item)."""
    from ...bounds.timing import TABLE_5_2_NETWORKS

    return TABLE_5_2_NETWORKS


#: method -> column label (the first two are the thesis's)
COLUMNS = {
    "lipbound": "LipBound (ms)",
    "power_method": "Power Method (ms)",
    "lipbound_smaller": "LipBound, smaller-dimension sum (ms)",
    "gram_iteration": "Gram iteration (ms)",
    "gram_iteration_zero_padding": "Gram iteration zero-padding (ms)",
}

#: speed-up of the smaller-dimension LipBound (not in thesis)
RATIO_SMALLER = "Ratio (smaller-dimension LipBound)"

log = logging.getLogger("toeplitznet")


def build_network(name: str):
    """A torchvision network with random weights (no download)."""
    import torchvision

    if name not in _networks():
        raise KeyError(f"unknown network {name!r}; known: {', '.join(_networks())}")
    return getattr(torchvision.models, name)(weights=None)


def method_kwargs(p: dict) -> dict:
    return {
        "lipbound": {"n_samples": int(p["lipbound_samples"]), "outer": str(p.get("lipbound_outer", "cout"))},
        "lipbound_smaller": {"n_samples": int(p["lipbound_samples"])},
        "power_method": {"n_iter": int(p["power_iterations"])},
        "gram_iteration": {"n_iter": int(p["gram_iterations"])},
        "gram_iteration_zero_padding": {"n_iter": int(p["gram_iterations"])},
    }


def network_cells(label: str, timing: dict, methods) -> list[dict]:
    """Cells of one network: mean ± std time per method and the ratio PM / LipBound."""
    cells = [{"row": label, "column": COLUMNS[m], "value": timing[m]["mean_ms"], "plus_minus": timing[m]["std_ms"]}
             for m in methods]
    if "lipbound" in methods and "power_method" in methods:
        cells.append({"row": label, "column": "Ratio",
                      "value": timing["power_method"]["mean_ms"] / timing["lipbound"]["mean_ms"]})
    if "lipbound_smaller" in methods and "power_method" in methods:
        cells.append({"row": label, "column": RATIO_SMALLER,
                      "value": timing["power_method"]["mean_ms"] / timing["lipbound_smaller"]["mean_ms"]})
    cells.append({"row": label, "column": "conv layers", "value": int(timing["n_layers"])})
    return cells


def run(ctx) -> None:
    import torch

    from ...bounds import time_network_bounds
    from ...runtime import device_name

    device = ctx.torch_device()
    p = ctx.params
    methods = list(p["methods"])
    n = int(p["input_size"])
    results, cells = {}, []
    for name in p["networks"]:
        torch.manual_seed(ctx.seed)
        model = build_network(name)
        t0 = time.perf_counter()
        timing = time_network_bounds(model, (1, 3, n, n), methods=methods, repeats=int(p["repeats"]),
                                     warmup=int(p["warmup"]), device=device, method_kwargs=method_kwargs(p))
        wall = time.perf_counter() - t0
        # sanity: LipBound (stride-1 bound) should not be below the power method's lower estimate
        lb_ge_pm = None
        if "lipbound" in timing and "power_method" in timing:
            lb_ge_pm = sum(a >= b * (1 - 1e-3) for a, b in zip(timing["lipbound"]["values"],
                                                                 timing["power_method"]["values"]))
        results[name] = {"label": _networks()[name], "wall_s": wall, "layers_lipbound_ge_pm": lb_ge_pm, **timing}
        cells += network_cells(_networks()[name], timing, methods)
        log.info("table_5_2 %s: %s (%.1f s)", name, ", ".join(f"{m} {timing[m]['mean_ms']:.1f} ms" for m in methods),
                 wall)
        del model
    ratios = [c["value"] for c in cells if c["column"] == "Ratio"]
    if ratios:
        cells.append({"row": "LipBound vs PM", "column": "max speed-up", "value": max(ratios)})
    smaller = [c["value"] for c in cells if c["column"] == RATIO_SMALLER]
    if smaller:
        cells.append({"row": "LipBound vs PM", "column": f"max speed-up ({RATIO_SMALLER[7:-1]})",
                      "value": max(smaller)})
    dev_name = device_name(device)
    notes = [
        f"Device: {dev_name} (thesis: not stated for this table; Table 5.1 used a Tesla V100).",
        f"Networks: torchvision, random weights, input 1x3x{n}x{n}; {p['warmup']} warm-up + {p['repeats']} timed "
        f"calls per method (round robin), mean ± std. LipBound: PolyGrid S = {p['lipbound_samples']}, no "
        f"(1-alpha)^-1 factor, outer sum over {p.get('lipbound_outer', 'cout')} (Eq. 5.38 sums over cout), grid "
        f"values from the taps' Gram matrices (not Alg. 5.1's loop); power method: {p['power_iterations']} "
        "iterations, persistent vector per layer.",
        "Absolute times are not compared with the thesis's (other hardware); the Ratio column is, against the claim "
        "'faster by a factor up to 12' (L6083): ours at least the thesis's ratio."
        + (f" '{RATIO_SMALLER}' (not in thesis) is the speed-up of the smaller-dimension LipBound."
           if "lipbound_smaller" in methods else ""),
        f"Networks timed: {', '.join(_networks()[x] for x in p['networks'])}; rows of the others are pending at this "
        "scale." if len(p["networks"]) < len(_networks()) else "All 17 networks of the thesis.",
    ]
    ctx.write_result("result", {"item": "table_5_2", "device": str(device), "device_name": dev_name,
                                "seeds": [ctx.seed],  # the networks' random weights (timing does not depend on them)
                                "input_size": n, "methods": methods, "networks": results, "cells": cells,
                                "notes": notes})
