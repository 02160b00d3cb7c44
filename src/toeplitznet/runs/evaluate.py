"""Rule ``evaluate_run``: one evaluation of a trained run, ``results/<scale>/runs/<run>/eval/<id>.json``.

``ctx.params`` is ``{"run": the run's resolved spec, "evaluation": {"id", "kind", ...settings}}``; the
evaluation's ``kind`` selects a function ``evaluate(model, data, spec, device) -> dict`` from
:data:`EVALUATIONS` (name -> ``module:function``, imported on demand, so registering one imports nothing).
The robustness and appendix chapters add their attacks here with :func:`register_evaluation`.

Built in: ``accuracy`` (natural test accuracy of the saved weights on the run's test data, eval mode); the
attacks of :mod:`.robust_eval` (``pgd``, ``cw_l2``, ``autoattack``, ``certified``, ``jacobian_norm``).
"""

from __future__ import annotations

import importlib
import logging

log = logging.getLogger("toeplitznet.runs")

OUTPUTS = {"result": "evaluation.json"}

EVALUATIONS: dict[str, str] = {
    "accuracy": "toeplitznet.runs.evaluate:accuracy",
    # Section 5.5 and the appendices (toeplitznet.runs.robust_eval)
    **{k: f"toeplitznet.runs.robust_eval:{k}" for k in ("pgd", "cw_l2", "autoattack", "certified", "jacobian_norm")},
    # Appendix C (toeplitznet.runs.randomized_eval) and Appendix D (toeplitznet.runs.multinorm_eval)
    **{k: f"toeplitznet.runs.randomized_eval:{k}" for k in ("noisy_accuracy", "guarantee", "smoothing", "ead_l1",
                                                                   "eot_attack", "suite")},
    **{k: f"toeplitznet.runs.multinorm_eval:{k}" for k in ("adv_norms", "cw_regions")},
}


def register_evaluation(kind: str, target: str) -> None:
    """Register ``kind`` -> ``"package.module:function"``."""
    if ":" not in target:
        raise ValueError(f"evaluation {kind}: target must be 'module:function', got {target!r}")
    EVALUATIONS[kind] = target


def _function(kind: str):
    if kind not in EVALUATIONS:
        raise KeyError(f"unknown evaluation kind {kind!r}; known: {', '.join(sorted(EVALUATIONS))}")
    mod, fn = EVALUATIONS[kind].split(":")
    return getattr(importlib.import_module(mod), fn)


def load_model(run_spec: dict, path, device):
    """The run's model with its trained weights (``weights_only=True``: no pickled code is executed)."""
    import torch

    from ..models import build_model

    model = build_model(run_spec["model"])
    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    return model.to(device).eval()


def accuracy(model, data, spec: dict, device) -> dict:
    """Natural accuracy on the test split: ``{"accuracy", "n", "correct"}``."""
    import torch

    _, (x, y) = data
    bs = int(spec.get("batch_size", 1000))
    correct = 0
    with torch.no_grad():
        for i in range(0, len(y), bs):
            correct += int((model(x[i:i + bs].to(device)).argmax(1).cpu() == y[i:i + bs]).sum())
    return {"accuracy": correct / len(y), "n": int(len(y)), "correct": correct}


def run(ctx) -> None:
    from .train_job import load_data

    p = ctx.params
    run_spec, spec = p["run"], p["evaluation"]
    if run_spec["data"].get("features"):
        raise ValueError(f"evaluation {spec['id']} of run {run_spec['id']}: runs trained on precomputed features "
                         "are evaluated on those features by their training job; not supported here")
    device = ctx.torch_device()
    model = load_model(run_spec, ctx.input("model"), device)
    data = load_data(run_spec["data"], ctx.inputs, ctx.seed, train=False)
    out = _function(spec["kind"])(model, data, spec, device)
    log.info("run %s, evaluation %s: %s", run_spec["id"], spec["id"], out)
    ctx.write_result("result", {"item": "evaluation", "run_id": run_spec["id"], "evaluation": spec, **out})
