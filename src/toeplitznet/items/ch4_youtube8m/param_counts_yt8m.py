"""Parameter counts of every YouTube-8M network at the paper's sizes (3862 classes, DBoF 8192, FC 512, ...),
built on the meta device without training, so the count check of Tables 4.3, 4.4, B.1-B.3 and Figure B.9 is
visible at every scale (the smoke runs train shrunk networks on 50 synthetic classes;
:mod:`toeplitznet.yt8m.runs`).

Counts are trainable parameters (batch-norm scale and shift included, running statistics and Cheng et al.'s
fixed signs excluded: TensorFlow's trainable-variable count, which reproduces the printed numbers;
docs/youtube8m.md). ``fc_params`` is the FC (dimension-reduction) layers' projection weights alone (Table B.2's
"FC Layer #Parameters"). Output ``{"counted": {run_id: {"n_params", "fc_params", "row", "level"}}}``; the item
studies read it and put the counts in their tables (cells flagged ``scale_independent``).
"""

from __future__ import annotations

from ...registry import Study

STUDY = Study(name="param_counts_yt8m", title="parameter counts of the paper-size YouTube-8M networks",
              uses=("yt8m_data", "yt8m_train"))

#: extra networks counted for prose cells (Figure B.9, L7141-7144: the 160M compact and 728M dense diversity
#: models), whichever of the figure's nine models the config trains
EXTRA = (("diversity compact", "fig_b9_diversity_compact"), ("diversity dense", "fig_b9_diversity_dense"))


def _yt8m_items(config):
    from ...registry import discover
    from ...yt8m.runs import item_module

    reg = discover()
    out = []
    for it in reg.built_items():
        if it.chapter in ("ch4_youtube8m", "appB_youtube8m") and it.id in config.get("studies", {}):
            out.append(it.id)
    return [i for i in out if hasattr(item_module(i), "MODELS")]


def job_config(config, paths):
    """The study's resolved config: the paper model of every row of every YouTube-8M item of ``config``."""
    from ...plan import job_base
    from ...yt8m.runs import Row, item_rows, paper_model

    models = {}
    for item in _yt8m_items(config):
        for row in item_rows(config, item):
            models.setdefault(f"yt8m_{row.name}", {"row": row.label, "level": row.level, "model": paper_model(row)})
    for label, variant in EXTRA:
        row = Row(label, "frame", variant)
        models.setdefault(f"yt8m_{row.name}", {"row": label, "level": "frame", "model": paper_model(row)})
    return {**job_base(config), "study": {"models": models}}


def count(spec: dict) -> dict:
    """``{"n_params", "fc_params"}`` of a ``build_model`` spec, built on the meta device (no memory, no time)."""
    import torch

    from ...models import build_model, count_parameters

    with torch.device("meta"):
        model = build_model(spec)
    fc = getattr(model, "fc", None)
    fc_params = None
    if fc is not None and hasattr(fc, "values"):
        fc_params = int(sum(count_parameters(b.proj) for b in fc.values()))
    return {"n_params": int(count_parameters(model)), "fc_params": fc_params}


def run(ctx) -> None:
    p = ctx.params
    if "models" not in p:
        raise ValueError("param_counts_yt8m's config is param_counts_yt8m.job_config(config, paths); build it "
                         "through Snakemake (rule study_param_counts_yt8m)")
    counted = {rid: {"row": m["row"], "level": m["level"], "model": m["model"], **count(m["model"])}
               for rid, m in p["models"].items()}
    ctx.write_result("result", {"item": "param_counts_yt8m", "scale_independent": True, "counted": counted,
                                "cells": [], "notes": []})
