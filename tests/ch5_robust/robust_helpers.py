"""Hand-made Section 5.5 run metrics and evaluation results laid out as a study's inputs."""
import json
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SMOKE = yaml.safe_load((ROOT / "config/config.yaml").read_text())
PAPER = yaml.safe_load((ROOT / "config/paper.yaml").read_text())


def write_inputs(tmp: Path, runs: dict, evals: dict) -> dict:
    """``runs = {input name: labels}`` (names with ``__seed<k>`` for replicas), ``evals = {input name:
    result}``; returns the study's ``{name: path}``."""
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
