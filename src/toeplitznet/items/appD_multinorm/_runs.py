"""Run and evaluation specs of Appendix D (``studies.appD_train``): the 11 defences of Table D.3 (L8310-8451).

Defences: ``baseline`` (natural training), ``at_linf`` / ``at_l2`` (Madry AT at ε∞ / ε2), ``mat_max`` /
``mat_rand`` (Eq. D.13 / D.12), ``ni_gaussian`` / ``ni_uniform`` (a :class:`~toeplitznet.robust.noise.NoisyInput`
model trained naturally), ``rat_{linf,l2}_{gaussian,uniform}`` (Eq. D.14: AT of the noisy model, the attack
going through the noise). With ``reuse_ch5`` Baseline and AT-ℓ∞ are Section 5.5's runs (same id, one job).
Pure Python (no torch import).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

SECTION = "appD_train"
#: defence -> (column of Table D.3, training attack: None | "linf" | "l2" | "max" | "rand", noise: None | dist)
DEFENCES: dict[str, tuple[str, str | None, str | None]] = {
    "baseline": ("Baseline", None, None),
    "at_linf": ("AT linf", "linf", None),
    "at_l2": ("AT l2", "l2", None),
    "mat_max": ("MAT Max", "max", None),
    "mat_rand": ("MAT Rand", "rand", None),
    "ni_gaussian": ("NI N", None, "gaussian"),
    "ni_uniform": ("NI U", None, "uniform"),
    "rat_linf_gaussian": ("RAT-linf N", "linf", "gaussian"),
    "rat_linf_uniform": ("RAT-linf U", "linf", "uniform"),
    "rat_l2_gaussian": ("RAT-l2 N", "l2", "gaussian"),
    "rat_l2_uniform": ("RAT-l2 U", "l2", "uniform"),
}
CH5_RUNS = {"baseline": "baseline", "at_linf": "at"}  # defence -> Section 5.5 arm (reuse_ch5)
SHAPES = {"cifar10": (3, 32, 32), "fashion_mnist": (1, 28, 28)}
EVAL_ID, CW_ID = "pgd_multinorm", "cw_regions"


def _section(config: Mapping[str, Any]) -> Mapping[str, Any]:
    return config["studies"][SECTION]


def label(defence: str) -> str:
    return DEFENCES[defence][0]


def noise_of(config, defence: str) -> dict[str, Any] | None:
    """The model spec's ``noise`` block of a defence (sd on [0, 1] pixels; uniform: sd = a / √3)."""
    dist = DEFENCES[defence][2]
    if dist is None:
        return None
    n = _section(config)["noise"]
    sd = float(n["gaussian_sd"]) if dist == "gaussian" else float(n["uniform_half_width"]) / math.sqrt(3.0)
    return {"dist": dist, "sd": sd, "clip": bool(n["clip"])}


def _one(config, norm: str) -> dict[str, Any]:
    s = _section(config)
    a, eps = s["train"]["attack"], float(s["eps"][norm])
    return {"norm": norm, "eps": eps, "step": eps * float(a["step_fraction"]), "steps": int(a["steps"])}


def train_attack(config, defence: str) -> dict[str, Any] | None:
    """The ``robust.attack`` block of a defence (:mod:`toeplitznet.runs.robust`)."""
    s = _section(config)
    kind = DEFENCES[defence][1]
    if kind is None:
        return None
    common = {"random_start": bool(s["train"]["attack"]["random_start"]), "labels": s["attack_labels"],
              "mode": s["attack_mode"], "eot_samples": int(s["train"]["attack"]["eot_samples"])
              if DEFENCES[defence][2] else 1}
    if kind in ("linf", "l2"):
        return {**_one(config, kind), **common}
    return {"kind": "mixed", "select": kind, "granularity": s["mat"]["granularity"],
            "attacks": [_one(config, "linf"), _one(config, "l2")], **common}


def run_id(config, defence: str) -> str:
    if _section(config)["reuse_ch5"] and defence in CH5_RUNS:
        return f"ch5_cifar10_{CH5_RUNS[defence]}"
    return f"appD_{defence}"


def _device(config) -> str:
    return config["device"] if config["device"] in ("cuda", "cpu") else "auto"


def run_spec(config, defence: str, paths=None) -> dict[str, Any]:
    """The run spec (see :mod:`toeplitznet.plan`) of one defence."""
    if defence not in DEFENCES:
        raise ValueError(f"unknown Appendix D defence {defence!r}; known: {', '.join(DEFENCES)}")
    if _section(config)["reuse_ch5"] and defence in CH5_RUNS:
        from ..ch5_robust import _runs as ch5

        arm = ch5.arm_runs(config, "cifar10", CH5_RUNS[defence])[0]
        return ch5.run_spec(config, "cifar10", arm, paths)
    s = _section(config)
    t, src = s["train"], s["source"]
    model = {**t["model"], "num_classes": 10, "normalize": src, "seed": int(config["seed"]),
             "in_channels": SHAPES[src][0]}
    noise = noise_of(config, defence)
    if noise:
        model["noise"] = noise
    rid = run_id(config, defence)
    train = {"optimizer": "sgd", "lr": float(t["lr"]), "momentum": float(t["momentum"]),
             "nesterov": bool(t["nesterov"]), "weight_decay": float(t["weight_decay"]),
             "schedule": ({"type": "multistep", "milestones": [int(m) for m in t["milestones"]],
                           "gamma": float(t["gamma"])} if t["milestones"] else {"type": "constant"}),
             "batch_size": int(t["batch_size"]), "seed": int(config["seed"]),
             "label_smoothing": float(t["label_smoothing"]), "ema_decay": t["ema_decay"],
             "eval_every": 10**6, "log_every": 10, "device": _device(config), "progress": False,
             "amp": s["amp"], "channels_last": bool(s["channels_last"]), "drop_last": True,
             "meta": {"run": rid, "section": "D.3", "dataset": "cifar10"}}
    if t["max_steps"] is None:
        train["epochs"] = int(t["epochs"])
    else:
        train["max_steps"] = int(t["max_steps"])
    data = {"dataset": "cifar10", "source": src, "features": None, "flatten": False,
            "train_subset": s["train_subset"], "test_subset": s["test_subset"],
            "eval_batch_size": int(s["eval_batch_size"])}
    return {"id": rid, "inputs": {"manifest": paths.manifest(src)} if paths is not None else {},
            "model": model, "data": data, "train": train,
            "robust": {"attack": train_attack(config, defence), "regularizer": None, "augment": dict(t["augment"]),
                       "nproc": int(s["nproc"])},
            "labels": {"dataset": "cifar10", "defence": defence, "row": label(defence)}, "count": {}, "gpu": True}


def specs(config, defences, paths=None) -> dict[str, dict[str, Any]]:
    """``{run id: spec}`` of ``defences`` (thesis order)."""
    return {run_id(config, d): run_spec(config, d, paths) for d in DEFENCES if d in defences}


def run_ids(config, defences) -> dict[str, str]:
    """``{defence: run id}`` (the studies read their runs through it: reused runs carry Section 5.5 labels)."""
    return {d: run_id(config, d) for d in DEFENCES if d in defences}


def eval_spec(config, defence: str) -> dict[str, Any]:
    """The ``adv_norms`` evaluation of a defence: natural accuracy, PGD-ℓ∞ and PGD-ℓ2 (EoT for the noise ones)."""
    s = _section(config)
    e = s["eval"]
    attacks = {}
    for norm in ("linf", "l2"):
        eps = float(s["eps"][norm])
        attacks[f"pgd_{norm}"] = {"norm": norm, "eps": eps, "step": eps * float(e["step_fraction"]),
                                  "steps": int(e["steps"]), "restarts": int(e["restarts"])}
    return {"kind": "adv_norms", "attacks": attacks,
            "eot_samples": int(e["eot_samples"]) if DEFENCES[defence][2] else 1, "accounting": e["accounting"],
            "examples": s["eval_examples"], "natural_examples": s["natural_examples"],
            "batch_size": int(s["eval_batch_size"])}


def eval_specs(config, defences) -> dict[str, dict[str, dict[str, Any]]]:
    """``{run id: {eval id: spec}}``: the one ``adv_norms`` evaluation of each defence."""
    return {run_id(config, d): {EVAL_ID: eval_spec(config, d)} for d in DEFENCES if d in defences}


def equal_volume_l2(eps_linf: float, d: int) -> float:
    """ℓ2 radius of the ball with the volume of the ℓ∞ ball of radius ``eps_linf`` in ``d`` dimensions."""
    return eps_linf * math.exp(math.lgamma(d / 2 + 1) / d) * 2 / math.sqrt(math.pi)


def check_config(config) -> None:
    """Cross-field checks (``ValueError`` naming the config key)."""
    s = _section(config)
    key = f"studies.{SECTION}"
    ms = list(s["train"]["milestones"])
    if any(b <= a for a, b in zip(ms, ms[1:])):
        raise ValueError(f"config key {key}.train.milestones: must be strictly increasing, got {ms}")
    if s["train"]["batch_size"] % int(s["nproc"]):
        raise ValueError(f"config key {key}.train.batch_size: {s['train']['batch_size']} is not divisible by "
                         f"nproc = {s['nproc']} (the batch is global)")
    if s["source"] not in SHAPES:
        raise ValueError(f"config key {key}.source: unknown dataset {s['source']!r}")
    if s["reuse_ch5"]:
        ch5 = config.get("studies", {}).get("ch5_robust_train")
        if ch5 is None:
            raise ValueError(f"config key {key}.reuse_ch5: true needs studies.ch5_robust_train")
        t5 = ch5["train"]["cifar"]
        want = {"source": (ch5["datasets"]["cifar10"], s["source"]),
                "test_subset": (ch5["test_subset"], s["test_subset"]),
                "train.model": (dict(t5["model"]), dict(s["train"]["model"])),
                "eps.linf": (float(t5["attack"]["eps"]), float(s["eps"]["linf"]))}
        for k, (a, b) in want.items():
            if a != b:
                raise ValueError(f"config key {key}.reuse_ch5: Baseline / AT-linf would be the Section 5.5 runs, but "
                                 f"{key}.{k} = {b!r} differs from studies.ch5_robust_train ({a!r}); set reuse_ch5: "
                                 "false or align the two")


def reuse_notes(config) -> list[str]:
    """What the reused Section 5.5 runs do differently from the other defences (an item note)."""
    s = _section(config)
    if not s["reuse_ch5"]:
        return []
    t5, t = config["studies"]["ch5_robust_train"]["train"]["cifar"], s["train"]
    diff = [k for k in ("epochs", "max_steps", "batch_size", "lr", "momentum", "nesterov", "weight_decay",
                        "milestones", "gamma", "label_smoothing", "ema_decay", "augment") if t5[k] != t[k]]
    a5 = t5["attack"]
    out = [f"Baseline and AT linf are Section 5.5's runs ch5_cifar10_baseline / ch5_cifar10_at (reuse_ch5: same model, "
           f"data and eps; AT step {a5['step']:g}, {a5['steps']} iterations)."]
    if diff:
        out.append("Their training differs from the other defences' in: " + ", ".join(
            f"{k} {t5[k]} vs {t[k]}" for k in diff) + ".")
    return out
