"""Render a thesis table: our number beside the thesis's, with the claim, the rule applied and a status per cell.

Inputs are only result files (``results/<scale>/...json`` holding ``cells``); outputs are
``paper_tables/<item>.csv`` (exact values, what the audit reads), ``.md`` and ``.tex`` (for people), and
``<item>.provenance.json`` mapping every cell to its source result file, its sha256 and the JSON pointer of
the value.

Each thesis number is a *claim* of some kind (a point value, a value with ±, a bound stated in prose, a range,
a truncated count, an exact computation, a speed-up ratio, a timing, a setting, a citation: column ``claim``
of ``reference/thesis_values.csv``), judged by its meaning with the rule of
:mod:`toeplitznet.report.verdicts`; every rendered cell states its claim kind, the rule applied and the
reason of its verdict (CSV columns ``claim``, ``precision``, ``rule``, ``reason``; ``toeplitznet explain
ITEM`` prints them). Statuses (:data:`toeplitznet.report.verdicts.STATUSES`):

``reproduced`` / ``deviates``          ours satisfies / does not satisfy the claim under the stated rule
``matches by construction``            a config value was fitted to this number (the cell names the key)
``setting (as in the thesis)`` / ``setting differs from the thesis``   a config echo, not a result
``different hardware, not compared``   an absolute time on other hardware (the ratios are compared)
``smoke-scale, not comparable``        the result comes from the smoke scale (unless scale-independent)
``stand-in inputs, not comparable``    a paper-scale result whose inputs are still stand-ins (header names them)
``cited, not reproduced``              the thesis quotes another paper for this number
``pending``                            the thesis reports it; this pipeline has not produced it (yet)
``not in thesis``                      our extra number (e.g. a newer method's column)
``n/a``                                our study states the quantity does not exist here (value null)

Tolerances (``render.tolerance`` of the config): ``points`` (accuracies, error rates, GAP: absolute, in
percentage points; default 1.0), ``ratio`` (speed-ups: ``rel`` allowed below the thesis's ratio; default 0),
``default`` (other measured values: ``max(abs, rel·|thesis|)``), an item's own entry (replaces ``default``
for that item), and a result cell's ``tolerance`` (replaces both for that cell). Counts, exact computations,
bounds, settings and timings ignore them (see :mod:`~toeplitznet.report.verdicts`).

A result cell may carry ``compare_with`` (another column of the same row in the thesis table): the cell then
sits in its own column but is compared with that thesis cell, e.g. an exact, scale-independent parameter count
of the paper architecture beside the count of the smoke model; both get the same rule, so one count never gets
two verdicts. A cell's own ``scale_independent: true`` exempts it from the smoke status even when the rest of
its result file is scale-dependent. Cells from another item's result file (Figure 4.6 renders Table 4.5's)
are shown only where they answer a claim of the rendered item.

Each table states its scale, the seeds behind its numbers (result key ``seeds``, else the job's provenance),
the devices of its timings (result key ``device_name``) and its stand-in inputs (result key ``stand_in``; at
the paper scale the header then says the table is not the thesis's setting).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..reference import OWN_ITEMS, ThesisCell, reference_dir, thesis_cells
from . import verdicts as V
from .provenance import atomic_write_json, atomic_write_text, describe_file, git_state, sidecar_path, utc_now

REPRODUCED = V.REPRODUCED
DEVIATES = V.DEVIATES
BY_CONSTRUCTION = V.BY_CONSTRUCTION
SETTING = V.SETTING
SETTING_DIFFERS = V.SETTING_DIFFERS
HARDWARE = V.HARDWARE
SMOKE = V.SMOKE
STAND_IN = V.STAND_IN
CITED = V.CITED
PENDING = V.PENDING
EXTRA = V.EXTRA
NOT_APPLICABLE = V.NOT_APPLICABLE

CSV_FIELDS = ["item", "row", "column", "ours", "ours_pm", "thesis", "thesis_pm", "unit", "diff", "rel_diff",
              "status", "claim", "precision", "rule", "reason", "tolerance", "seeds", "scale", "source",
              "thesis_line"]


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
    claim: str = ""
    precision: str = ""
    rule: str = ""
    reason: str = ""
    seeds: int | None = None
    fitted: str | None = None


def tolerance_for(item: str, tolerances: Mapping[str, Mapping[str, float]], cell: Mapping[str, Any] | None = None
                  ) -> dict[str, float]:
    """Cell override, else the item's entry, else the ``default`` entry of ``render.tolerance`` (no merging):
    the tolerance of generic measured values (accuracies use ``points``, see :mod:`.verdicts`)."""
    tol = dict(tolerances.get(item) or tolerances.get("default", {}))
    if cell and cell.get("tolerance"):
        tol = dict(cell["tolerance"])
    return {"abs": float(tol.get("abs", 0.0)), "rel": float(tol.get("rel", 0.0))}


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def cell_status(ours: Any, thesis: ThesisCell | None, *, scale: str, scale_independent: bool,
                tol: Mapping[str, float], item: str = "") -> tuple[str, float | None, float | None]:
    """Status, absolute and relative difference of one cell, with ``tol`` as the ``default`` tolerance
    (see :func:`toeplitznet.report.verdicts.judge` for the full verdict with its rule and reason)."""
    claim = V.parse_claim(thesis) if thesis is not None else None
    v = V.judge(ours, claim, item=item, tolerances={"default": dict(tol)}, scale=scale,
                scale_independent=scale_independent)
    return v.status, v.diff, v.rel_diff


def _read_result(path: str) -> dict[str, Any]:
    try:
        res = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise RenderError(f"{path}: cannot read result file: {exc}") from exc
    if "cells" not in res or "scale" not in res:
        raise RenderError(f"{path}: result file has no 'cells' or 'scale' key")
    return res


def _seeds_of(path: str, res: Mapping[str, Any]) -> tuple[list[int] | None, str]:
    """Seeds behind a result file's numbers: its ``seeds`` key, else its job's provenance sidecar."""
    if res.get("seeds") is not None:
        return [int(s) for s in res["seeds"]], "result"
    side = sidecar_path(path)
    if side.exists():
        try:
            seeds = json.loads(side.read_text()).get("seeds")
        except ValueError:
            seeds = None
        if seeds:
            return [int(s) for s in seeds], "job provenance"
    return None, "not recorded"


def collect(item: str, result_paths: Sequence[str | Path], tolerances: Mapping[str, Mapping[str, float]],
            thesis_csv: str | Path | None = None) -> tuple[list[RenderedCell], dict[str, Any]]:
    """Join our result cells with the thesis cells of ``item``; return the cells and table metadata."""
    thesis = thesis_cells(item, thesis_csv)
    by_key = {(c.row, c.column): c for c in thesis}
    for c in thesis:  # a bad claim notation fails here, naming the cell, before anything is written
        V.parse_claim(c)
    scales, notes, stand_ins, indep = set(), [], set(), []
    seeds_by_source: dict[str, tuple[list[int] | None, str]] = {}
    devices: dict[str, str] = {}
    ours: dict[tuple[str, str], tuple[dict[str, Any], str, str, dict[str, Any]]] = {}
    for path in result_paths:
        path = str(path)
        res = _read_result(path)
        scales.add(res["scale"])
        indep.append(bool(res.get("scale_independent", False)))
        notes.extend(res.get("notes", []))
        if res.get("stand_in"):
            stand_ins.add(res["stand_in"])
        seeds_by_source[path] = _seeds_of(path, res)
        if res.get("device_name"):
            devices[path] = str(res["device_name"])
        foreign = bool(res.get("item")) and res["item"] != item
        for i, cell in enumerate(res["cells"]):
            for key in ("row", "column", "value"):
                if key not in cell:
                    raise RenderError(f"{path}: cell {i} has no {key!r}")
            k = (str(cell["row"]), str(cell["column"]))
            target = (k[0], str(cell["compare_with"])) if cell.get("compare_with") else k
            if foreign and target not in by_key:
                continue  # another item's number, not a claim of this item
            if k in ours:
                raise RenderError(f"{path}: cell ({k[0]!r}, {k[1]!r}) also produced by {ours[k][1]}")
            ours[k] = (cell, path, f"/cells/{i}/value", res)
    if len(scales) > 1:
        raise RenderError(f"{item}: result files mix scales {sorted(scales)}; the two scales are never mixed")
    scale = scales.pop() if scales else "smoke"
    scale_independent = bool(indep) and all(indep)
    rendered, independent_columns = [], []
    keys = [(c.row, c.column) for c in thesis] + [k for k in ours if k not in by_key]
    for key in keys:
        th = by_key.get(key)
        cell, source, pointer, res = ours.get(key, (None, None, None, {}))
        if cell is not None and cell.get("compare_with"):
            th = by_key.get((key[0], str(cell["compare_with"])))
            if th is None:
                raise RenderError(f"{source}: cell ({key[0]!r}, {key[1]!r}) compares with thesis column "
                                  f"{cell['compare_with']!r}, which {item} does not have in row {key[0]!r}")
        claim = V.parse_claim(th) if th is not None else None
        value = cell["value"] if cell else None
        indep_cell = (scale_independent or bool(res.get("scale_independent"))
                      or bool(cell and cell.get("scale_independent")))
        if indep_cell and not scale_independent and key[1] not in independent_columns:
            independent_columns.append(key[1])
        stand_in = res.get("stand_in") if scale == "paper" else None
        only = set(devices.values())
        device = devices.get(source) if source else (next(iter(only)) if len(only) == 1 else None)
        verdict = V.judge(value, claim, item=item, tolerances=tolerances, scale=scale,
                          scale_independent=indep_cell, cell=cell, stand_in=stand_in, device=device)
        seeds = None
        if cell is not None:
            seeds = cell.get("n_seeds")
            if seeds is None and seeds_by_source.get(source, (None,))[0] is not None:
                seeds = len(seeds_by_source[source][0])
        rendered.append(RenderedCell(
            item=item, row=key[0], column=key[1], ours=value, ours_pm=cell.get("plus_minus") if cell else None,
            thesis=th.value if th else None, thesis_pm=th.plus_minus if th else None,
            unit=(th.unit if th else (cell or {}).get("unit", "")), diff=verdict.diff, rel_diff=verdict.rel_diff,
            status=verdict.status, tolerance=verdict.rule, scale=scale, source=source,
            thesis_line=th.source_line if th else "", pointer=pointer,
            claim=claim.kind if claim else "", precision=claim.precision_text if claim else "",
            rule=verdict.rule, reason=verdict.reason, seeds=seeds,
            fitted=(cell or {}).get("fitted")))
    meta = {"item": item, "scale": scale, "scale_independent": scale_independent, "notes": notes,
            "stand_in": sorted(stand_ins), "independent_columns": independent_columns,
            "seeds": {p: {"seeds": s, "from": f} for p, (s, f) in seeds_by_source.items()},
            "devices": devices}
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


def seeds_line(meta: Mapping[str, Any]) -> str:
    """The header line stating the seeds behind the numbers of a table."""
    entries = meta.get("seeds") or {}
    if not entries:
        return "Seeds: no result files"
    parts = {}
    for path, e in entries.items():
        s = e["seeds"]
        if s is None:
            txt = "not recorded"
        elif not s:
            txt = "none (deterministic: no random draw behind these numbers)"
        else:
            txt = (f"{len(s)} seed{'s' if len(s) != 1 else ''} ({', '.join(map(str, s))})"
                   + ("; numbers are means ± std over them" if len(s) > 1 else "; one run per number, no ± over seeds"))
        parts.setdefault(txt + ("" if e["from"] == "result" else f", from the {e['from']}"), []).append(
            "/".join(Path(path).parts[-2:]))
    if len(parts) == 1:
        return f"Seeds behind each number: {next(iter(parts))}"
    return "Seeds behind each number: " + "; ".join(f"{', '.join(v)}: {k}" for k, v in parts.items())


def _header_lines(meta: Mapping[str, Any], caption: str) -> list[str]:
    scale = meta["scale"]
    deviations = list(meta.get("scale_deviations") or [])
    if scale == "paper" and deviations:
        scale_line = (f"Scale: paper, but NOT the thesis's settings ({len(deviations)} key(s) differ from "
                      f"config/paper.yaml: {', '.join(deviations[:8])}{', ...' if len(deviations) > 8 else ''})")
    elif meta["scale_independent"]:
        scale_line = f"Scale: {scale} (scale-independent: the same computation and settings as at paper scale)"
    elif scale == "medium":
        scale_line = ("Scale: MEDIUM (claims check: real data on the machine, smaller models and budgets; it judges "
                      "the thesis's directional claims, never its numbers)")
    elif scale == "smoke":
        scale_line = ("Scale: SMOKE (pipeline check on small stand-in data; these numbers are NOT a reproduction "
                      "and are never compared with the thesis)")
        cols = meta.get("independent_columns") or []
        if cols:
            scale_line = scale_line[:-1] + ("; exception: the scale-independent column(s) "
                                            + ", ".join(f"'{c}'" for c in cols)
                                            + ", the same computation at both scales, are compared)")
    elif meta.get("stand_in"):
        scale_line = ("Scale: paper settings, but NOT the thesis's setting: some inputs are still stand-ins "
                      f"(below); their cells are '{STAND_IN}'")
    else:
        scale_line = "Scale: paper (the thesis's settings)"
    lines = [caption, scale_line]
    if meta.get("stand_in"):
        lines.append("Stand-in data: " + "; ".join(meta["stand_in"]))
    lines.append(seeds_line(meta))
    if meta.get("devices"):
        lines.append("Device: " + "; ".join(sorted(set(meta["devices"].values())))
                     + " (absolute times are not compared with the thesis's hardware; ratios are)")
    lines.append(f"Claims and rules per cell: `toeplitznet explain {meta['item']} --scale {scale}`")
    g = git_state()
    lines.append(f"Commit: {g.get('commit')}{' (dirty)' if g.get('dirty') else ''}")
    return lines


def _status_text(c: RenderedCell) -> str:
    if c.status == BY_CONSTRUCTION and c.fitted:
        return f"{c.status} (fitted: {c.fitted})"
    return c.status


def to_markdown(cells: Sequence[RenderedCell], meta: Mapping[str, Any], caption: str) -> str:
    out = [f"# {meta['item']}", ""] + [f"{line}  " for line in _header_lines(meta, caption)] + [""]
    out.append("| row | column | ours | thesis | unit | claim | Δ | status | rule | source |")
    out.append("|---|---|---|---|---|---|---|---|---|---|")
    for c in cells:
        ours = fmt(c.ours) + (f" ± {fmt(c.ours_pm)}" if c.ours_pm is not None else "")
        th = fmt(c.thesis) + (f" ± {fmt(c.thesis_pm)}" if c.thesis_pm is not None else "")
        rule = c.rule if c.status not in (EXTRA, NOT_APPLICABLE, CITED) else ""
        out.append(f"| {c.row} | {c.column} | {ours} | {th} | {c.unit or ''} | {c.claim} | {fmt(c.diff)} | {_status_text(c)} | "
                   f"{rule.replace('|', '&#124;')} | {c.source or ''} |")
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
    lines = [r"\begin{table}[t]", r"\centering", r"\small", r"\begin{tabular}{llrrlrl}", r"\toprule",
             r"Row & Column & Ours & Thesis & Claim & $\Delta$ & Status \\", r"\midrule"]
    for c in cells:
        ours = fmt(c.ours) + (f" $\\pm$ {fmt(c.ours_pm)}" if c.ours_pm is not None else "")
        th = fmt(c.thesis) + (f" $\\pm$ {fmt(c.thesis_pm)}" if c.thesis_pm is not None else "")
        lines.append(" & ".join(_tex_escape(x) if "$" not in x else x
                                for x in (c.row, c.column, ours, th, c.claim, fmt(c.diff), _status_text(c)))
                     + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", rf"\caption{{{_tex_escape(head)}}}",
              rf"\label{{tab:{meta['item']}}}", r"\end{table}"]
    return "\n".join(lines) + "\n"


def render_table(item: str, result_paths: Sequence[str | Path], outputs: Mapping[str, str | Path],
                 tolerances: Mapping[str, Mapping[str, float]], caption: str = "",
                 thesis_csv: str | Path | None = None, extra: Mapping[str, Any] | None = None) -> list[RenderedCell]:
    """Write ``outputs['csv'|'md'|'tex'|'prov']`` for ``item`` from ``result_paths``; return the cells.

    The provenance map records the thesis values file it compared with (``reference``, hashed) and ``extra``
    (e.g. the code fingerprint of the rendering job)."""
    cells, meta = collect(item, result_paths, tolerances, thesis_csv)
    meta["scale_deviations"] = list((extra or {}).get("scale_deviations") or [])
    caption = caption or (f"{item}: the thesis's directional claims judged on our runs (no thesis numbers)"
                          if item in OWN_ITEMS else f"{item}: ours beside the thesis")
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
                   "pointer": c.pointer, "thesis_line": c.thesis_line, "claim": c.claim, "rule": c.rule}
                  for c in cells],
        "reference": [describe_file(thesis_csv or reference_dir() / "thesis_values.csv")],
        **dict(extra or {}),
    }
    atomic_write_json(outputs["prov"], prov)
    return cells
