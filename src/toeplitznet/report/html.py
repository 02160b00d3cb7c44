"""A rendered table as a standalone HTML page (what the Snakemake report shows inline): caption, scale,
status summary, then one row per cell with its unit and status, statuses coloured."""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Sequence
from typing import Any

from ..io import atomic_write_text

__all__ = ["table_html", "write_table_html"]

_COLOURS = {"reproduced": "#d8f0d8", "deviates": "#f6d5d5", "matches by construction": "#e4ecf7",
            "smoke-scale, not comparable": "#f2f2f2", "cited, not reproduced": "#fff3cd", "pending": "#fff3cd"}


def _fmt(v: Any) -> str:
    from .tables import fmt

    return html.escape(fmt(v))


def table_html(cells: Sequence[Any], *, item: str, title: str, scale: str, header: Sequence[str] = ()) -> str:
    """HTML of rendered cells (:class:`toeplitznet.report.tables.RenderedCell`)."""
    counts = Counter(c.status for c in cells)
    summary = ", ".join(f"{n} {s}" for s, n in counts.most_common())
    rows = []
    for c in cells:
        ours = _fmt(c.ours) + (f" ± {_fmt(c.ours_pm)}" if c.ours_pm is not None else "")
        thesis = _fmt(c.thesis) + (f" ± {_fmt(c.thesis_pm)}" if c.thesis_pm is not None else "")
        bg = _COLOURS.get(c.status, "#ffffff")
        rows.append(f"<tr><td>{html.escape(c.row)}</td><td>{html.escape(c.column)}</td><td>{ours}</td>"
                    f"<td>{thesis}</td><td>{html.escape(c.unit or '')}</td><td>{_fmt(c.diff)}</td>"
                    f"<td style='background:{bg}'>{html.escape(c.status)}</td>"
                    f"<td>{html.escape(c.thesis_line or '')}</td></tr>")
    head = "".join(f"<p>{html.escape(h)}</p>" for h in header)
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{html.escape(item)}</title>
<style>body{{font-family:sans-serif;font-size:13px}} table{{border-collapse:collapse}}
td,th{{border:1px solid #bbb;padding:2px 6px;text-align:left}} th{{background:#eee}}</style></head>
<body><h3>{html.escape(title)}</h3>{head}
<p><b>Scale: {html.escape(scale)}</b>. Cells: {html.escape(summary)}.</p>
<table><tr><th>row</th><th>column</th><th>ours</th><th>thesis</th><th>unit</th><th>Δ</th><th>status</th>
<th>thesis line</th></tr>
{chr(10).join(rows)}
</table></body></html>
"""


def write_table_html(path, cells, **kw) -> None:
    """Write :func:`table_html` atomically."""
    atomic_write_text(path, table_html(cells, **kw))
