"""Rule ``train_run``: train one run spec and write its weights and metrics.

``ctx.params`` is the run's resolved spec (:func:`toeplitznet.plan.run_job_config`)::

    {"id", "model": build_model spec (with its init seed), "train": TrainConfig dict,
     "data": {"dataset": the thesis's dataset, "source": the dataset read (a stand-in at smoke scale),
              "features": input name of precomputed features or null, "trainable": modules trained on the
              features (e.g. ["bn", "head"]), "flatten": bool, "train_subset", "test_subset",
              "eval_batch_size"},
     "count": {"include_bn_stats": bool}, "labels": {...}, "checkpoint_dir": resumable state}

Data without ``features`` come from the dataset of input ``manifest`` (pixels in [0, 1]; standardisation is
the model's first layer); YouTube-8M runs (``dataset: youtube8m``, keys ``level``, ``n_classes``, ``max_frames``,
``split_halves``) read the converted shards of their level's manifest (:mod:`toeplitznet.runs.yt8m_data`). A run whose loss becomes NaN is recorded with ``status: "diverged"`` (the thesis
draws such runs at chance level) instead of failing the DAG; its weights are still written.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

log = logging.getLogger("toeplitznet.runs")

OUTPUTS = {"model": "model.pt", "metrics": "metrics.json"}

#: trainer metrics copied into metrics.json (the step trace is thinned by the trainer, the rest is small)
KEEP = ("status", "run_hash", "config_hash", "config", "epochs", "epochs_completed", "steps", "planned_steps",
        "steps_per_epoch", "n_params", "n_trainable_params", "device", "device_name", "final_train", "final_eval",
        "best_eval", "schedule", "schedule_boundaries_reached", "schedule_boundaries_not_reached", "lr_final",
        "history", "step_trace", "timing", "run", "diverged")


def load_data(data: dict, inputs: dict, seed: int, train: bool = True):
    """``((x_train, y_train), (x_test, y_test))`` of a run's data spec (``(None, None)`` for the training split
    when ``train`` is false: evaluations read the test split only)."""
    import torch

    from ..data import load_split

    if data["source"] == "imagenet":
        from .imagenet_data import eval_tensors

        n = data.get("test_subset")
        if n is None:
            raise ValueError("ImageNet evaluation needs studies.ch5_robust_train.test_subset (the attacked images are "
                             "held in memory; the 50,000 validation images are ~30 GB as float tensors)")
        return (None, None), eval_tensors(inputs, int(n), seed)
    if data.get("features"):
        blob = torch.load(inputs[data["features"]], map_location="cpu", weights_only=True)
        return (blob["train_x"], blob["train_y"]), (blob["test_x"], blob["test_y"])
    root = Path(inputs["manifest"]).parent
    flat = bool(data.get("flatten", False))
    xtr, ytr = (load_split(data["source"], root, "train", flatten=flat, subset=data["train_subset"], seed=seed)
                if train else (None, None))
    xte, yte = load_split(data["source"], root, "test", flatten=flat, subset=data["test_subset"], seed=seed)
    return (xtr, ytr), (xte, yte)


def stand_in_note(data: dict, scale: str) -> str | None:
    """The data layer's stand-in sentence; refuses a spec that disagrees with the data layer."""
    from ..data import stand_in

    if data["dataset"] == "youtube8m":
        from .yt8m_data import stand_in_note as yt8m_note

        return yt8m_note(data)
    used, note = stand_in(data["dataset"], scale)
    if data["source"] != data["dataset"] and data["source"] != used:
        raise ValueError(f"run reads {data['source']} for {data['dataset']}, but the data layer's stand-in at "
                         f"scale {scale} is {used}")
    if data["source"] == data["dataset"]:
        return None
    return note or f"{data['source']} stands in for {data['dataset']}"


def trained_module(model, data: dict):
    """The module the optimiser sees: the whole model, or the listed sub-modules applied in order to
    precomputed features (a fixed front end such as the scattering transform is not re-run)."""
    if not data.get("features"):
        return model
    import torch.nn as nn

    class FeatureHead(nn.Module):
        def __init__(self, net, names):
            super().__init__()
            self.names = list(names)
            for n in self.names:
                self.add_module(n, getattr(net, n))

        def forward(self, f):
            for n in self.names:
                f = getattr(self, n)(f)
            return f

    return FeatureHead(model, data["trainable"])


def resolve_epochs(train_cfg: dict, n_train: int) -> dict:
    """``epochs: null`` with ``max_steps``: as many epochs as the step budget needs."""
    cfg = dict(train_cfg)
    if cfg.get("epochs") is None:
        per_epoch = math.ceil(n_train / int(cfg["batch_size"]))
        cfg["epochs"] = max(1, math.ceil(int(cfg["max_steps"]) / per_epoch))
    return cfg


def fit(p: dict, inputs: dict, seed: int, device: str) -> tuple:
    """Train run spec ``p``: ``(model, metrics, thesis_count, n_train, n_test)``. Under ``torchrun`` (DDP) every
    rank calls it; rank 0 writes the checkpoints and metrics."""
    from torch.utils.data import TensorDataset

    from ..data import make_loader
    from ..models import build_model, count_parameters
    from ..train import TrainingDivergedError, train
    from .robust import training_hooks

    if p["data"]["dataset"] == "youtube8m":
        from .yt8m_data import datasets

        train_data, test = datasets(p["data"], inputs, seed)
        n_train, n_test = len(train_data), len(test.dataset)
    elif p["data"]["source"] == "imagenet":
        from torch.utils.data import DataLoader

        from .imagenet_data import eval_set, train_set

        train_data = train_set(inputs)
        test_data = eval_set(inputs, p["data"].get("test_subset"), seed)
        n_train, n_test = len(train_data), len(test_data)
        test = DataLoader(test_data, batch_size=int(p["data"].get("eval_batch_size", 200)), num_workers=8)
    else:
        (xtr, ytr), (xte, yte) = load_data(p["data"], inputs, seed)
        train_data, n_train, n_test = TensorDataset(xtr, ytr), len(ytr), len(yte)
        test = make_loader(xte, yte, batch_size=int(p["data"].get("eval_batch_size", 1000)), shuffle=False)
    model = build_model(p["model"])
    thesis_count = count_parameters(model, include_bn_stats=bool(p.get("count", {}).get("include_bn_stats")))
    net = trained_module(model, p["data"])
    train_cfg = resolve_epochs(p["train"], n_train)
    if train_cfg.get("device", "auto") == "auto":
        train_cfg["device"] = device
    log.info("run %s: %d training / %d test examples, %d weights (thesis convention %d)", p["id"], n_train,
             n_test, sum(q.numel() for q in net.parameters()), thesis_count)
    out_dir = Path(p["checkpoint_dir"])
    hooks = training_hooks(net, p.get("robust"))
    try:
        metrics = train(net, train_data, {"test": test}, train_cfg, out_dir, hooks=hooks or None,
                        num_workers=8 if p["data"]["source"] == "imagenet" else 0)
    except TrainingDivergedError as exc:
        log.warning("run %s diverged: %s", p["id"], exc)
        metrics = json.loads((out_dir / "metrics.json").read_text())
    return model, metrics, thesis_count, n_train, n_test


def worker(params: dict, inputs: dict, seed: int, device: str = "auto") -> None:
    """Entry of one ``torchrun`` process (:mod:`toeplitznet.runs.ddp_worker`): trains, rank 0 writes (also the
    data sizes, ``data_sizes.json``, for the parent's metrics)."""
    from ..io import atomic_write_json
    from ..train.distributed import is_main

    _, _, _, n_train, n_test = fit(params, inputs, seed, device)
    if is_main():
        atomic_write_json(Path(params["checkpoint_dir"]) / "data_sizes.json", {"n_train": n_train, "n_test": n_test})


def _fit_distributed(p: dict, inputs: dict, seed: int, nproc: int) -> tuple:
    """Train on ``nproc`` processes with torch.distributed (DDP under torchrun), then read what rank 0 wrote."""
    from ..io import atomic_write_json
    from ..models import build_model, count_parameters
    from ..train import load_weights
    from ..train.distributed import launch

    out_dir = Path(p["checkpoint_dir"])
    out_dir.mkdir(parents=True, exist_ok=True)
    payload = out_dir / "ddp_payload.json"
    atomic_write_json(payload, {"entry": "toeplitznet.runs.train_job:worker",
                                "kwargs": {"params": p, "inputs": {k: str(v) for k, v in inputs.items()},
                                           "seed": int(seed), "device": "auto"}})
    launch(nproc, "toeplitznet.runs.ddp_worker", [str(payload)])
    model = build_model(p["model"])
    load_weights(trained_module(model, p["data"]), out_dir)
    metrics = json.loads((out_dir / "metrics.json").read_text())
    thesis_count = count_parameters(model, include_bn_stats=bool(p.get("count", {}).get("include_bn_stats")))
    sizes = json.loads((out_dir / "data_sizes.json").read_text())
    return model, metrics, thesis_count, sizes["n_train"], sizes["n_test"]


def run(ctx) -> None:
    from ..train import atomic_torch_save

    p = ctx.params
    note = stand_in_note(p["data"], ctx.scale)
    nproc = int((p.get("robust") or {}).get("nproc", 1))
    if nproc > 1:
        model, metrics, thesis_count, n_train, n_test = _fit_distributed(p, ctx.inputs, ctx.seed, nproc)
    else:
        model, metrics, thesis_count, n_train, n_test = fit(p, ctx.inputs, ctx.seed, str(ctx.torch_device()))
    out_dir = Path(p["checkpoint_dir"])
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    atomic_torch_save(state, ctx.output("model"))
    ctx.prov.write_sidecar(ctx.output("model"))
    result = {k: metrics[k] for k in KEEP if k in metrics}
    result.update({
        "item": "run", "run_id": p["id"], "replica_of": p.get("replica_of"), "seed": int(p["train"].get("seed", ctx.seed)),
        "labels": p.get("labels", {}), "model": p["model"], "data": p["data"], "robust": p.get("robust"),
        "n_params_thesis": int(thesis_count), "n_train": n_train, "n_test": n_test,
        "stand_in": note, "checkpoint_dir": str(out_dir), "weights": str(ctx.output("model")),
    })
    ctx.write_result("metrics", result)
