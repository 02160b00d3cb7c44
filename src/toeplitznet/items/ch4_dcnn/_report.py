"""Shared helpers of the Chapter 4 item studies: read run metrics, summarise them, draw thesis curves.

Importing this module imports neither torch nor matplotlib (the drawing helpers import matplotlib lazily),
so the aggregation jobs start fast.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ...runs.seeds import merge_replicas
from . import _runs as ch4_runs

#: figure input names that are not run metrics
NON_RUN_INPUTS = ("reference", "result", "counts")


def load_runs(inputs: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Metrics of every run among a study's inputs (each carries ``labels``), in input order, the seed replicas
    of a run folded into it (mean accuracy over seeds, :func:`toeplitznet.runs.seeds.merge_replicas`). The runs'
    weights, ``<run>__model[__seed<k>]``, are inputs for provenance and rebuilds only."""
    runs = []
    for name, path in inputs.items():
        if name in NON_RUN_INPUTS or "__model" in name:
            continue
        m = json.loads(Path(path).read_text())
        m["_source"] = str(path)
        runs.append(m)
    return merge_replicas(runs)


def run_summary(m: Mapping[str, Any]) -> dict[str, Any]:
    """The few numbers of a run a figure or table needs."""
    acc = ch4_runs.final_accuracy(m)
    best = ((m.get("best_eval") or {}).get("test") or {}).get("accuracy")
    st = m.get("seed_stats") or {}
    return {"run": m["run_id"], "labels": m["labels"], "accuracy": acc, "accuracy_std": st.get("std"),
            "seeds": st.get("seeds"), "accuracy_per_seed": st.get("accuracy"), "best_accuracy": best,
            "n_weights": ch4_runs.n_weights(m), "n_trainable": m.get("n_params"), "status": m.get("status"),
            "diverged": m.get("status") == "diverged", "epochs": m.get("epochs_completed"), "steps": m.get("steps"),
            "source": m["_source"]}


def base_result(item: str, runs: list[dict[str, Any]], extra_notes: list[str] = ()) -> dict[str, Any]:
    notes = list(extra_notes)
    sched = ch4_runs.schedule_note(runs)
    if sched:
        notes.append(sched)
    notes.append("Accuracy = test accuracy after the last epoch (no model selection on the test set); "
                 "diverged runs are recorded as such and drawn at chance level, as the thesis does.")
    sizes = sorted({(m.get("n_train"), m.get("n_test")) for m in runs})
    if sizes:
        notes.append("Training / test examples per run: " + ", ".join(f"{a} / {b}" for a, b in sizes) + ".")
    seeds = sorted({s for m in runs for s in ((m.get("seed_stats") or {}).get("seeds") or [ch4_runs.run_seed(m)])
                    if s is not None})
    if seeds:
        notes.append(f"Seeds: {len(seeds)} training seed(s) {seeds}; every number is one run (config key seeds; "
                     "the thesis prints no ± for Chapter 4 and does not say how many runs it made)."
                     if len(seeds) == 1 else
                     f"Seeds: {seeds}; every accuracy is the mean over them ± the sample std (ddof = 1) of the "
                     "per-seed accuracies (diverged seeds left out and counted); counts and curves are those of "
                     f"seed {seeds[0]}.")
    out = {"item": item, "stand_in": ch4_runs.stand_in_of(runs), "runs": [run_summary(m) for m in runs],
           "notes": notes}
    if seeds:  # else the renderer falls back to the job's provenance
        out["seeds"] = seeds
    return out


# ------------------------------------------------------------------------------------------ drawing
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
THESIS_LINESTYLES = ["--", ":", "-."]


class PlotInputs:
    """What every Chapter 4 figure starts from: the study's result, the thesis's figure data, a new figure.

    ``src``/``res``: the result file and its content; ``ref_path``/``ref``: the thesis's figure-data CSV and
    its rows (only ``keep(row)`` rows when given); ``fig``/``axes``: from ``report.figures.new_figure``;
    ``ax``: the first axes."""

    def __init__(self, ctx, reference: str, keep=None, **figure_kw) -> None:
        from ...reference import figure_data_path
        from ...report.figures import load_result, new_figure, read_reference_csv

        self.src = ctx.input("result")
        self.res = load_result(self.src)
        # the DAG's own (relative) input path, so the provenance map stays valid when the repository moves
        self.ref_path = ctx.inputs.get("reference") or figure_data_path(reference)
        rows = read_reference_csv(self.ref_path)
        self.ref = [r for r in rows if keep(r)] if keep else rows
        self.fig, self.axes = new_figure(**figure_kw)
        self.ax = self.axes[0][0]


def reference_points(ref, field: str, value: str, x=float) -> list[tuple[float, float]]:
    """``(x, y)`` points of the thesis's figure-data rows whose ``field`` equals ``value``, sorted by x."""
    return sorted((x(r["x"]), float(r["y"])) for r in ref if r[field] == value)


def thesis_series(ax, ref, x=int) -> None:
    """Draw every ``series`` of the thesis's figure data as a grey curve, labelled with its ``label``."""
    for i, series in enumerate(dict.fromkeys(r["series"] for r in ref)):
        pts = reference_points(ref, "series", series, x)
        lab = next(r["label"] for r in ref if r["series"] == series)
        thesis_plot(ax, [a for a, _ in pts], [b for _, b in pts], f"thesis, {lab}",
                    linestyle=THESIS_LINESTYLES[i % len(THESIS_LINESTYLES)])


def thesis_plot(ax, x, y, label: str, marker: str | None = None, **kw) -> None:
    """The thesis's curve: dashed grey (``report.figures.THESIS_STYLE``), hollow markers."""
    from ...report.figures import THESIS_STYLE

    style = dict(THESIS_STYLE)
    style.update(kw)
    if marker:
        style.update(marker=marker, markerfacecolor="none", markersize=4)
    ax.plot(x, y, label=label, **style)


def ours_plot(ax, x, y, label: str, marker: str = "o", diverged=None, **kw) -> None:
    """Our curve: solid, filled markers; diverged points (drawn at chance) get a red cross."""
    line, = ax.plot(x, y, marker=marker, markersize=5, label=label, **kw)
    if diverged:
        dx = [a for a, d in zip(x, diverged) if d]
        dy = [b for b, d in zip(y, diverged) if d]
        if dx:
            ax.plot(dx, dy, "x", color="red", markersize=8, markeredgewidth=2)


def note_box(fig, lines: list[str]) -> None:
    """Small grey text under the axes (choices and caveats the reader must see).

    Drawn as the figure's ``supxlabel`` so that the constrained layout reserves room for it; the trailing
    blank line keeps the scale stamp of :func:`~toeplitznet.report.figures.save_figure` (bottom right)
    clear of the axes and of the note."""
    import textwrap

    width = int(18 * fig.get_figwidth())  # characters per line at fontsize 6.5
    text = "\n".join(w for line in lines for w in textwrap.wrap(line, width))
    fig.supxlabel(text + "\n\n", x=0.005, ha="left", fontsize=6.5, color="0.3")


def plain_log_axis(ax, axis: str = "x") -> None:
    """Log scale with plain tick labels at 1, 2, 5 x 10^k (no overlapping '3 x 10^1' minor labels)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
    a = ax.xaxis if axis == "x" else ax.yaxis
    a.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    a.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    a.set_minor_formatter(NullFormatter())
