"""One Chapter 4 training run (rule ``train_ch4``): build the network, train it with the shared trainer,
write its metrics.

``ctx.params`` is the run's resolved spec from :func:`toeplitznet.studies.ch4_runs.job_config`::

    {"run": id, "labels": {...}, "model": build_model spec, "data": {...}, "train": TrainConfig dict,
     "checkpoint_dir": "work/checkpoints/<scale>/ch4/<id>-<hash>"}

Data: the thesis dataset (CIFAR-10, MNIST) or its configured stand-in (Fashion-MNIST at the smoke scale,
``studies.ch4_train.datasets``), flattened, standardised per channel with the training-set statistics of
:data:`toeplitznet.data.MEAN` / :data:`~toeplitznet.data.STD` (the thesis does not state its
preprocessing; no augmentation). Scattering runs read the features computed once by ``ch4_scattering``
and train the batch norm + head on them (the scattering transform is fixed, so this is the same network).

The trainer's checkpoints live in ``checkpoint_dir``: a killed job resumes where it stopped. A run whose
loss becomes NaN is recorded with ``status: "diverged"`` (the thesis plots such runs at chance level,
Figure 4.2) instead of failing the DAG.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

OUTPUTS = {"metrics": "metrics.json"}

log = logging.getLogger("toeplitznet.ch4")

#: metrics keys copied from the trainer's output (the step trace is thinned, the rest is small)
_KEEP = ("status", "run_hash", "config_hash", "config", "epochs", "epochs_completed", "steps", "planned_steps",
         "steps_per_epoch", "n_params", "n_trainable_params", "device", "device_name", "final_train", "final_eval",
         "best_eval", "schedule", "schedule_boundaries_reached", "schedule_boundaries_not_reached", "lr_final",
         "history", "step_trace", "timing", "run", "diverged")


def load_data(data: dict, inputs: dict, seed: int):
    """``((x_train, y_train), (x_test, y_test))`` for a run's data settings."""
    import torch

    from ..data import load_split

    if data["features"] == "scattering":
        blob = torch.load(inputs["features"], map_location="cpu", weights_only=True)
        return (blob["train_x"], blob["train_y"]), (blob["test_x"], blob["test_y"])
    root = Path(inputs["manifest"]).parent
    src = data["source"]
    # pixels in [0, 1]; ``data["normalize"]`` is applied by the model's first layer (job_config sets the model
    # spec's ``normalize``), not here
    xtr, ytr = load_split(src, root, "train", flatten=True, subset=data["train_subset"], seed=seed)
    xte, yte = load_split(src, root, "test", flatten=True, subset=data["test_subset"], seed=seed)
    return (xtr, ytr), (xte, yte)


def check_stand_in(data: dict, scale: str) -> str | None:
    """The stand-in sentence of the data layer; refuses a config that disagrees with it."""
    from ..data import stand_in

    used, note = stand_in(data["dataset"], scale)
    if data["source"] != data["dataset"] and data["source"] != used:
        raise ValueError(f"studies.ch4_train.datasets maps {data['dataset']} to {data['source']}, but the data layer's "
                         f"stand-in at scale {scale} is {used}")
    if data["source"] == data["dataset"]:
        return None
    return note or f"{data['source']} stands in for {data['dataset']}"


def build(spec: dict):
    """``(model_to_train, thesis_count)``: scattering networks are trained on precomputed features."""
    import torch.nn as nn

    from ..models import ScatteringNet, build_model, count_parameters

    model = build_model(spec)
    if isinstance(model, ScatteringNet):
        class _Head(nn.Module):
            """Batch norm + head of a :class:`ScatteringNet` applied to precomputed scattering features."""

            def __init__(self, net):
                super().__init__()
                self.bn, self.head = net.bn, net.head

            def forward(self, f):
                return self.head(self.bn(f))

        return _Head(model), count_parameters(model, include_bn_stats=True)
    return model, count_parameters(model)


def run(ctx) -> None:
    from torch.utils.data import TensorDataset

    from ..data import make_loader
    from ..train import TrainingDivergedError, train

    p = ctx.params
    if "run" not in p:
        raise ValueError("ch4_train trains one run of rule train_ch4, whose config is "
                         "toeplitznet.studies.ch4_runs.job_config(config, run_id); build it through Snakemake, "
                         "e.g. `snakemake results/smoke/ch4_runs/cifar10_dcnn_d2_lrelu0p5/metrics.json`")
    device = ctx.torch_device()  # also sets the CPU threads
    train_cfg = dict(p["train"])
    if train_cfg.get("device", "auto") == "auto":
        train_cfg["device"] = str(device)
    note = check_stand_in(p["data"], ctx.scale)
    (xtr, ytr), (xte, yte) = load_data(p["data"], ctx.inputs, ctx.seed)
    model, thesis_count = build(p["model"])
    log.info("run %s: %s, %d training / %d test examples, %d weights (thesis convention %d)", p["run"],
             p["labels"], len(ytr), len(yte), sum(q.numel() for q in model.parameters()), thesis_count)
    test = make_loader(xte, yte, batch_size=1000, shuffle=False)
    out_dir = Path(p["checkpoint_dir"])
    try:
        metrics = train(model, TensorDataset(xtr, ytr), {"test": test}, train_cfg, out_dir)
    except TrainingDivergedError as exc:
        log.warning("run %s diverged: %s", p["run"], exc)
        metrics = json.loads((out_dir / "metrics.json").read_text())
    result = {k: metrics[k] for k in _KEEP if k in metrics}
    result.update({
        "item": "ch4_run", "run_id": p["run"], "labels": p["labels"], "model": p["model"], "data": p["data"],
        "n_params_thesis": int(thesis_count), "n_train": int(len(ytr)), "n_test": int(len(yte)),
        "stand_in": note, "checkpoint_dir": str(out_dir),
    })
    ctx.write_result("metrics", result)
