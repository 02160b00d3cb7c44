"""Thesis studies: one module per item (or family of items), each exposing

* ``run(ctx)``   – compute the numbers and write them with ``ctx.write_result(name, data)``;
* ``plot(ctx)``  – (figures only) read ``ctx.inputs`` result files and draw with
  :func:`toeplitznet.report.figures.save_figure`.

The registry maps a study name to its module path so that importing it never imports torch (or,
for the YouTube-8M ingestion, TensorFlow) until the study actually runs.

Result files written by ``run`` follow one convention so the generic table renderer can read them::

    {"item": "table_D_1", "scale": "smoke", "scale_independent": true,
     "cells": [{"row": "MNIST", "column": "Dim. (d)", "value": 784, "plus_minus": null}, ...],
     "notes": ["..."], ...anything else the figure needs...}

``row``/``column`` use the thesis's labels (as in ``reference/thesis_values.csv``), so each cell lines up
with the thesis number; cells the thesis does not have are rendered as "not in thesis".
"""

from __future__ import annotations

import importlib
from types import ModuleType

STUDIES: dict[str, str] = {
    "fig_5_1": "toeplitznet.studies.fig_5_1",
    "table_D_1": "toeplitznet.studies.table_D_1",
    # --- chapter 5 studies (bounds) ---
    "fig_5_2": "toeplitznet.studies.fig_5_2",
    "table_5_1": "toeplitznet.studies.table_5_1",
    "table_5_2": "toeplitznet.studies.table_5_2",
    # --- chapter 4 studies (DCNN) ---
    "ch4_train": "toeplitznet.studies.ch4_train",
    "ch4_scattering": "toeplitznet.studies.ch4_scattering",
    "param_counts_ch4": "toeplitznet.studies.param_counts_ch4",
    "fig_4_2": "toeplitznet.studies.fig_4_2",
    "ecai_fig_2a": "toeplitznet.studies.ecai_fig_2a",
    "fig_4_3": "toeplitznet.studies.fig_4_3",
    "fig_4_4": "toeplitznet.studies.fig_4_4",
    "fig_4_5": "toeplitznet.studies.fig_4_5",
    "fig_4_6": "toeplitznet.studies.fig_4_6",
    "table_4_1": "toeplitznet.studies.table_4_1",
    "table_4_2": "toeplitznet.studies.table_4_2",
    "table_4_5": "toeplitznet.studies.table_4_5",
}


def register(name: str, module: str) -> None:
    """Register a study module under ``name`` (used by study families defined outside this file)."""
    STUDIES[name] = module


def load_study(name: str) -> ModuleType:
    if name not in STUDIES:
        raise KeyError(f"unknown study {name!r}; known: {', '.join(sorted(STUDIES))}")
    return importlib.import_module(STUDIES[name])
