"""Configs, a fake study context and hand-made Appendix D evaluation records laid out as a study's inputs."""
import json
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SMOKE = yaml.safe_load((ROOT / "config/config.yaml").read_text())
PAPER = yaml.safe_load((ROOT / "config/paper.yaml").read_text())


def write_inputs(tmp: Path, runs: dict, evals: dict) -> dict:
    """``runs = {input name: labels}`` (``__seed<k>`` names for replicas), ``evals = {input name: result}``."""
    out = {}
    for name, labels in runs.items():
        seed = int(name.split("__seed")[1]) if "__seed" in name else 0
        p = tmp / f"{name}.json"
        p.write_text(json.dumps({"run_id": name, "labels": labels, "seed": seed, "stand_in": None}))
        out[name] = str(p)
    for name, res in evals.items():
        p = tmp / f"{name}.json"
        p.write_text(json.dumps(res))
        out[name] = str(p)
    return out


class Ctx:
    """The part of a study context an item's ``run`` uses."""

    def __init__(self, inputs, params):
        self.inputs, self.params, self.written = inputs, params, {}

    def write_result(self, name, res):
        self.written[name] = res


def record(robust, clean, linf, l2):
    """One attack's per-example record of an ``adv_norms`` evaluation."""
    return {"robust": list(robust), "clean_correct": list(clean), "linf": list(linf), "l2": list(l2),
            "accuracy": sum(robust) / len(robust)}
