"""Helpers of the Chapter 4 tests: the two config files, hand-made run metrics, parameter counts of built
models, the thesis's figure data, and an item study run on hand-made metrics (no training)."""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path

from conftest import ROOT
from toeplitznet.config import load_config
from toeplitznet.items.ch4_dcnn import _runs

SMOKE = load_config(ROOT / "config/config.yaml")
PAPER = load_config(ROOT / "config/paper.yaml", check_paths=False)


_PLANS: dict = {}


def plan_of(cfg):
    """``build_plan(cfg)``, built once per session for the two config files (read-only use: tests that
    change a config build their own plan)."""
    from toeplitznet.plan import build_plan

    if cfg is SMOKE or cfg is PAPER:
        if cfg["scale"] not in _PLANS:
            _PLANS[cfg["scale"]] = build_plan(cfg)
        return _PLANS[cfg["scale"]]
    return build_plan(cfg)


def clone(cfg):
    return copy.deepcopy(cfg)


def ref(name):
    """Rows of a figure-data CSV of the thesis (reference/figure_data)."""
    with open(ROOT / "reference/figure_data" / name, newline="") as fh:
        return list(csv.DictReader(fh))


def metrics(labels, acc, n, status="finished", history=None, dataset="cifar10"):
    """Metrics of a finished (or diverged) run as rule train_run writes them (the keys the items read)."""
    return {"run_id": _runs.run_id(dataset, labels), "labels": labels, "status": status, "n_params": n,
            "final_eval": {"test": {"accuracy": acc}} if acc is not None else {}, "history": history or [],
            "schedule_boundaries_reached": [], "schedule_boundaries_not_reached": [40000, 60000, 80000],
            "steps": 90, "stand_in": "X stands in for Y", "_source": "x.json"}


def count(spec, **kw):
    """Parameters of ``build_model(spec)`` (``include_bn_stats`` ...), built independently of the study."""
    from toeplitznet.models import build_model, count_parameters

    return count_parameters(build_model(spec), **kw)


def run_on_metrics(item, cfg, tmp_path, acc=lambda spec: 0.5, n=lambda spec: 1000):
    """Run ``item``'s study on hand-made metrics of exactly its runs; returns the result dict."""
    from toeplitznet.studies.runner import run_from_cli

    inputs = {}
    for rid, spec in _runs.item_specs(cfg, item).items():
        m = metrics(spec["labels"], acc(spec), n(spec), dataset=_runs.item_module(item).DATASET)
        assert m["run_id"] == rid
        m.pop("_source")
        path = Path(tmp_path) / "runs" / f"{rid}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(m))
        inputs[rid] = str(path)
        # the runs' weights are inputs too (provenance and rebuilds); the aggregation never reads them
        weights = path.with_suffix(".pt")
        weights.write_bytes(b"not read")
        inputs[f"{rid}__model"] = str(weights)
    ctx = run_from_cli(item, cfg, Path(tmp_path) / "out", inputs=inputs)
    return json.loads(Path(ctx.outputs["result"]).read_text())
