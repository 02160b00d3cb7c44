"""Chapter 4 (diagonal-circulant networks): the training runs behind the items, as plain data (no torch).

Every Chapter 4 item that trains networks (Figures 4.2, 4.4, 4.5, ECAI Figure 2(a), Tables 4.1, 4.2, 4.5;
Figure 4.6 reads Table 4.5) declares ``DATASET`` (the thesis's dataset) and ``labels(section)`` (one dict
per network, in plotting order) in its module; :func:`item_specs` turns them into run specs of the generic
rule ``train_run`` (:mod:`toeplitznet.runs.train_job`). A run's id names its dataset and architecture
(``cifar10_dcnn_d2_lrelu0p5``), so two items asking for the same network share one run (the 2- and 5-layer
DCNNs of Table 4.1 are points of Figures 4.2 and 4.5). Ids are pure functions of the labels.

Architectures (thesis Section 4.5; parameter counts checked in ``tests/ch4_dcnn``):

* flattened-input MLPs (:func:`toeplitznet.models.structured_mlp`): ``depth`` hidden structured layers of
  the input width, each followed by the activation (every ``relu_every``-th layer only, ECAI Fig. 2(a)),
  and a structured output layer sliced to the 10 logits. DCNN: ``(3L+1)n + 20`` weights, i.e. 21 524 and
  49 172 for L = 2, 5 on n = 3072 (the counts in the thesis's own figure data; "21K", "49K");
* Table 4.1 LDR rows: one LDR layer + a dense layer (Thomas et al. 2018; :func:`toeplitznet.models.ldr_net`);
* Table 4.2: 8 DC layers of width 1024 on the 784 MNIST pixels (ECAI Table 3: 25 620 weights, exact);
* Table 4.5 / Figure 4.6: fixed scattering (J = 2, L = 8) + batch norm + DC / LDR head
  (:class:`toeplitznet.models.ScatteringNet`), trained on scattering features computed once per dataset by
  the study ``ch4_scattering``.

The aggregation helpers at the end turn run metrics (plain dicts) into cells and series.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

#: image shapes (C, H, W) of the datasets (facts; duplicated here so that no torch import is needed)
SHAPES: dict[str, tuple[int, int, int]] = {
    "cifar10": (3, 32, 32),
    "cifar100": (3, 32, 32),
    "mnist": (1, 28, 28),
    "fashion_mnist": (1, 28, 28),
}
N_CLASSES = {"cifar10": 10, "cifar100": 100, "mnist": 10, "fashion_mnist": 10}

#: the thesis's input sizes; the "paper architecture" of a run uses these whatever the scale
THESIS_SHAPES = {"cifar10": (3, 32, 32), "mnist": (1, 28, 28)}


# ----------------------------------------------------------------------------------------------- ids
def _num(v: float | int) -> str:
    """Number as it appears in a run id: 0.5 -> '0p5', 2 -> '2', 1e-3 -> '0p001'."""
    if isinstance(v, bool):
        raise TypeError("booleans are not numbers here")
    if isinstance(v, int) or float(v).is_integer():
        return str(int(v))
    return repr(float(v)).replace("-", "m").replace(".", "p")


def _act(activation: str, slope: float | None) -> str:
    a = activation.lower()
    if a in ("leaky_relu", "lrelu", "leakyrelu"):
        return f"lrelu{_num(slope if slope is not None else 0.3)}"
    if a in ("identity", "linear", "none"):
        return "linear"
    return a


def run_id(dataset: str, labels: Mapping[str, Any]) -> str:
    """Readable, stable id of a run from its dataset and labels (only ``[a-z0-9_]``)."""
    fam = labels["family"]
    parts = [dataset]
    if fam == "scattering":
        parts += [f"scat_J{labels['J']}L{labels['L']}", labels["head"]]
        if labels["head"] == "dc":
            parts += [f"d{labels['depth']}", _act(labels["activation"], labels.get("slope"))]
        else:
            parts.append(f"r{labels['rank']}")
    elif fam == "ldr_net":
        parts += ["ldrnet", labels["kind"], f"r{labels['rank']}", _act(labels["activation"], labels.get("slope"))]
    else:
        parts += [fam, f"d{labels['depth']}"]
        if labels.get("width"):
            parts.append(f"w{labels['width']}")
        if labels.get("rank") is not None:
            parts.append(f"r{labels['rank']}")
        if labels.get("init"):
            parts.append(labels["init"])
        parts.append(_act(labels["activation"], labels.get("slope")))
        if labels.get("relu_every", 1) != 1:
            parts.append(f"every{labels['relu_every']}")
    rid = "_".join(str(p) for p in parts).lower()
    if not all(c.isalnum() or c == "_" for c in rid):
        raise ValueError(f"run id {rid!r} has characters outside [a-z0-9_]")
    return rid


# ------------------------------------------------------------------------------------------- labels
def mlp_labels(family: str, depth: int, activation: str, slope: float | None = None, relu_every: int = 1,
         width: int | None = None, rank: int | None = None, init: str | None = None) -> dict[str, Any]:
    a = activation.lower()
    lab: dict[str, Any] = {"family": family, "depth": int(depth), "activation": a,
                           "slope": float(slope) if a == "leaky_relu" else None}
    # a network without any activation is linear whatever relu_every says: canonicalise, so that
    # e.g. "ReLU every 3rd layer" at depth 2 is the same run as a linear network of depth 2
    every = int(relu_every)
    if a not in ("identity", "linear", "none") and every > int(depth):
        lab.update(activation="identity", slope=None)
        every = 1
    if lab["activation"] in ("identity", "linear", "none"):
        every = 1
    lab["relu_every"] = every
    if width is not None:
        lab["width"] = int(width)
    if rank is not None:
        lab["rank"] = int(rank)
    if init is not None:
        lab["init"] = str(init)
    return lab


def _model_spec(labels: Mapping[str, Any], shape: Sequence[int], n_classes: int) -> dict[str, Any]:
    """``toeplitznet.models.build_model`` spec of a run (without the seed)."""
    lab = dict(labels)
    fam = lab.pop("family")
    if fam == "scattering":
        spec = {"family": "scattering", "head": lab["head"], "J": lab["J"], "L": lab["L"],
                "input_shape": list(shape), "n_classes": n_classes}
        if lab["head"] == "dc":
            spec.update(depth=lab["depth"], activation=lab["activation"], slope=lab["slope"] or 0.0)
        else:
            spec["rank"] = lab["rank"]
        return spec
    if fam == "ldr_net":
        return {"family": "ldr_net", "kind": lab["kind"], "rank": lab["rank"], "activation": lab["activation"],
                "slope": lab.get("slope") or 0.0, "input_shape": list(shape), "n_classes": n_classes}
    spec = {"family": fam, "depth": lab["depth"], "activation": lab["activation"],
            "slope": lab["slope"] if lab["slope"] is not None else 0.0, "relu_every": lab["relu_every"],
            "input_shape": list(shape), "n_classes": n_classes}
    if "width" in lab:
        spec["width"] = lab["width"]
    if "rank" in lab:
        spec["rank"] = lab["rank"]
    if "init" in lab:
        spec["init"] = lab["init"]
    return spec


def series_label(labels: Mapping[str, Any]) -> str:
    """Legend text of a run's family (figures)."""
    fam = labels["family"]
    names = {"dcnn": "DCNN", "dtnn": "DTNN", "toeplitz": "Toeplitz network", "lowrank": "Low-rank network",
             "dense": "Dense", "acdc": "ACDC"}
    if fam in names:
        return names[fam]
    if fam == "scattering":
        return {"dc": "Scattering + DC", "ldr_sd": "Scattering + LDR-SD", "toeplitz_like": "Scattering + Toeplitz-like",
                "ldr_td": "Scattering + LDR-TD"}[labels["head"]]
    if fam == "ldr_net":
        return {"tridiagonal": "LDR-TD", "toeplitz": "Toeplitz-like", "subdiagonal": "LDR-SD"}[labels["kind"]]
    return fam


# ----------------------------------------------------------------------------------------- expansion
def _studies(config: Mapping[str, Any]) -> Mapping[str, Any]:
    return config["studies"]


def item_module(item: str):
    """The module of a Chapter 4 item (its ``DATASET`` and ``labels``)."""
    return importlib.import_module(f"{__package__}.{item}")


def data_source(config: Mapping[str, Any], dataset: str) -> str:
    """Dataset actually read for a thesis dataset at this scale (``studies.ch4_train.datasets``)."""
    return _studies(config)["ch4_train"]["datasets"][dataset]


def train_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """The :class:`toeplitznet.train.TrainConfig` dict shared by all runs (``studies.ch4_train``)."""
    t = _studies(config)["ch4_train"]
    values = [float(v) for v in t["lr_values"]]
    return {
        "optimizer": t["optimizer"],
        "lr": values[0],
        "schedule": {"type": "piecewise", "boundaries": [int(b) for b in t["lr_boundaries"]], "values": values,
                     "unit": "step"},
        "epochs": int(t["epochs"]),
        "batch_size": int(t["batch_size"]),
        "seed": int(config["seed"]),
        "eval_every": int(t["eval_every"]),
        "loss": "cross_entropy",
        "log_every": int(t["log_every"]),
        "device": "cuda" if config["device"] == "cuda" else ("cpu" if config["device"] == "cpu" else "auto"),
        "progress": False,
    }


def run_spec(config: Mapping[str, Any], item: str, labels: Mapping[str, Any], paths=None,
             shapes=None) -> dict[str, Any]:
    """The run spec of one network of ``item`` (see :mod:`toeplitznet.plan`). ``shapes`` overrides the input
    shapes (the thesis's, for the parameter-count check); ``paths`` (a :class:`toeplitznet.plan.Paths`) fills
    in the input files."""
    dataset = item_module(item).DATASET
    source = data_source(config, dataset)
    t = _studies(config)["ch4_train"]
    # the network's input is the data it reads (the stand-in at smoke scale), unless the caller asks for
    # other input shapes
    shape = SHAPES[source] if shapes is None else shapes[dataset]
    rid = run_id(dataset, labels)
    model = _model_spec(labels, shape, N_CLASSES[dataset])
    if labels["family"] in ("toeplitz", "dtnn"):
        # output layer: the square Toeplitz matrix sliced to the logits (2n - 1 diagonals), as the DC output
        # layer is a sliced square DC layer; the counting that reproduces the x values of the thesis's
        # Figure 4.5 data (studies.ch4_train.toeplitz_output, docs/deviations.md)
        model["slice_square"] = t["toeplitz_output"] == "sliced_square"
    scattering = labels["family"] == "scattering"
    model["seed"] = int(config["seed"])
    if t["normalize"] and not scattering:
        # per-channel standardisation is the model's first layer (inputs stay in [0, 1] pixel space); the
        # statistics are those of the dataset actually read (the smoke stand-in's at smoke scale)
        model["normalize"] = source
    data = {"dataset": dataset, "source": source, "features": "features" if scattering else None,
            "trainable": ["bn", "head"] if scattering else None, "flatten": True,
            "train_subset": t["train_subset"], "test_subset": t["test_subset"], "normalize": bool(t["normalize"]),
            "eval_batch_size": 1000}
    inputs = {}
    if paths is not None:
        inputs = ({"features": paths.result("ch4_scattering", "features")} if scattering
                  else {"manifest": paths.manifest(source)})
    return {"id": rid, "inputs": inputs, "model": model, "data": data,
            "train": dict(train_settings(config), meta={"run": rid}), "labels": dict(labels),
            # the scattering heads are counted with the batch norm's running statistics (Table 4.5)
            "count": {"include_bn_stats": scattering}, "gpu": True}


def item_specs(config: Mapping[str, Any], item: str, paths=None, shapes=None) -> dict[str, dict[str, Any]]:
    """``{run_id: spec}`` of one item, in plotting order."""
    out: dict[str, dict[str, Any]] = {}
    for lab in item_module(item).labels(_studies(config)[item]):
        spec = run_spec(config, item, lab, paths, shapes)
        if spec["id"] in out and out[spec["id"]] != spec:  # pragma: no cover - ids are functions of the labels
            raise ValueError(f"{item}: run id {spec['id']} names two different networks")
        out[spec["id"]] = spec
    return out


def item_runs(config: Mapping[str, Any], item: str) -> list[str]:
    """Ids of the runs ``item`` reads, in plotting order."""
    return list(item_specs(config, item))


def metrics_inputs(config: Mapping[str, Any], item: str, paths) -> dict[str, str]:
    """Study inputs of an aggregating item: ``{run_id: metrics.json, run_id__model: model.pt}``. The weights
    are inputs too: the reported numbers are those of these weights, so a retrained run reruns the item
    (and the provenance of the item hashes them)."""
    out: dict[str, str] = {}
    for rid in item_runs(config, item):
        out[rid] = paths.run(rid, "metrics.json")
        out[f"{rid}__model"] = paths.run(rid, "model.pt")
    return out


def paper_architectures(config: Mapping[str, Any], items: Iterable[str],
                        scattering: Mapping[str, int] | None = None) -> dict[str, dict[str, Any]]:
    """The runs of ``items`` built at the thesis's input sizes (3072-d CIFAR-10, 784-d MNIST) whatever the
    scale: what ``param_counts_ch4`` counts (no training). ``scattering`` (``{"J", "L"}``, default
    ``studies.param_counts_ch4.scattering``) replaces the scattering parameters of the scale's config, so
    that a cheaper smoke scattering still checks the paper architecture."""
    if scattering is None:
        scattering = _studies(config).get("param_counts_ch4", {}).get("scattering")
    if scattering:
        config = {**config, "studies": {**_studies(config), "table_4_5": {
            **_studies(config)["table_4_5"], "J": int(scattering["J"]), "L": int(scattering["L"])}}}
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        for rid, spec in item_specs(config, item, shapes=THESIS_SHAPES).items():
            model = {k: v for k, v in spec["model"].items() if k not in ("seed", "normalize")}
            out.setdefault(item, {})[rid] = {"id": rid, "labels": spec["labels"], "model": model}
    return out


def check_config(config: Mapping[str, Any]) -> None:
    """Consistency checks of ``studies.ch4_train`` the JSON schema cannot express (``ValueError`` naming the
    config key)."""
    t = _studies(config)["ch4_train"]
    b, v = list(t["lr_boundaries"]), list(t["lr_values"])
    if len(v) != len(b) + 1:
        raise ValueError(f"config key studies.ch4_train.lr_values: needs len(lr_boundaries) + 1 = {len(b) + 1} "
                         f"values (the lr before the first boundary, then one per boundary), got {len(v)}")
    if any(y <= x for x, y in zip(b, b[1:])):
        raise ValueError(f"config key studies.ch4_train.lr_boundaries: must be strictly increasing, got {b}")
    for ds, src in t["datasets"].items():
        if SHAPES.get(src) is None:
            raise ValueError(f"config key studies.ch4_train.datasets.{ds}: unknown dataset {src!r}")


# ------------------------------------------------------------------------------------- aggregation
def final_accuracy(metrics: Mapping[str, Any]) -> float | None:
    """Test accuracy after the last epoch (no selection on the test set); None when the run diverged."""
    if metrics.get("status") == "diverged":
        return None
    ev = metrics.get("final_eval", {}).get("test") or {}
    return ev.get("accuracy")


def accuracy_or_chance(metrics: Mapping[str, Any], n_classes: int = 10) -> float:
    """Final test accuracy, or chance level for a diverged run (how the thesis plots them: 0.1)."""
    acc = final_accuracy(metrics)
    return 1.0 / n_classes if acc is None else float(acc)


def n_weights(metrics: Mapping[str, Any]) -> int:
    """Parameter count of a run as the thesis counts it (``n_params_thesis`` when the job set it)."""
    return int(metrics.get("n_params_thesis", metrics["n_params"]))


def curves(metrics: Mapping[str, Any]) -> dict[str, list]:
    """Per-epoch training loss and test accuracy (Figure 4.4)."""
    ep, loss, acc = [], [], []
    for h in metrics.get("history", []):
        ep.append(h["epoch"])
        loss.append(h["train"]["loss"])
        acc.append(((h.get("eval") or {}).get("test") or {}).get("accuracy"))
    return {"epoch": ep, "train_loss": loss, "test_accuracy": acc}


def row_label(item: str, labels: Mapping[str, Any]) -> str:
    """The thesis's row label of a run in ``item``'s table (the item module's ``row_label``)."""
    return item_module(item).row_label(labels)


def table_cells(item: str, runs: Sequence[Mapping[str, Any]], *, count_unit: float = 1e3,
                dense_unit: float = 1e6) -> list[dict[str, Any]]:
    """'#Parameters' and 'Accuracy' cells of Tables 4.1 and 4.5 from run metrics.

    ``runs`` are metrics dicts carrying ``labels``. Counts are in the thesis's units (K; M for the dense
    network of Table 4.1).
    """
    cells = []
    for m in runs:
        row = row_label(item, m["labels"])
        count = n_weights(m)
        unit = dense_unit if row == "Dense" else count_unit
        cells.append({"row": row, "column": "#Parameters", "value": count / unit})
        cells.append({"row": row, "column": "Accuracy", "value": final_accuracy(m), **seed_stats(m)})
    return cells


def best_run(runs: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    scored = [(final_accuracy(m), m) for m in runs if final_accuracy(m) is not None]
    if not scored:
        return None
    return max(scored, key=lambda t: t[0])[1]


def _span(values) -> str:
    vals = sorted({v for v in values if v is not None})
    if not vals:
        return "?"
    return f"{vals[0]:,}" if len(vals) == 1 else f"{vals[0]:,}-{vals[-1]:,}"


def schedule_note(metrics_list: Sequence[Mapping[str, Any]]) -> str | None:
    """One sentence on the lr boundaries the runs actually reached, computed from the runs themselves: their
    epochs, steps per epoch and optimizer steps (MNIST has 300 steps per epoch at batch 200, CIFAR-10 250),
    and which boundaries their schedule never reached."""
    if not metrics_list:
        return None
    reached = sorted({b for m in metrics_list for b in m.get("schedule_boundaries_reached", [])})
    not_reached = sorted({b for m in metrics_list for b in m.get("schedule_boundaries_not_reached", [])})
    steps = _span(m.get("steps") for m in metrics_list)
    epochs = _span(m.get("epochs") for m in metrics_list)
    per_epoch = _span(m.get("steps_per_epoch") for m in metrics_list)
    planned = _span(m.get("planned_steps") for m in metrics_list)
    text = (f"Learning-rate schedule: boundaries reached {reached or 'none'}, never reached {not_reached or 'none'}. "
            f"The runs were planned as {epochs} epochs x {per_epoch} steps per epoch = {planned} optimizer steps "
            f"and made {steps}")
    if not_reached:
        text += f", so the drops at {', '.join(f'{b:,}' for b in not_reached)} steps never happen"
    return text + "."


def seed_stats(metrics: Mapping[str, Any], scale: float = 1.0) -> dict[str, Any]:
    """``plus_minus`` (std over seeds) and ``n_seeds`` cell keys of a merged run (:mod:`toeplitznet.runs.seeds`)."""
    from ...runs.seeds import seed_stats as _stats

    return _stats(metrics, scale)


def run_seed(metrics: Mapping[str, Any]) -> int | None:
    """The training seed of a run (its train config's ``seed``, else its model's init seed)."""
    for where in ((metrics.get("config") or {}), (metrics.get("model") or {})):
        if where.get("seed") is not None:
            return int(where["seed"])
    return None


def seeds_of(metrics_list: Sequence[Mapping[str, Any]]) -> list[int]:
    """The distinct training seeds behind a list of runs (what the rendered tables state)."""
    return sorted({s for s in (run_seed(m) for m in metrics_list) if s is not None})


def stand_in_of(metrics_list: Sequence[Mapping[str, Any]]) -> str | None:
    notes = sorted({m["stand_in"] for m in metrics_list if m.get("stand_in")})
    return "; ".join(notes) if notes else None
