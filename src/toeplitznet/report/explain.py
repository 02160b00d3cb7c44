"""``toeplitznet explain ITEM [--scale S]``: every cell's claim, rule and verdict, so a reader can check it by hand.

For each cell of an item's table it prints the claim kind (what the thesis number states: a point value, a
±, a bound, a range, a truncated count, an exact computation, a speed-up ratio, a timing, a setting, a
citation), the thesis value and its printed precision, the rule applied (with the tolerance and where it
comes from), our value and its source, and the verdict with its reason (the numbers behind it).

Where the values come from, in order:

1. the rendered table ``paper_tables/<scale>/<item>.csv`` (what the reader sees; ``--tables-dir``);
2. else the item's result files, where the scale's plan puts them, judged now with the config's
   ``render.tolerance``;
3. else the thesis's claims alone: every cell pending, with the rule that will be applied.

``--scale`` picks the config (smoke: ``config/config.yaml``, paper: ``config/paper.yaml``) unless
``--configfile`` is given. ``--json`` prints the cells as JSON.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Any

from ..config import SCALE_FILES
from . import verdicts as V

__all__ = ["explain_cells", "format_explanation", "main"]

SCALE_CONFIGS = SCALE_FILES


def _from_csv(path: Path) -> list[dict[str, Any]] | None:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if "rule" not in (reader.fieldnames or ()):
            return None  # rendered before claims were recorded: recompute
        rows = list(reader)
    return [{"row": r["row"], "column": r["column"], "claim": r["claim"], "thesis": r["thesis"],
             "thesis_pm": r["thesis_pm"], "precision": r["precision"], "unit": r["unit"], "rule": r["rule"],
             "ours": r["ours"], "ours_pm": r["ours_pm"], "status": r["status"], "reason": r["reason"],
             "seeds": r.get("seeds", ""), "source": r["source"], "thesis_line": r["thesis_line"]} for r in rows]


def _from_cells(cells) -> list[dict[str, Any]]:
    from .tables import csv_value

    return [{"row": c.row, "column": c.column, "claim": c.claim, "thesis": csv_value(c.thesis),
             "thesis_pm": csv_value(c.thesis_pm), "precision": c.precision, "unit": c.unit, "rule": c.rule,
             "ours": csv_value(c.ours), "ours_pm": csv_value(c.ours_pm), "status": c.status, "reason": c.reason,
             "seeds": csv_value(c.seeds), "source": (f"{c.source}#{c.pointer}" if c.source else ""),
             "thesis_line": c.thesis_line} for c in cells]


def explain_cells(item: str, config: dict[str, Any], tables_dir: str | Path | None = None,
                  thesis_csv: str | Path | None = None) -> tuple[list[dict[str, Any]], str]:
    """The cells of ``item`` (dicts: claim, thesis, precision, rule, ours, status, reason, source, ...) and
    a line saying where they come from (see the module doc)."""
    from ..plan import Paths
    from .tables import collect

    paths = Paths(config)
    folder = Path(tables_dir) if tables_dir else Path(paths.tables)
    rendered = folder / f"{item}.csv"
    if rendered.exists():
        rows = _from_csv(rendered)
        if rows is not None:
            return rows, f"rendered table {rendered}"
    results: list[str] = []
    try:
        from ..plan import build_plan

        plan = build_plan(config)
        results = [p for p in plan.tables.get(item, []) if Path(p).exists()]
    except Exception:  # noqa: BLE001 - a config that does not list the item: thesis claims only
        results = []
    tolerances = config["render"]["tolerance"]
    cells, _ = collect(item, results, tolerances, thesis_csv)
    if results:
        return _from_cells(cells), "result files " + ", ".join(results) + " (judged now; not rendered yet)"
    return _from_cells(cells), "the thesis's claims only (no result file of this scale yet)"


def _show(text: str) -> str:
    """A CSV value as the tables print it (``124.0`` -> ``124``)."""
    from .tables import fmt

    try:
        return fmt(float(text)) if text not in ("", "True", "False") else text
    except ValueError:
        return text


def format_explanation(item: str, scale: str, cells: list[dict[str, Any]], origin: str) -> str:
    """Text of ``toeplitznet explain``: one block per cell."""
    out = [f"{item} at scale {scale}: {len(cells)} cell(s), from {origin}", ""]
    for c in cells:
        where = f"  (thesis L{c['thesis_line']})" if c["thesis_line"] else ""
        out.append(f"[{c['row']} / {c['column']}]{where}")
        kind = c["claim"] or "-"
        desc = V.KINDS.get(kind, "our extra number (the thesis has none)" if kind == "-" else "")
        out.append(f"  claim    {kind}: {desc}")
        if c["thesis"] != "":
            pm = f" ± {_show(c['thesis_pm'])}" if c["thesis_pm"] else ""
            unit = f" {c['unit']}" if c["unit"] else ""
            out.append(f"  thesis   {_show(c['thesis'])}{pm}{unit}  (printed precision: {c['precision'] or '-'})")
        else:
            out.append("  thesis   -")
        out.append(f"  rule     {c['rule'] or '-'}")
        ours = _show(c["ours"]) if c["ours"] != "" else "-"
        pm = f" ± {_show(c['ours_pm'])}" if c["ours_pm"] else ""
        seeds = ("; deterministic (no seed)" if c.get("seeds") == "0"
                 else f"; {c['seeds']} seed(s)" if c.get("seeds") else "")
        src = f"  ({c['source']}{seeds})" if c["source"] else ""
        out.append(f"  ours     {ours}{pm}{src}")
        reason = f": {c['reason']}" if c["reason"] else ""
        out.append(f"  verdict  {c['status']}{reason}")
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """``toeplitznet explain ITEM [--scale S] [--configfile F] [--tables-dir D] [--json]``; 0 on success,
    2 for an unknown item or config."""
    ap = argparse.ArgumentParser(prog="toeplitznet explain", description=__doc__.split("\n\n")[0])
    ap.add_argument("item", help="item id as in the thesis: table_4_5, fig_5_2, ecai_fig_2a ...")
    ap.add_argument("--scale", choices=sorted(SCALE_CONFIGS), default=None,
                    help="smoke (config/config.yaml, default) or paper (config/paper.yaml)")
    ap.add_argument("--configfile", default=None, help="config to read (default: the scale's config file)")
    ap.add_argument("--tables-dir", default=None, help="rendered tables folder (default: paper_tables/<scale>)")
    ap.add_argument("--json", action="store_true", help="print the cells as JSON")
    args = ap.parse_args(argv)
    from ..config import ConfigError, load_config
    from ..reference import OWN_ITEMS, thesis_cells, thesis_item_id
    from ..registry import discover

    try:
        if args.item not in OWN_ITEMS:
            thesis_item_id(args.item)
        known = args.item in discover().items
    except ValueError:
        known = False
    if not known:
        print(f"error: unknown item {args.item!r} (see `toeplitznet items`)", file=sys.stderr)
        return 2
    configfile = args.configfile or SCALE_CONFIGS[args.scale or "smoke"]
    try:
        cfg = load_config(configfile, check_paths=False)
    except (ConfigError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.scale and cfg["scale"] != args.scale:
        print(f"error: {configfile} is scale {cfg['scale']}, --scale says {args.scale}", file=sys.stderr)
        return 2
    cells, origin = explain_cells(args.item, cfg, args.tables_dir)
    if not cells and not thesis_cells(args.item):
        print(f"{args.item}: the thesis has no numbers for this item in reference/thesis_values.csv")
        return 0
    if args.json:
        print(json.dumps({"item": args.item, "scale": cfg["scale"], "origin": origin, "cells": cells},
                         indent=2, ensure_ascii=False))
    else:
        print(format_explanation(args.item, cfg["scale"], cells, origin))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
