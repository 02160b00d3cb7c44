"""Running a study: the :class:`~toeplitznet.studies.runner.StudyContext` protocol shared by every job.

An item or auxiliary study module (see :mod:`toeplitznet.registry`) exposes

* ``run(ctx)``   – compute the numbers and write them with ``ctx.write_result(name, data)``;
* ``plot(ctx)``  – (figures only) read ``ctx.inputs`` result files and draw with
  :func:`toeplitznet.report.figures.save_figure`.

The generic jobs of trained runs are :mod:`toeplitznet.runs.train_job` and :mod:`toeplitznet.runs.evaluate`.

Result files written by ``run`` follow one convention so the generic table renderer can read them (validated
against ``workflow/schemas/result.schema.yaml`` when written)::

    {"item": "table_D_1", "scale": "smoke", "scale_independent": true,
     "cells": [{"row": "MNIST", "column": "Dim. (d)", "value": 784, "plus_minus": null}, ...],
     "notes": ["..."], ...anything else the figure needs...}

``row``/``column`` use the thesis's labels (as in ``reference/thesis_values.csv``), so each cell lines up
with the thesis number; cells the thesis does not have are rendered as "not in thesis".
"""

from __future__ import annotations

import importlib
from types import ModuleType

#: generic jobs that are not items or studies of the registry
BUILTIN_JOBS: dict[str, str] = {
    "train_run": "toeplitznet.runs.train_job",
    "evaluate_run": "toeplitznet.runs.evaluate",
    # YouTube-8M ingestion (toeplitznet.yt8m.dag); the first two run in the TensorFlow environment
    "yt8m_synthesize": "toeplitznet.yt8m.synthesize_job",
    "yt8m_ingest": "toeplitznet.yt8m.ingest_job",
    "yt8m_manifest": "toeplitznet.yt8m.manifest_job",
}


def load_study(name: str) -> ModuleType:
    """The module of a registered item / study, or of a generic job (``train_run``, ``evaluate_run``)."""
    if name in BUILTIN_JOBS:
        return importlib.import_module(BUILTIN_JOBS[name])
    from ..registry import discover

    return discover().module(name)


def study_outputs(name: str) -> dict[str, str]:
    """``{output name: file name}`` of a study (for standalone runs)."""
    if name in BUILTIN_JOBS:
        return dict(load_study(name).OUTPUTS)
    from ..registry import discover

    return discover().job(name).study_outputs
