"""Chapter 4 (diagonal-circulant networks): the training runs behind every item, as plain data.

The Snakefile imports this module to build its DAG, so it is **pure Python: it never imports torch**.

Every Chapter 4 item that needs trained networks (Figures 4.2, 4.4, 4.5, 4.6, ECAI Figure 2(a), Tables
4.1, 4.2, 4.5) is expanded from its config section into *runs*. A run is one network trained once by the
generic rule ``train_ch4`` (study :mod:`toeplitznet.studies.ch4_train`); its id names its dataset and
architecture (``cifar10_dcnn_d2_lrelu0p5``), so two items asking for the same network share one run (the
2- and 5-layer DCNNs of Table 4.1 are points of Figures 4.2 and 4.5). Ids are pure functions of the model
spec: the same config always gives the same ids, in the same order.

:func:`expand_runs` gives ``{run_id: spec}`` for the whole config; :func:`item_runs` the ids one item
reads; :func:`job_config` the resolved config a training job runs with (its provenance records it).
:func:`row_label` turns a run's labels into the thesis's row label of a table, and the ``aggregate_*`` /
``*_from_metrics`` helpers turn run metrics (plain dicts) into table cells and figure series, so they can
be tested on hand-made metrics.

Architectures (thesis Section 4.5; parameter counts checked in ``tests/test_dcnn_studies.py``):

* flattened-input MLPs (:func:`toeplitznet.models.structured_mlp`): ``depth`` hidden structured layers of
  the input width, each followed by the activation (every ``relu_every``-th layer only, ECAI Fig. 2(a)),
  and a structured output layer sliced to the 10 logits. DCNN: ``(3L+1)n + 20`` weights, i.e. 21 524 and
  49 172 for L = 2, 5 on n = 3072 (the counts in the thesis's own figure data; "21K", "49K");
* Table 4.1 LDR rows: one LDR layer + a dense layer (Thomas et al. 2018; :func:`toeplitznet.models.ldr_net`);
* Table 4.2: 8 DC layers of width 1024 on the 784 MNIST pixels (ECAI Table 3: 25 620 weights, exact);
* Table 4.5 / Figure 4.6: fixed scattering (J = 2, L = 8) + batch norm + DC / LDR head
  (:class:`toeplitznet.models.ScatteringNet`), on scattering features computed once per dataset by the
  rule ``ch4_scattering``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

#: items expanded here (config key ``studies.<item>``) and the thesis dataset each one trains on
TRAINING_ITEMS = {
    "fig_4_2": "cifar10",
    "ecai_fig_2a": "cifar10",
    "fig_4_4": "cifar10",
    "fig_4_5": "cifar10",
    "table_4_1": "cifar10",
    "table_4_2": "mnist",
    "table_4_5": "cifar10",
}
#: Figure 4.6 draws the runs of Table 4.5 (the thesis shows the same six networks in both)
SHARED_ITEMS = {"fig_4_6": "table_4_5"}

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
def _mlp(family: str, depth: int, activation: str, slope: float | None = None, relu_every: int = 1,
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


def item_labels(item: str, p: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Labels of the runs of ``item`` from its config section ``p`` (in plotting order)."""
    out: list[dict[str, Any]] = []
    if item == "fig_4_2":
        for s in p["slopes"]:
            out += [_mlp("dcnn", d, "leaky_relu", s) for d in p["depths"]]
    elif item == "ecai_fig_2a":
        for k in p["relu_every"]:
            out += [_mlp("dcnn", d, p["activation"], p.get("slope"), relu_every=k) for d in p["depths"]]
    elif item == "fig_4_4":
        out += [_mlp("dcnn", d, p["activation"], p.get("slope")) for d in p["dcnn_depths"]]
        out += [_mlp("acdc", d, p["activation"], p.get("slope"), init=p["acdc_init"]) for d in p["acdc_depths"]]
    elif item == "fig_4_5":
        a, s = p["activation"], p["slope"]
        out.append(_mlp("dense", p["dense_depth"], a, s))
        out += [_mlp("dcnn", d, a, s) for d in p["dcnn_depths"]]
        out += [_mlp("dtnn", d, a, s) for d in p["dtnn_depths"]]
        out += [_mlp("toeplitz", d, a, s) for d in p["toeplitz_depths"]]
        out += [_mlp("lowrank", p["lowrank_depth"], a, s, rank=r) for r in p["lowrank_ranks"]]
    elif item == "table_4_1":
        out.append(_mlp("dense", p["dense_depth"], "leaky_relu", p["slope"]))
        out += [_mlp("dcnn", d, "leaky_relu", p["slope"]) for d in p["dcnn_depths"]]
        for kind, key in (("tridiagonal", "ldr_td_ranks"), ("toeplitz", "toeplitz_like_ranks")):
            for r in p[key]:
                out.append({"family": "ldr_net", "kind": kind, "rank": int(r), "activation": p["ldr_activation"],
                            "slope": None})
    elif item == "table_4_2":
        out.append(_mlp("dcnn", p["depth"], "leaky_relu", p["slope"], width=p["width"]))
    elif item == "table_4_5":
        common = {"family": "scattering", "J": int(p["J"]), "L": int(p["L"])}
        out += [{**common, "head": "dc", "depth": int(d), "activation": "leaky_relu", "slope": float(p["slope"])}
                for d in p["dc_depths"]]
        out += [{**common, "head": "ldr_sd", "rank": int(r)} for r in p["ldr_sd_ranks"]]
        out += [{**common, "head": "toeplitz_like", "rank": int(r)} for r in p["toeplitz_like_ranks"]]
    else:
        raise KeyError(f"{item} is not a Chapter 4 training item ({', '.join(TRAINING_ITEMS)})")
    return out


def row_label(item: str, labels: Mapping[str, Any]) -> str:
    """The thesis's row label of a run in a table (``reference/thesis_values.csv``)."""
    fam = labels["family"]
    if item == "table_4_1":
        if fam == "dense":
            return "Dense"
        if fam == "dcnn":
            return f"DCNN ({labels['depth']} layers)"
        if fam == "ldr_net":
            name = {"tridiagonal": "LDR-TD", "toeplitz": "Toeplitz-like", "subdiagonal": "LDR-SD"}[labels["kind"]]
            return f"{name} (r = {labels['rank']})"
    if item == "table_4_2" and fam == "dcnn":
        return "DCNN"
    if item == "table_4_5" and fam == "scattering":
        if labels["head"] == "dc":
            return f"DC ({labels['depth']} layers)"
        name = {"ldr_sd": "LDR-SD", "toeplitz_like": "Toeplitz-like", "ldr_td": "LDR-TD"}[labels["head"]]
        return f"{name} (r = {labels['rank']})"
    raise ValueError(f"no {item} row for a run labelled {dict(labels)}")


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


def data_source(config: Mapping[str, Any], dataset: str) -> str:
    """Dataset actually read for a thesis dataset at this scale (``studies.ch4_train.datasets``)."""
    return _studies(config)["ch4_train"]["datasets"][dataset]


def _run_entry(config: Mapping[str, Any], item: str, labels: Mapping[str, Any], shapes=None) -> tuple[str, dict]:
    dataset = TRAINING_ITEMS[item]
    source = data_source(config, dataset)
    # the network's input is the data it reads (the stand-in at smoke scale), unless the caller asks for
    # other input shapes (the thesis's, for the parameter-count check)
    shape = SHAPES[source] if shapes is None else shapes[dataset]
    rid = run_id(dataset, labels)
    model = _model_spec(labels, shape, N_CLASSES[dataset])
    if labels["family"] in ("toeplitz", "dtnn"):
        # output layer: the square Toeplitz matrix sliced to the logits (2n - 1 diagonals), as the DC output
        # layer is a sliced square DC layer; the counting that reproduces the x values of the thesis's
        # Figure 4.5 data (studies.ch4_train.toeplitz_output, docs/deviations.md)
        model["slice_square"] = _studies(config)["ch4_train"]["toeplitz_output"] == "sliced_square"
    spec = {"id": rid, "dataset": dataset, "source": source, "features": "scattering" if labels["family"] == "scattering" else None,
            "labels": dict(labels), "model": model}
    return rid, spec


def expand_item(config: Mapping[str, Any], item: str, shapes=None) -> dict[str, dict[str, Any]]:
    """``{run_id: spec}`` of one item, in plotting order (``shapes`` overrides the input shapes)."""
    item = SHARED_ITEMS.get(item, item)
    out: dict[str, dict[str, Any]] = {}
    for lab in item_labels(item, _studies(config)[item]):
        rid, spec = _run_entry(config, item, lab, shapes)
        if rid in out and out[rid] != spec:  # pragma: no cover - ids are functions of the spec
            raise ValueError(f"{item}: run id {rid} names two different networks")
        out[rid] = spec
    return out


def configured_items(config: Mapping[str, Any]) -> list[str]:
    """Training items that have a config section (both scales carry all of them)."""
    return [i for i in TRAINING_ITEMS if i in _studies(config)]


def expand_runs(config: Mapping[str, Any], items: Iterable[str] | None = None, shapes=None) -> dict[str, dict]:
    """All runs of the Chapter 4 items (default: every configured one), deduplicated by id.

    Raises ``ValueError`` when two items ask for the same id with different specs (never happens with
    ids derived from the spec; guarded because the DAG relies on it)."""
    runs: dict[str, dict[str, Any]] = {}
    for item in items if items is not None else configured_items(config):
        for rid, spec in expand_item(config, item, shapes).items():
            if rid in runs and runs[rid] != spec:
                raise ValueError(f"run {rid}: {item} asks for a different network than an earlier item")
            runs[rid] = spec
    return runs


def item_runs(config: Mapping[str, Any], item: str) -> list[str]:
    """Ids of the runs ``item`` reads, in plotting order."""
    return list(expand_item(config, item))


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
    out = {}
    for item in items:
        for rid, spec in expand_item(config, item, shapes=THESIS_SHAPES).items():
            out.setdefault(item, {})[rid] = spec
    return out


# ------------------------------------------------------------------------------------------- jobs
def check_config(config: Mapping[str, Any]) -> None:
    """Consistency checks the JSON schema cannot express; ``ValueError`` naming the config key."""
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
    expand_runs(config)


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


def data_settings(config: Mapping[str, Any], spec: Mapping[str, Any]) -> dict[str, Any]:
    t = _studies(config)["ch4_train"]
    return {"dataset": spec["dataset"], "source": spec["source"], "features": spec["features"],
            "train_subset": t["train_subset"], "test_subset": t["test_subset"], "normalize": bool(t["normalize"])}


def spec_hash(obj: Any) -> str:
    blob = json.dumps(obj, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:10]


def job_config(config: Mapping[str, Any], rid: str, runs: Mapping[str, dict] | None = None) -> dict[str, Any]:
    """The resolved config of the training job of run ``rid`` (recorded and hashed in its provenance).

    ``study.checkpoint_dir`` holds the trainer's resumable state; its name carries a hash of everything
    that defines the run, so a changed setting starts afresh instead of clashing with an old checkpoint.
    """
    runs = runs if runs is not None else expand_runs(config)
    spec = runs[rid]
    train = dict(train_settings(config), meta={"run": rid})
    data = data_settings(config, spec)
    model = dict(spec["model"], seed=int(config["seed"]))
    if data["normalize"] and data["features"] != "scattering":
        # per-channel standardisation is the model's first layer (inputs stay in [0, 1] pixel space); the
        # statistics are those of the dataset actually read (the smoke stand-in's at smoke scale)
        model["normalize"] = data["source"]
    h = spec_hash({"model": model, "data": data, "train": train})
    ckpt = f"{config['paths']['checkpoints']}/{config['scale']}/ch4/{rid}-{h}"
    return {
        "scale": config["scale"], "seed": config["seed"], "device": config["device"], "threads": config["threads"],
        "data": dict(config["data"]),
        "study": {"run": rid, "labels": spec["labels"], "model": model, "data": data, "train": train,
                  "checkpoint_dir": ckpt},
    }


def scattering_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """Resolved config of the ``ch4_scattering`` job (features of Table 4.5 / Figure 4.6)."""
    p = _studies(config)["table_4_5"]
    t = _studies(config)["ch4_train"]
    dataset = TRAINING_ITEMS["table_4_5"]
    return {
        "scale": config["scale"], "seed": config["seed"], "device": config["device"], "threads": config["threads"],
        "data": dict(config["data"]),
        "study": {"dataset": dataset, "source": data_source(config, dataset), "J": int(p["J"]), "L": int(p["L"]),
                  "train_subset": t["train_subset"], "test_subset": t["test_subset"], "batch_size": 500},
    }


def run_inputs(spec: Mapping[str, Any], features: str, manifest) -> dict[str, str]:
    """Snakemake inputs of a training run: the scattering features file, or the dataset manifest
    (``manifest(dataset)`` gives its path)."""
    if spec["features"] == "scattering":
        return {"features": features}
    return {"manifest": manifest(spec["source"])}


def counts_config(config: Mapping[str, Any], base: Mapping[str, Any]) -> dict[str, Any]:
    """Resolved config of the ``param_counts_ch4`` job: ``base`` (its study config subset) with the paper
    architectures of ``studies.param_counts_ch4.items`` and the Table 4.5 counting convention."""
    cfg = dict(base)
    items = list(base["study"]["items"])
    cfg["study"] = {"items": items, "count_bn_stats": bool(_studies(config)["table_4_5"]["count_bn_stats"]),
                    "scattering": dict(base["study"]["scattering"]),
                    "models": paper_architectures(config, items, base["study"]["scattering"])}
    return cfg


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


def table_cells(item: str, runs: Sequence[Mapping[str, Any]], *, count_unit: float = 1e3,
                dense_unit: float = 1e6) -> list[dict[str, Any]]:
    """'#Parameters' and accuracy/error cells of Tables 4.1, 4.2 and 4.5 from run metrics.

    ``runs`` are metrics dicts carrying ``labels``. Counts are in the thesis's units (K; M for the dense
    network of Table 4.1); Table 4.2 reports the test error in %.
    """
    cells = []
    for m in runs:
        row = row_label(item, m["labels"])
        count = n_weights(m)
        if item == "table_4_2":
            acc = final_accuracy(m)
            cells.append({"row": row, "column": "#Params", "value": count / count_unit})
            cells.append({"row": row, "column": "Error (%)", "value": None if acc is None else 100.0 * (1.0 - acc)})
            continue
        unit = dense_unit if row == "Dense" else count_unit
        cells.append({"row": row, "column": "#Parameters", "value": count / unit})
        cells.append({"row": row, "column": "Accuracy", "value": final_accuracy(m)})
    return cells


def weight_reduction(runs: Sequence[Mapping[str, Any]]) -> float | None:
    """Table 4.1 claim "2x fewer weights": smallest non-DCNN structured network / smallest DCNN."""
    dc = [n_weights(m) for m in runs if m["labels"]["family"] == "dcnn"]
    other = [n_weights(m) for m in runs if m["labels"]["family"] == "ldr_net"]
    if not dc or not other:
        return None
    return min(other) / min(dc)


def best_run(runs: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    scored = [(final_accuracy(m), m) for m in runs if final_accuracy(m) is not None]
    if not scored:
        return None
    return max(scored, key=lambda t: t[0])[1]


def fig_4_5_cells(runs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The Figure 4.5 statements of the thesis text (``thesis_values.csv`` item ``figure_4_5``)."""
    cells: list[dict[str, Any]] = []
    dense = [m for m in runs if m["labels"]["family"] == "dense"]
    structured = [m for m in runs if m["labels"]["family"] != "dense"]
    if dense:
        cells.append({"row": "Dense baseline", "column": "#weights", "value": n_weights(dense[0]) / 1e6})
    if structured:
        lo, hi = min(n_weights(m) for m in structured), max(n_weights(m) for m in structured)
        cells.append({"row": "all", "column": "#weights range (min)", "value": lo / 1e3})
        cells.append({"row": "all", "column": "#weights range (max)", "value": hi / 1e3})
        if dense:
            d = n_weights(dense[0])
            cells.append({"row": "all", "column": "#weights range (min) as % of dense", "value": 100 * lo / d})
            cells.append({"row": "all", "column": "#weights range (max) as % of dense", "value": 100 * hi / d})
    for fam, key in (("dcnn", "DCNN / Toeplitz nets"), ("dtnn", "DTNN")):
        depths = [m["labels"]["depth"] for m in runs if m["labels"]["family"] == fam]
        if depths and fam == "dcnn":
            cells.append({"row": key, "column": "depth range (min)", "value": min(depths)})
            cells.append({"row": key, "column": "depth range (max)", "value": max(depths)})
        elif depths:
            cells.append({"row": key, "column": "depth range (max)", "value": max(depths)})
    ranks = [m["labels"]["rank"] for m in runs if m["labels"]["family"] == "lowrank"]
    if ranks:
        cells.append({"row": "Low-rank nets", "column": "rank range (min)", "value": min(ranks)})
        cells.append({"row": "Low-rank nets", "column": "rank range (max)", "value": max(ranks)})
    best = best_run([m for m in runs if m["labels"]["family"] == "dcnn"])
    if best is not None:
        cells.append({"row": "DCNN", "column": "max accuracy", "value": 100 * final_accuracy(best)})
        cells.append({"row": "DCNN", "column": "depth at max accuracy", "value": best["labels"]["depth"]})
        cells.append({"row": "DCNN", "column": "#weights at max accuracy", "value": n_weights(best) / 1e3})
        if dense:
            cells.append({"row": "DCNN", "column": "#weights at max as % of dense",
                          "value": 100 * n_weights(best) / n_weights(dense[0])})
    return cells


def schedule_note(metrics_list: Sequence[Mapping[str, Any]]) -> str | None:
    """One sentence on the lr boundaries the runs actually reached (thesis: 40K/60K/80K of 50K steps)."""
    if not metrics_list:
        return None
    reached = sorted({b for m in metrics_list for b in m.get("schedule_boundaries_reached", [])})
    not_reached = sorted({b for m in metrics_list for b in m.get("schedule_boundaries_not_reached", [])})
    steps = sorted({m.get("steps", 0) for m in metrics_list})
    return (f"Learning-rate schedule: boundaries reached {reached or 'none'}, never reached {not_reached or 'none'} "
            f"(runs made {steps[0] if len(steps) == 1 else f'{steps[0]}-{steps[-1]}'} optimizer steps). At the thesis's settings 200 epochs x 250 "
            "steps = 50K steps, so only the 40K drop (to 2.5e-5) happens; the 60K and 80K drops never do.")


def stand_in_of(metrics_list: Sequence[Mapping[str, Any]]) -> str | None:
    notes = sorted({m["stand_in"] for m in metrics_list if m.get("stand_in")})
    return "; ".join(notes) if notes else None
