"""Figures: a shared look, a scale stamp on every figure, atomic PDF+PNG output and a provenance map.

A figure rule reads only result files (``results/<scale>/...json``) and reference data
(``reference/figure_data/*.csv``); :func:`save_figure` writes ``figures/<item>.pdf``, ``.png`` and
``figures/<item>.provenance.json`` (each source with its sha256, the commit, the scale), which the audit
re-checks.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from .provenance import atomic_path, atomic_write_json, describe_file, git_state, sidecar_path, utc_now  # noqa: E402

THESIS_STYLE = {"color": "0.45", "linestyle": "--", "linewidth": 1.2}
"""Matplotlib style of the thesis's reference curves, drawn beside ours."""


def scale_label(scale: str, scale_independent: bool = False, stand_in: str | None = None,
                deviations: Sequence[str] = ()) -> str:
    """The scale stamp of a figure (a paper-scale figure whose settings differ from config/paper.yaml says so)."""
    if scale_independent and not (scale == "paper" and deviations):
        return f"scale: {scale} (scale-independent: the same computation and settings as at paper scale)"
    if scale == "smoke":
        text = "SMOKE SCALE: pipeline check, not a reproduction"
        return f"{text}; {stand_in}" if stand_in else text
    if scale == "medium":
        text = "MEDIUM SCALE: claims check on real data on the machine; judges directions, not the thesis's numbers"
        return f"{text}; {stand_in}" if stand_in else text
    if deviations:
        return (f"scale: paper, NOT the thesis settings ({len(deviations)} key(s) differ from config/paper.yaml: "
                + ", ".join(list(deviations)[:4]) + (", ..." if len(deviations) > 4 else "") + ")")
    return "scale: paper (thesis settings)"


def load_result(path: str | Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


def read_reference_csv(path: str | Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def new_figure(ncols: int = 1, nrows: int = 1, width: float = 5.0, height: float = 3.6, **kw):
    kw.setdefault("layout", "constrained")
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False, **kw)
    return fig, axes


def save_figure(fig, ctx, *, item: str, sources: Sequence[str | Path], reference: Iterable[str | Path] = (),
                scale_independent: bool = False, stand_in: str | None = None, notes: Sequence[str] = ()) -> None:
    """Stamp the scale, write ``ctx.output('pdf')``/``('png')`` atomically and the provenance map."""
    deviations = list(ctx.cfg.get("scale_deviations") or [])
    fig.text(0.995, 0.005, scale_label(ctx.scale, scale_independent, stand_in, deviations), ha="right", va="bottom",
             fontsize=7, color="firebrick" if ctx.scale != "paper" and not scale_independent else "0.3")
    for key, fmt in (("pdf", "pdf"), ("png", "png")):
        out = ctx.output(key)
        with atomic_path(out) as tmp:
            fig.savefig(tmp, format=fmt, dpi=150, bbox_inches="tight",
                        metadata={"CreationDate": None} if fmt == "pdf" else None)
    plt.close(fig)
    src = []
    for s in sources:
        entry = describe_file(s)
        side = sidecar_path(s)
        entry["sidecar_sha256"] = describe_file(side)["sha256"] if side.exists() else None
        src.append(entry)
    record = {
        "item": item,
        "scale": ctx.scale,
        "scale_independent": scale_independent,
        "stand_in": stand_in,
        "rendered": utc_now(),
        "git": git_state(),
        "sources": src,
        "reference": [describe_file(r) for r in reference],
        "outputs": [describe_file(ctx.output("pdf")), describe_file(ctx.output("png"))],
        "notes": list(notes),
        "code": ctx.prov.code,
        "rule": ctx.prov.rule,
        "scale_deviations": deviations,
    }
    atomic_write_json(ctx.output("prov"), record)
