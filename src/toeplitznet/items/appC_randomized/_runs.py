"""Run and evaluation specs of Appendix C (``studies.appC_randomized_train``; thesis L7830-7860, settings S9).

A randomised run is a Wide ResNet trained and evaluated with noise on the image (model-spec key ``noise``,
:class:`toeplitznet.robust.noise.NoisyInput`), one run per (distribution, sd); ids
``appC_cifar10_<dist>_sd<sd>`` with the sd on the thesis's [-1, 1] scale. Every sd and budget in the config is
on that scale and is halved here for our [0, 1] pixels (a [-1, 1] image is 2x - 1: lengths in every ℓp norm and
standard deviations scale by 2; :func:`unit`). The noise-free baseline is ``appC_cifar10_none`` (``baseline:
own``, trained with these settings) or Section 5.5's ``ch5_cifar10_baseline`` (``baseline: ch5``).

Evaluations are expanded per run as ``{eval id: spec}``; with ``bundle: true`` all Appendix C evaluations of a
run (the union over the items) become one ``suite`` job (:func:`job_evals`): one process per run instead of one
per (run, attack), which is what the smoke budget allows. Pure Python (no torch import).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..ch5_robust import _runs as ch5

SECTION = "appC_randomized_train"
DATASET = "cifar10"
N_CLASSES = {"cifar10": 10, "fashion_mnist": 10}
SHAPES = {"cifar10": (3, 32, 32), "fashion_mnist": (1, 28, 28)}
DIST_ROW = {"gaussian": "Normal", "laplace": "Laplace"}
SUITE = "appC_suite"
#: the items of the appendix, in the order their evaluations are merged into a suite
ITEMS = ("fig_C_1", "fig_C_2", "fig_C_3", "table_C_1", "table_C_2")


def section(config: Mapping[str, Any]) -> Mapping[str, Any]:
    return config["studies"][SECTION]


def unit(v: float | None) -> float | None:
    """A length or sd on the thesis's [-1, 1] scale -> our [0, 1] pixels."""
    return None if v is None else float(v) / 2.0


num = ch5._num


def run_id(dist: str | None, sd: float | None = None) -> str:
    return "appC_cifar10_none" if dist is None else f"appC_cifar10_{dist}_sd{num(sd)}"


def baseline_id(config) -> str:
    return "ch5_cifar10_baseline" if section(config)["baseline"] == "ch5" else run_id(None)


def run_spec(config, dist: str | None, sd: float | None, paths=None) -> dict[str, Any]:
    """The run spec of a randomised WRN (``dist=None``: the noise-free baseline of ``baseline: own``)."""
    s = section(config)
    t = s["train"]
    src = s["dataset"]
    model = dict(t["model"])
    model.update({"num_classes": N_CLASSES[src], "normalize": src, "seed": int(config["seed"]),
                  "in_channels": SHAPES[src][0]})
    if dist is not None:
        model["noise"] = {"dist": dist, "sd": unit(sd), "clip": bool(s["noise_clip"])}
    values = [float(v) for v in t["lr_values"]]
    train = {"optimizer": "sgd", "lr": values[0], "momentum": float(t["momentum"]), "nesterov": bool(t["nesterov"]),
             "weight_decay": float(t["weight_decay"]),
             "schedule": {"type": "piecewise", "boundaries": [int(b) for b in t["lr_boundaries"]], "values": values,
                          "unit": "step"},
             "epochs": int(t["epochs"]), "batch_size": int(t["batch_size"]), "seed": int(config["seed"]),
             "label_smoothing": 0.0, "ema_decay": None, "eval_every": 10**6, "log_every": 10,
             "device": ch5._device(config), "progress": False, "amp": s["amp"],
             "channels_last": bool(s["channels_last"]), "drop_last": True,
             "meta": {"run": run_id(dist, sd), "section": "C.5", "dataset": DATASET}}
    if t["max_steps"] is not None:
        train.pop("epochs")
        train["max_steps"] = int(t["max_steps"])
    data = {"dataset": DATASET, "source": src, "features": None, "flatten": False, "train_subset": s["train_subset"],
            "test_subset": s["test_subset"], "eval_batch_size": int(s["eval_batch_size"])}
    rid = run_id(dist, sd)
    return {"id": rid, "inputs": {"manifest": paths.manifest(src)} if paths is not None else {}, "model": model,
            "data": data, "train": train,
            "robust": {"attack": None, "regularizer": None, "augment": dict(t["augment"]), "nproc": int(s["nproc"])},
            "labels": {"dataset": DATASET, "dist": dist, "sd": None if sd is None else float(sd),
                       "row": row_label(dist, sd)},
            "count": {}, "gpu": True}


def row_label(dist: str | None, sd: float | None, fmt: str = ".2f") -> str:
    return "No noise (baseline) [- -]" if dist is None else f"{DIST_ROW[dist]} sd {float(sd):{fmt}}"


def noise_runs(config, dists, sds, paths=None) -> dict[str, dict[str, Any]]:
    return {run_id(d, sd): run_spec(config, d, float(sd), paths) for d in dists for sd in sds}


def baseline_runs(config, paths=None) -> dict[str, dict[str, Any]]:
    """The noise-free model: our own run or Section 5.5's natural-training baseline (same spec as its items)."""
    if section(config)["baseline"] == "ch5":
        r = ch5.arm_runs(config, "cifar10", "baseline")[0]
        return {r["id"]: ch5.run_spec(config, "cifar10", r, paths)}
    return {run_id(None): run_spec(config, None, None, paths)}


def at_runs(config, paths=None) -> dict[str, dict[str, Any]]:
    """Section 5.5's adversarially trained WRN (Madry et al.'s method): ``ch5_cifar10_at``."""
    r = ch5.arm_runs(config, "cifar10", "at")[0]
    return {r["id"]: ch5.run_spec(config, "cifar10", r, paths)}


# ------------------------------------------------------------------------------------------ evaluations
def _common(config, attack: bool) -> dict[str, Any]:
    s = section(config)
    return {"batch_size": int(s["attack_batch_size" if attack else "eval_batch_size"]),
            "prediction": dict(s["prediction"]), "seed": int(config["seed"]), "gpu": True}


def natural(config) -> tuple[str, dict[str, Any]]:
    """Natural accuracy of a (randomised) model on the whole test split under the section's prediction rule."""
    p = section(config)["prediction"]
    return (f"natural_{p['rule']}_{int(p['draws'])}",
            {"kind": "noisy_accuracy", "examples": None, **_common(config, False)})


def guarantee(config, draws: int, examples: int | None) -> tuple[str, dict[str, Any]]:
    c = _common(config, False)
    c.pop("prediction")
    return (f"guarantee_d{int(draws)}_n{examples}",
            {"kind": "guarantee", "draws": int(draws), "examples": examples, **c})


def pgd(config, p, eot: int, examples, labels: str = "labels") -> tuple[str, dict[str, Any]]:
    eid = f"pgd_linf_e{num(p['eps'])}_s{int(p['steps'])}_eot{int(eot)}" + ("_pred" if labels == "predictions" else "")
    return eid, {"kind": "eot_attack", "attack": "pgd_linf", "eps": unit(p["eps"]), "step": unit(p["step"]),
                 "steps": int(p["steps"]), "restarts": int(p["restarts"]), "labels": labels, "eot_samples": int(eot),
                 "examples": examples, **_common(config, True)}


def _dim(config) -> int:
    return math.prod(SHAPES[section(config)["dataset"]])


def cw(config, p, eot: int, examples) -> tuple[str, dict[str, Any]]:
    """Bounded C&W-ℓ2 against the EoT model; ``bound: null`` = unbounded (the ℓ2 diameter of the pixel box)."""
    b = unit(p["bound"]) if p["bound"] is not None else math.sqrt(_dim(config))
    eid = f"cw_l2_b{num(p['bound']) if p['bound'] is not None else 'none'}_s{int(p['steps'])}_eot{int(eot)}"
    return eid, {"kind": "eot_attack", "attack": "cw_l2", "bound": b,
                 "binary_search_steps": int(p["binary_search_steps"]), "steps": int(p["steps"]), "lr": float(p["lr"]),
                 "initial_const": float(p["initial_const"]), "confidence": float(p["confidence"]),
                 "eot_samples": int(eot), "eot_form": section(config)["eot_form"], "examples": examples,
                 **_common(config, True)}


def ead(config, p, eot: int, examples) -> tuple[str, dict[str, Any]]:
    """EAD-ℓ1 against the EoT model; ``bound: null`` = unbounded (the ℓ1 diameter of the pixel box)."""
    b = unit(p["bound"]) if p["bound"] is not None else float(_dim(config))
    eid = f"ead_l1_b{num(p['bound']) if p['bound'] is not None else 'none'}_s{int(p['steps'])}_eot{int(eot)}"
    return eid, {"kind": "ead_l1", "bound": b, "binary_search_steps": int(p["binary_search_steps"]),
                 "steps": int(p["steps"]), "lr": float(p["lr"]), "initial_const": float(p["initial_const"]),
                 "confidence": float(p["confidence"]), "regularization": float(p["regularization"]),
                 "decision_rule": p["decision_rule"], "eot_samples": int(eot),
                 "eot_form": section(config)["eot_form"], "examples": examples, **_common(config, True)}


def autoattack(config, p, examples) -> tuple[str, dict[str, Any]]:
    eid = f"autoattack_rand_e{num(p['eps'])}_s{int(p['steps'])}_r{int(p['repeats'])}"
    return eid, {"kind": "eot_attack", "attack": "autoattack", "eps": unit(p["eps"]), "steps": int(p["steps"]),
                 "eot_iter": int(p["eot_iter"]), "repeats": int(p["repeats"]), "examples": examples,
                 **_common(config, True)}


def smoothing(config, p, examples) -> tuple[str, dict[str, Any]]:
    c = _common(config, False)
    c.pop("prediction")
    return (f"smoothing_n0{int(p['n0'])}_n{int(p['n'])}",
            {"kind": "smoothing", "n0": int(p["n0"]), "n": int(p["n"]), "alpha": float(p["alpha"]),
             "radii": [unit(r) for r in p["radii"]], "examples": examples, **c})


def job_evals(config, item_evals) -> dict[str, dict[str, dict[str, Any]]]:
    """The evaluation jobs of an item whose evaluations are ``item_evals = {run: {eval id: spec}}``: the same
    (one job per evaluation), or with ``bundle: true`` one ``suite`` per run holding every Appendix C evaluation
    of that run (the union over the appendix's items with a config section), so that items share it."""
    if not section(config)["bundle"]:
        return item_evals
    from importlib import import_module

    union: dict[str, dict[str, dict[str, Any]]] = {}
    for item in ITEMS:
        if item not in config["studies"]:
            continue
        for rid, ev in import_module(f"{__package__}.{item}").logical_evals(config).items():
            mine = union.setdefault(rid, {})
            for eid, spec in ev.items():
                if eid in mine and mine[eid] != spec:
                    raise ValueError(f"config key studies.{item}: evaluation {eid} of run {rid} has other settings "
                                     "than another Appendix C item's evaluation of the same id")
                mine[eid] = spec
    return {rid: {SUITE: {"kind": "suite", "parts": {e: dict(s) for e, s in sorted(union[rid].items())},
                          "gpu": True}} for rid in item_evals}


def check_config(config) -> None:
    """Cross-field checks (``ValueError`` naming the config key)."""
    s = section(config)
    t = s["train"]
    b, v = list(t["lr_boundaries"]), list(t["lr_values"])
    if any(y <= x for x, y in zip(b, b[1:])):
        raise ValueError(f"config key studies.{SECTION}.train.lr_boundaries: must be strictly increasing, got {b}")
    if len(v) != len(b) + 1:
        raise ValueError(f"config key studies.{SECTION}.train.lr_values: needs len(lr_boundaries) + 1 = {len(b) + 1} "
                         f"values, got {len(v)}")
    if t["batch_size"] % int(s["nproc"]):
        raise ValueError(f"config key studies.{SECTION}.train.batch_size: {t['batch_size']} is not divisible by "
                         f"nproc = {s['nproc']}")
    if s["baseline"] == "ch5" and "ch5_robust_train" not in config["studies"]:
        raise ValueError(f"config key studies.{SECTION}.baseline: 'ch5' needs the section studies.ch5_robust_train")
