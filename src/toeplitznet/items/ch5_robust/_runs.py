"""Run and evaluation specs of Section 5.5 (``studies.ch5_robust_train``), and reading their results.

Arms (thesis L6160-6176, S7/S8): ``baseline`` (natural training), ``at`` (Madry et al. PGD-ℓ∞ adversarial
training), ``at_pm`` (AT + the regulariser with the power method of Farnia et al.), ``at_lipreg`` (AT + the
regulariser with LipBound, Eq. 5.56), ``lipreg`` (the regulariser alone: Figure 5.4(a)). One AT+PM / AT+LipReg
/ LipReg run per value of ``lipreg.c2.<dataset>`` (Table 5.4 has two). Pure Python (no torch import).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DATASETS = ("cifar10", "cifar100", "imagenet")
N_CLASSES = {"cifar10": 10, "cifar100": 100, "imagenet": 1000, "fashion_mnist": 10}
SHAPES = {"cifar10": (3, 32, 32), "cifar100": (3, 32, 32), "imagenet": (3, 224, 224), "fashion_mnist": (1, 28, 28)}
#: (adversarial training, regulariser method)
ARMS = {"baseline": (False, None), "at": (True, None), "at_pm": (True, "power_method"),
        "at_lipreg": (True, "lipbound"), "lipreg": (False, "lipbound")}
IMAGENET_EVAL_IMAGES = 10_000
ROW = {"baseline": "Baseline", "at": "AT", "at_pm": "AT+PM", "at_lipreg": "AT+LipReg", "lipreg": "LipReg"}


def _section(config: Mapping[str, Any]) -> Mapping[str, Any]:
    return config["studies"]["ch5_robust_train"]


def _num(v: float) -> str:
    return f"{float(v):g}".replace(".", "p").replace("-", "m")


def block(dataset: str) -> str:
    """Training / evaluation block of a thesis dataset: ``cifar`` (S7) or ``imagenet`` (S8)."""
    return "imagenet" if dataset == "imagenet" else "cifar"


def source(config, dataset: str) -> str:
    return _section(config)["datasets"][dataset]


def arm_runs(config, dataset: str, arm: str) -> list[dict[str, Any]]:
    """``[{"id", "arm", "c2", "row"}]``: one run per C2 value for the regularised arms."""
    at, method = ARMS[arm]
    if method is None:
        return [{"id": f"ch5_{dataset}_{arm}", "arm": arm, "c2": None, "row": ROW[arm]}]
    c2s = [float(c) for c in _section(config)["lipreg"]["c2"][dataset]]
    out = []
    for c2 in c2s:
        row = ROW[arm] + (f" (C2 = {c2:.4f})" if len(c2s) > 1 else "")
        out.append({"id": f"ch5_{dataset}_{arm}_c2_{_num(c2)}", "arm": arm, "c2": c2, "row": row})
    return out


def dataset_runs(config, dataset: str, arms=None) -> list[dict[str, Any]]:
    """Every run of ``dataset`` (``arms`` default: ``arms.<dataset>``), in the thesis's row order."""
    arms = list(_section(config)["arms"][dataset]) if arms is None else [a for a in arms
                                                                          if a in _section(config)["arms"][dataset]]
    return [r for a in ARMS if a in arms for r in arm_runs(config, dataset, a)]


def _device(config) -> str:
    return "cuda" if config["device"] == "cuda" else ("cpu" if config["device"] == "cpu" else "auto")


def run_spec(config, dataset: str, run: Mapping[str, Any], paths=None) -> dict[str, Any]:
    """The run spec (see :mod:`toeplitznet.plan`) of one arm; ``robust`` carries the training attack and the
    regulariser (:mod:`toeplitznet.runs.robust`)."""
    s = _section(config)
    t = s["train"][block(dataset)]
    src = source(config, dataset)
    shape = SHAPES[src]
    at, method = ARMS[run["arm"]]
    model = dict(t["model"])
    model.update({"num_classes": N_CLASSES[src], "normalize": src, "seed": int(config["seed"])})
    if model["family"] == "wide_resnet":
        model["in_channels"] = shape[0]
    lip = s["lipreg"]
    weight_decay = float(t["weight_decay"])
    reg = None
    if method is not None:
        reg = {"method": method, "c1": float(lip["c1"]), "c1_form": lip["c1_form"], "c2": float(run["c2"]),
               "samples": int(lip["samples"]), "grid": lip["grid"], "outer": lip["outer"], "power_iters": int(lip["power_iters"]),
               "input_shape": list(shape)}
        if lip["c1_form"] == "weight_decay":
            weight_decay += float(lip["c1"])
    attack = None
    if at:
        a = t["attack"]
        attack = {"norm": "linf", "eps": float(a["eps"]), "step": float(a["step"]), "steps": int(a["steps"]),
                  "random_start": True, "labels": s["attack_labels"], "mode": s["attack_mode"]}
    train = {"optimizer": "sgd", "lr": float(t["lr"]), "momentum": float(t["momentum"]),
             "nesterov": bool(t["nesterov"]), "weight_decay": weight_decay,
             "schedule": ({"type": "multistep", "milestones": [int(m) for m in t["milestones"]],
                           "gamma": float(t["gamma"])} if t["milestones"] else {"type": "constant"}),
             "epochs": int(t["epochs"]) if t["max_steps"] is None else None,
             "max_steps": None if t["max_steps"] is None else int(t["max_steps"]),
             "batch_size": int(t["batch_size"]), "seed": int(config["seed"]),
             "label_smoothing": float(t["label_smoothing"]), "ema_decay": t["ema_decay"],
             "eval_every": 10**6, "log_every": 10, "device": _device(config), "progress": False,
             "amp": s["amp"], "channels_last": bool(s["channels_last"]), "drop_last": True,
             "meta": {"run": run["id"], "section": "5.5", "dataset": dataset}}
    if train["epochs"] is None:
        train.pop("epochs")
    data = {"dataset": dataset, "source": src, "features": None, "flatten": False,
            "train_subset": s["train_subset"], "test_subset": s["test_subset"],
            "eval_batch_size": int(s["eval_batch_size"])}
    if src == "imagenet" and data["test_subset"] is None:
        # the attacked images are held in memory: a seeded 10,000-image subset of the 50,000 validation images
        # (the thesis does not say how many it attacked; docs/deviations.md)
        data["test_subset"] = IMAGENET_EVAL_IMAGES
    inputs = {"manifest": paths.manifest(src)} if paths is not None else {}
    return {"id": run["id"], "inputs": inputs, "model": model, "data": data, "train": train,
            "robust": {"attack": attack, "regularizer": reg, "augment": dict(t["augment"]),
                       "nproc": int(s["nproc"])},
            "labels": {"dataset": dataset, "arm": run["arm"], "c2": run["c2"], "row": run["row"]},
            "count": {}, "gpu": True}


def specs(config, datasets, paths=None, arms=None) -> dict[str, dict[str, Any]]:
    out = {}
    for ds in datasets:
        for r in dataset_runs(config, ds, arms):
            out[r["id"]] = run_spec(config, ds, r, paths)
    return out


# ------------------------------------------------------------------------------------------ evaluations
def eval_specs(config, dataset: str, kinds=("pgd_linf", "cw_l2", "autoattack")
               ) -> dict[str, dict[str, Any]]:
    """``{eval_id: spec}`` of the attacks of the thesis's table for ``dataset`` (block ``eval.<block>``)."""
    s = _section(config)
    e = s["eval"][block(dataset)]
    common = {"examples": s["eval_examples"], "batch_size": int(s["eval_batch_size"])}
    out: dict[str, dict[str, Any]] = {}
    if "natural" in kinds:
        out["natural"] = {"kind": "accuracy", "batch_size": int(s["eval_batch_size"])}
    if "pgd_linf" in kinds:
        p = e["pgd_linf"]
        for eps in p["eps"]:
            out[f"pgd_linf_{_num(eps)}"] = {"kind": "pgd", "norm": "linf", "eps": float(eps),
                                            "step": float(eps) * float(p["step_fraction"]), "steps": int(p["steps"]),
                                            "restarts": int(p["restarts"]),
                                            "record": sorted({int(k) for k in p["record"] if int(k) <= int(p["steps"])}),
                                            **common}
    if "cw_l2" in kinds:
        c = e["cw_l2"]
        out["cw_l2"] = {"kind": "cw_l2", "bounds": [float(b) for b in c["bounds"]],
                        "binary_search_steps": int(c["binary_search_steps"]), "steps": int(c["steps"]),
                        "lr": float(c["lr"]), "initial_const": float(c["initial_const"]),
                        "confidence": float(c["confidence"]), **common}
    if "autoattack" in kinds and e.get("autoattack"):
        a = e["autoattack"]
        out[f"autoattack_linf_{_num(a['eps'])}"] = {"kind": "autoattack", "norm": "linf", "eps": float(a["eps"]),
                                                    "version": a["version"], "steps": int(a["steps"]),
                                                    "n_target_classes": int(a["n_target_classes"]),
                                                    "square_queries": int(a["square_queries"]), **common}
    return out


def certified_spec(config, dataset: str, radii) -> dict[str, Any]:
    """The clean-input evaluation of a table: natural accuracy on the whole test split (``examples: null``), the
    product of layer bounds and the certified accuracy at ``radii`` (one job)."""
    s = _section(config)
    return {"kind": "certified", "radii": [float(r) for r in radii],
            "input_shape": list(SHAPES[source(config, dataset)]), "samples": int(s["lipreg"]["samples"]),
            "examples": None, "batch_size": int(s["eval_batch_size"])}


def check_config(config) -> None:
    """Cross-field checks (``ValueError`` naming the config key)."""
    s = _section(config)
    for blk in ("cifar", "imagenet"):
        t = s["train"][blk]
        ms = list(t["milestones"])
        if any(b <= a for a, b in zip(ms, ms[1:])):
            raise ValueError(f"config key studies.ch5_robust_train.train.{blk}.milestones: must be strictly "
                             f"increasing, got {ms}")
        if t["attack"]["step"] > t["attack"]["eps"]:
            raise ValueError(f"config key studies.ch5_robust_train.train.{blk}.attack.step: larger than eps "
                             f"({t['attack']['step']} > {t['attack']['eps']})")
        if t["batch_size"] % int(s["nproc"]):
            raise ValueError(f"config key studies.ch5_robust_train.train.{blk}.batch_size: {t['batch_size']} is "
                             f"not divisible by nproc = {s['nproc']} (the batch is global)")
    for ds in DATASETS:
        src = s["datasets"][ds]
        if src not in SHAPES:
            raise ValueError(f"config key studies.ch5_robust_train.datasets.{ds}: unknown dataset {src!r}")
