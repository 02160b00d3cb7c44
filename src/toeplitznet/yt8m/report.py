"""Shared helpers of the YouTube-8M item studies and figures: read run metrics, the paper-size counts and the
dataset manifests, and turn them into cells and curves (no torch; matplotlib only inside the drawing helpers).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..runs.seeds import base_run_id, mean_std
from .runs import Row, final_gap, gap_curve

#: study inputs that are not run metrics
NON_RUN = ("param_counts", "reference", "result")


def _load(path: str) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


def load(inputs: Mapping[str, Any]) -> tuple[dict[str, dict[str, Any]], dict[str, Any], dict[str, Any]]:
    """``(runs by base id, paper counts by run id, manifests by level)`` of a study's inputs. Seed replicas
    (``<run>__seed<k>``) are folded into their run: ``gap`` is the mean over the non-diverged seeds, with
    ``gap_std`` and ``n_seeds``; curves and counts are the global seed's."""
    groups: dict[str, list[dict[str, Any]]] = {}
    counts, manifests = {}, {}
    for name, path in inputs.items():
        if "__model" in name or name in ("reference", "result"):
            continue
        if name == "param_counts":
            counts = _load(path)["counted"]
            continue
        if name.startswith("manifest_"):
            manifests[name[len("manifest_"):]] = {**_load(path), "_source": str(path)}
            continue
        m = _load(path)
        m["_source"] = str(path)
        groups.setdefault(base_run_id(m), []).append(m)
    runs = {}
    for base, members in groups.items():
        members.sort(key=lambda m: m.get("replica_of") is not None)
        merged = dict(members[0])
        gaps = [final_gap(m) for m in members]
        ok = [g for g in gaps if g is not None]
        mean, std = mean_std(ok)
        merged.update(run_id=base, gap=mean if ok else None, gap_std=std if len(ok) > 1 else None, n_seeds=len(ok),
                      seeds=[m.get("seed") for m in members], gap_per_seed=gaps)
        runs[base] = merged
    return runs, counts, manifests


def gap_cell(row: str, m: Mapping[str, Any] | None, column: str = "GAP@20") -> dict[str, Any]:
    cell = {"row": row, "column": column, "value": None if m is None else m.get("gap")}
    if m is not None:
        cell["n_seeds"] = m.get("n_seeds")
        if m.get("gap_std") is not None:
            cell["plus_minus"] = m["gap_std"]
    return cell


def count_cell(row: str, column: str, n: int | None, unit: float) -> dict[str, Any]:
    """A paper-size count in the thesis's printed unit (K or M), exact and scale-independent."""
    return {"row": row, "column": column, "value": None if n is None else n / unit, "exact_count": n,
            "scale_independent": True}


def trained_count_cell(row: str, m: Mapping[str, Any] | None, unit: float, column: str) -> dict[str, Any]:
    """The trained network's own count (shrunk at smoke scale): an extra column, never compared."""
    n = None if m is None else m.get("n_params_thesis", m.get("n_params"))
    return {"row": row, "column": column, "value": None if n is None else n / unit, "exact_count": n}


def pct_reduction(n: int | None, ref: int | None) -> float | None:
    """``100 (1 - n / ref)``: Appendix B's CR column ("% reduction"; L7227)."""
    if n is None or not ref:
        return None
    return 100.0 * (1.0 - n / ref)


def dataset_sizes(manifest: Mapping[str, Any] | None) -> dict[str, int | None]:
    """Training / held-out video counts of a level's manifest (before Appendix B's halving augmentation)."""
    if not manifest:
        return {"train": None, "heldout": None, "total": None}
    parts = manifest.get("partitions") or {}
    tr = (parts.get("train") or {}).get("n_records")
    ho = (parts.get("heldout") or {}).get("n_records")
    return {"train": tr, "heldout": ho, "total": manifest.get("n_records")}


def base_result(item: str, runs: Mapping[str, Mapping[str, Any]], manifests: Mapping[str, Any],
                params: Mapping[str, Any], notes: Sequence[str] = ()) -> dict[str, Any]:
    """The common part of every YouTube-8M item result: the runs' summaries, the data and the notes."""
    stand = sorted({m["stand_in"] for m in runs.values() if m.get("stand_in")})
    sizes = {lvl: dataset_sizes(m) for lvl, m in manifests.items()}
    notes = list(notes)
    for lvl, s in sizes.items():
        notes.append(f"{lvl}-level data: {s['train']} training and {s['heldout']} held-out videos (manifest "
                     f"{manifests[lvl]['_source']}); GAP@20 on the held-out videos after the last epoch.")
    if any((m.get("data") or {}).get("split_halves") for m in runs.values()):
        notes.append("Training videos are split into two halves with the video's labels (Appendix B, L7186-7190).")
    notes.append("#Parameters: the paper-size networks (3862 classes) counted on the meta device (study "
                 "param_counts_yt8m), at every scale; the trained networks' own counts are in their own column.")
    seeds = sorted({s for m in runs.values() for s in (m.get("seeds") or []) if s is not None})
    out = {"item": item, "stand_in": "; ".join(stand) or None, "notes": notes,
           "runs": [{"run": rid, "labels": m.get("labels"), "gap": m.get("gap"), "gap_std": m.get("gap_std"),
                     "n_params_trained": m.get("n_params"), "status": m.get("status"),
                     "epochs": m.get("epochs_completed"),
                     "steps": m.get("steps"), "n_train": m.get("n_train"), "n_test": m.get("n_test"),
                     "source": m["_source"]} for rid, m in runs.items()],
           "data": sizes}
    if seeds:
        out["seeds"] = seeds
    return out


def run_of(rows: Sequence[Row], runs: Mapping[str, Any]) -> list[tuple[Row, str, Mapping[str, Any] | None]]:
    """``(row, run id, merged metrics)`` in row order."""
    return [(r, f"yt8m_{r.name}", runs.get(f"yt8m_{r.name}")) for r in rows]


def curves(rows: Sequence[Row], runs: Mapping[str, Any], series: Mapping[str, str]) -> list[dict[str, Any]]:
    """Figure curves: ``series`` maps a row label to the thesis's figure-data series id."""
    out = []
    for row, rid, m in run_of(rows, runs):
        c = gap_curve(m) if m else {"epoch": [], "gap": [], "train_loss": []}
        out.append({"name": row.label, "series": series.get(row.label), "run": rid, **c})
    return out


# ------------------------------------------------------------------------------------------ drawing
def plot_curves(ctx, item: str, title: str, reference: str, notes: Sequence[str] = ()) -> None:
    """Held-out GAP vs epoch of our runs (solid) beside the thesis's figure data (grey, x = epochs)."""
    from ..items.ch4_dcnn import _report as ch4_report
    from ..report.figures import save_figure

    p = ch4_report.PlotInputs(ctx, reference, ncols=2, width=4.6, height=3.6)
    ax_g, ax_t = p.axes[0]
    for i, c in enumerate(p.res["curves"]):
        pts = [(e, g) for e, g in zip(c["epoch"], c["gap"]) if g is not None]
        ax_g.plot([e for e, _ in pts], [g for _, g in pts], "-", marker="o", markersize=3, color=f"C{i}",
                  label=f"ours, {c['name']}")
    ax_g.set_xlabel("epoch")
    ax_g.set_ylabel("GAP@20 (held-out videos)")
    ax_g.set_title("(a) ours", fontsize=8.5)
    ax_g.legend(fontsize=6)
    ours = {c["series"]: i for i, c in enumerate(p.res["curves"])}  # one colour per network in both panels
    for j, series in enumerate(dict.fromkeys(r["series"] for r in p.ref)):
        pts = sorted((float(r["x"]), float(r["y"])) for r in p.ref if r["series"] == series)
        lab = next(r["label"] for r in p.ref if r["series"] == series)
        ax_t.plot([a for a, _ in pts], [b for _, b in pts], color=f"C{ours.get(series, len(ours) + j)}",
                  linestyle="--", linewidth=1, label=f"thesis, {lab}")
    ax_t.set_xlabel("epoch (videos seen / 4,822,555)")
    ax_t.set_ylabel("GAP@20 (thesis)")
    ax_t.set_title("(b) the thesis's figure data", fontsize=8.5)
    ax_t.legend(fontsize=6)
    p.fig.suptitle(title, fontsize=9)
    ch4_report.note_box(p.fig, list(notes) or ["Our runs and the thesis's are drawn side by side: the "
                                               "scales of the two panels differ."])
    save_figure(p.fig, ctx, item=item, sources=[p.src], reference=[p.ref_path], stand_in=p.res.get("stand_in"),
                notes=p.res.get("notes", []))


def curve_result(ctx, item: str, rows: Sequence[Row], series: Mapping[str, str], extra=None) -> None:
    """The study of a GAP-vs-epoch figure: every row's curve. ``extra(runs) -> (notes, cells)`` adds notes and
    table cells computed from the loaded runs (by run id)."""
    runs, _counts, manifests = load(ctx.inputs)
    notes, cells = extra(runs) if extra else ([], [])
    res = base_result(item, runs, manifests, ctx.params, notes)
    res["curves"] = curves(rows, runs, series)
    res["cells"] = list(cells)
    ctx.write_result("result", res)


def curve_hooks(item: str, models, series: Mapping[str, str], reference: str, title: str):
    """``run``, ``plot`` of a GAP-vs-epoch figure whose rows are ``models(section)`` (Figures B.4-B.8)."""
    def run(ctx) -> None:
        curve_result(ctx, item, models(ctx.params), series)

    def plot(ctx) -> None:
        plot_curves(ctx, item, title, reference)

    return run, plot
