"""Render a thesis table: our number beside the thesis's, with the difference and a status per cell.

Inputs are only result files (``results/<scale>/...json`` holding ``cells``); outputs are
``paper_tables/<item>.csv`` (exact values, what the audit reads), ``.md`` and ``.tex`` (for people), and
``<item>.provenance.json`` mapping every cell to its source result file, its sha256 and the JSON pointer of
the value.

Status of a cell (:func:`cell_status`):

``reproduced``                  ours within the tolerance of the thesis value (|Δ| ≤ max(abs, rel·|thesis|))
``deviates``                    ours outside the tolerance
``smoke-scale, not comparable`` the result comes from the smoke scale (unless the study is scale-independent)
``cited, not reproduced``       the thesis quotes another paper for this number
``pending``                     the thesis reports it; this pipeline has not produced it (yet)
``not in thesis``               our extra number (e.g. a newer method's column)
``n/a``                         our study states the quantity does not exist here (value null)

A result cell may carry ``compare_with`` (another column of the same row in the thesis table): the cell then
sits in its own column but is compared with that thesis cell, e.g. an exact, scale-independent parameter count
of the paper architecture beside the count of the smoke model. A cell's own ``scale_independent: true``
exempts it from the smoke status even when the rest of its result file is scale-dependent.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..reference import ThesisCell, thesis_cells
from .provenance import atomic_write_json, atomic_write_text, describe_file, git_state, sidecar_path, utc_now

REPRODUCED = "reproduced"
DEVIATES = "deviates"
SMOKE = "smoke-scale, not comparable"
CITED = "cited, not reproduced"
PENDING = "pending"
EXTRA = "not in thesis"
NOT_APPLICABLE = "n/a"

CSV_FIELDS = ["item", "row", "column", "ours", "ours_pm", "thesis", "thesis_pm", "unit", "diff", "rel_diff",
              "status", "tolerance", "scale", "source", "thesis_line"]


class RenderError(ValueError):
    pass


@dataclass
class RenderedCell:
    item: str
    row: str
    column: str
    ours: float | int | str | None
    ours_pm: float | None
    thesis: float | str | None
    thesis_pm: float | None
    unit: str
    diff: float | None
    rel_diff: float | None
    status: str
    tolerance: str
    scale: str
    source: str | None
    thesis_line: str
    pointer: str | None = None


def tolerance_for(item: str, tolerances: Mapping[str, Mapping[str, float]], cell: Mapping[str, Any] | None = None
                  ) -> dict[str, float]:
    """Cell override, else the item's entry, else the ``default`` entry of ``render.tolerance`` (no merging)."""
    tol = dict(tolerances.get(item) or tolerances.get("default", {}))
    if cell and cell.get("tolerance"):
        tol = dict(cell["tolerance"])
    return {"abs": float(tol.get("abs", 0.0)), "rel": float(tol.get("rel", 0.0))}


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def cell_status(ours: Any, thesis: ThesisCell | None, *, scale: str, scale_independent: bool,
                tol: Mapping[str, float]) -> tuple[str, float | None, float | None]:
    """Status, absolute and relative difference of one cell (see module doc)."""
    if thesis is None:
        return EXTRA, None, None
    if ours is None:
        return (CITED if thesis.cited else PENDING), None, None
    if thesis.cited:
        return CITED, None, None
    if not (_is_number(ours) and _is_number(thesis.value)):
        return (REPRODUCED if str(ours) == str(thesis.value) else DEVIATES), None, None
    diff = float(ours) - float(thesis.value)
    rel = diff / abs(float(thesis.value)) if thesis.value else None
    if scale == "smoke" and not scale_independent:
        return SMOKE, diff, rel
    limit = max(tol["abs"], tol["rel"] * abs(float(thesis.value)))
    return (REPRODUCED if abs(diff) <= limit else DEVIATES), diff, rel


def _tol_text(tol: Mapping[str, float]) -> str:
    parts = []
    if tol["abs"]:
        parts.append(f"abs {tol['abs']:g}")
    if tol["rel"]:
        parts.append(f"rel {tol['rel']:g}")
    return " or ".join(parts) if parts else "exact"


def collect(item: str, result_paths: Sequence[str | Path], tolerances: Mapping[str, Mapping[str, float]],
            thesis_csv: str | Path | None = None) -> tuple[list[RenderedCell], dict[str, Any]]:
    """Join our result cells with the thesis cells of ``item``; return the cells and table metadata."""
    thesis = thesis_cells(item, thesis_csv)
    by_key = {(c.row, c.column): c for c in thesis}
    scales, notes, stand_ins, indep = set(), [], set(), []
    ours: dict[tuple[str, str], tuple[dict[str, Any], str, str]] = {}
    for path in result_paths:
        path = str(path)
        try:
            res = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            raise RenderError(f"{path}: cannot read result file: {exc}") from exc
        if "cells" not in res or "scale" not in res:
            raise RenderError(f"{path}: result file has no 'cells' or 'scale' key")
        scales.add(res["scale"])
        indep.append(bool(res.get("scale_independent", False)))
        notes.extend(res.get("notes", []))
        if res.get("stand_in"):
            stand_ins.add(res["stand_in"])
        for i, cell in enumerate(res["cells"]):
            for key in ("row", "column", "value"):
                if key not in cell:
                    raise RenderError(f"{path}: cell {i} has no {key!r}")
            k = (str(cell["row"]), str(cell["column"]))
            if k in ours:
                raise RenderError(f"{path}: cell ({k[0]!r}, {k[1]!r}) also produced by {ours[k][1]}")
            ours[k] = (cell, path, f"/cells/{i}/value")
    if len(scales) > 1:
        raise RenderError(f"{item}: result files mix scales {sorted(scales)}; the two scales are never mixed")
    scale = scales.pop() if scales else "smoke"
    scale_independent = bool(indep) and all(indep)
    rendered, independent_columns = [], []
    keys = [(c.row, c.column) for c in thesis] + [k for k in ours if k not in by_key]
    for key in keys:
        th = by_key.get(key)
        cell, source, pointer = ours.get(key, (None, None, None))
        if cell is not None and cell.get("compare_with"):
            th = by_key.get((key[0], str(cell["compare_with"])))
            if th is None:
                raise RenderError(f"{source}: cell ({key[0]!r}, {key[1]!r}) compares with thesis column "
                                  f"{cell['compare_with']!r}, which {item} does not have in row {key[0]!r}")
        value = cell["value"] if cell else None
        tol = tolerance_for(item, tolerances, cell)
        indep_cell = scale_independent or bool(cell and cell.get("scale_independent"))
        if indep_cell and not scale_independent and key[1] not in independent_columns:
            independent_columns.append(key[1])
        status, diff, rel = cell_status(value, th, scale=scale, scale_independent=indep_cell, tol=tol)
        if cell is not None and value is None and th is not None and not th.cited:
            status = NOT_APPLICABLE
        if th is None and value is None:
            status = NOT_APPLICABLE
        rendered.append(RenderedCell(
            item=item, row=key[0], column=key[1], ours=value, ours_pm=cell.get("plus_minus") if cell else None,
            thesis=th.value if th else None, thesis_pm=th.plus_minus if th else None,
            unit=(th.unit if th else (cell or {}).get("unit", "")), diff=diff, rel_diff=rel, status=status,
            tolerance=_tol_text(tol), scale=scale, source=source, thesis_line=th.source_line if th else "",
            pointer=pointer))
    meta = {"item": item, "scale": scale, "scale_independent": scale_independent, "notes": notes,
            "stand_in": sorted(stand_ins), "independent_columns": independent_columns}
    return rendered, meta


def fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return f"{v:.6g}" if abs(v) < 1e5 else f"{v:.1f}"
    return str(v)


def csv_value(v: Any) -> str:
    """Exact text of a value in the rendered CSV (floats by repr, so they read back identically)."""
    return "" if v is None else (repr(v) if isinstance(v, float) else str(v))


def to_csv(cells: Sequence[RenderedCell]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    w.writeheader()
    for c in cells:
        d = asdict(c)
        w.writerow({k: csv_value(d[k]) for k in CSV_FIELDS})
    return buf.getvalue()


def _header_lines(meta: Mapping[str, Any], caption: str) -> list[str]:
    scale = meta["scale"]
    if meta["scale_independent"]:
        scale_line = f"Scale: {scale} (scale-independent: the same computation and settings as at paper scale)"
    elif scale == "smoke":
        scale_line = ("Scale: SMOKE (pipeline check on small stand-in data; these numbers are NOT a reproduction "
                      "and are never compared with the thesis)")
        cols = meta.get("independent_columns") or []
        if cols:
            scale_line = scale_line[:-1] + ("; exception: the scale-independent column(s) "
                                            + ", ".join(f"'{c}'" for c in cols)
                                            + ", the same computation at both scales, are compared)")
    else:
        scale_line = "Scale: paper (the thesis's settings)"
    lines = [caption, scale_line]
    if meta.get("stand_in"):
        lines.append("Stand-in data: " + "; ".join(meta["stand_in"]))
    g = git_state()
    lines.append(f"Commit: {g.get('commit')}{' (dirty)' if g.get('dirty') else ''}")
    return lines


def to_markdown(cells: Sequence[RenderedCell], meta: Mapping[str, Any], caption: str) -> str:
    out = [f"# {meta['item']}", ""] + [f"{line}  " for line in _header_lines(meta, caption)] + [""]
    out.append("| row | column | ours | thesis | Δ | status | source |")
    out.append("|---|---|---|---|---|---|---|")
    for c in cells:
        ours = fmt(c.ours) + (f" ± {fmt(c.ours_pm)}" if c.ours_pm is not None else "")
        th = fmt(c.thesis) + (f" ± {fmt(c.thesis_pm)}" if c.thesis_pm is not None else "")
        status = c.status + (f" ({c.tolerance})" if c.status in (REPRODUCED, DEVIATES) else "")
        out.append(f"| {c.row} | {c.column} | {ours} | {th} | {fmt(c.diff)} | {status} | {c.source or ''} |")
    if meta.get("notes"):
        out += ["", "Notes:"] + [f"- {n}" for n in meta["notes"]]
    return "\n".join(out) + "\n"


def _tex_escape(s: str) -> str:
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"), ("#", r"\#"),
                 ("$", r"\$"), ("{", r"\{"), ("}", r"\}"), ("^", r"\^{}"), ("~", r"\~{}")):
        s = s.replace(a, b)
    return s


def to_latex(cells: Sequence[RenderedCell], meta: Mapping[str, Any], caption: str) -> str:
    head = " ".join(_header_lines(meta, caption))
    lines = [r"\begin{table}[t]", r"\centering", r"\small", r"\begin{tabular}{llrrrl}", r"\toprule",
             r"Row & Column & Ours & Thesis & $\Delta$ & Status \\", r"\midrule"]
    for c in cells:
        ours = fmt(c.ours) + (f" $\\pm$ {fmt(c.ours_pm)}" if c.ours_pm is not None else "")
        th = fmt(c.thesis) + (f" $\\pm$ {fmt(c.thesis_pm)}" if c.thesis_pm is not None else "")
        lines.append(" & ".join(_tex_escape(x) if "$" not in x else x
                                for x in (c.row, c.column, ours, th, fmt(c.diff), c.status)) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", rf"\caption{{{_tex_escape(head)}}}",
              rf"\label{{tab:{meta['item']}}}", r"\end{table}"]
    return "\n".join(lines) + "\n"


def render_table(item: str, result_paths: Sequence[str | Path], outputs: Mapping[str, str | Path],
                 tolerances: Mapping[str, Mapping[str, float]], caption: str = "",
                 thesis_csv: str | Path | None = None) -> list[RenderedCell]:
    """Write ``outputs['csv'|'md'|'tex'|'prov']`` for ``item`` from ``result_paths``; return the cells."""
    cells, meta = collect(item, result_paths, tolerances, thesis_csv)
    caption = caption or f"{item}: ours beside the thesis"
    atomic_write_text(outputs["csv"], to_csv(cells))
    atomic_write_text(outputs["md"], to_markdown(cells, meta, caption))
    atomic_write_text(outputs["tex"], to_latex(cells, meta, caption))
    sources = {}
    for p in result_paths:
        entry = describe_file(p)
        side = sidecar_path(p)
        entry["sidecar_sha256"] = describe_file(side)["sha256"] if side.exists() else None
        sources[str(p)] = entry
    prov = {
        "item": item, "scale": meta["scale"], "scale_independent": meta["scale_independent"],
        "rendered": utc_now(), "git": git_state(),
        "outputs": {k: describe_file(outputs[k]) for k in ("csv", "md", "tex")},
        "sources": sources,
        "cells": [{"row": c.row, "column": c.column, "value": c.ours, "thesis": c.thesis, "status": c.status,
                   "source": c.source, "source_sha256": sources[c.source]["sha256"] if c.source else None,
                   "pointer": c.pointer, "thesis_line": c.thesis_line} for c in cells],
    }
    atomic_write_json(outputs["prov"], prov)
    return cells
