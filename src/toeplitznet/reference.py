"""The thesis's own numbers (``reference/thesis_values.csv``) and figure data (``reference/figure_data``).

Items are named as in the thesis (``table_D_1``, ``fig_5_2``, ``ecai_fig_2a``); the CSV uses lower-case ids
(``table_d_1``, ``figure_5_2``, ``ecai_figure_2``). :func:`thesis_item_id` maps one to the other.

Every row of ``thesis_values.csv`` also says what kind of claim the number is (column ``claim``: a point
value, a value with ±, a bound stated in prose, a range, a truncated count, an exact computation, a speed-up
ratio, a timing, a setting, a citation) and the step of its last printed digit (``precision``); the notation
is documented in ``reference/README.md`` and parsed by :func:`toeplitznet.report.verdicts.parse_claim`.
Both columns are optional in a thesis-values file (older files and test fixtures without them get the kind
inferred from the note, the ± and the unit).
"""

from __future__ import annotations

import csv
import dataclasses
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


def project_root() -> Path:
    """The repository root: ``$TOEPLITZNET_ROOT`` or the folder holding ``reference/`` above this file."""
    env = os.environ.get("TOEPLITZNET_ROOT")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "reference" / "thesis_values.csv").exists():
            return parent
    return Path.cwd()


def reference_dir() -> Path:
    return project_root() / "reference"


def thesis_item_id(item: str) -> str:
    """``table_D_1`` → ``table_d_1``; ``fig_5_2`` → ``figure_5_2``; ``ecai_fig_2a`` → ``ecai_figure_2``."""
    m = re.fullmatch(r"(ecai_)?(fig|table)_([0-9A-Za-z]+)_?([0-9]*)([a-z]?)", item)
    if not m:
        raise ValueError(f"not a thesis item name: {item!r}")
    prefix, kind, first, second, _panel = m.groups()
    kind = "figure" if kind == "fig" else "table"
    if prefix:  # ECAI items are numbered once: ecai_fig_2a → ecai_figure_2
        return f"ecai_{kind}_{re.sub(r'[a-z]$', '', first.lower())}"
    return f"{kind}_{first.lower()}_{second}" if second else f"{kind}_{first.lower()}"


@dataclass(frozen=True)
class ThesisCell:
    item: str
    row: str
    column: str
    value: float | str
    plus_minus: float | None
    unit: str
    source_line: str
    note: str
    claim: str = ""
    precision: str = ""
    text: str = ""

    @property
    def cited(self) -> bool:
        """A number the thesis quotes from another paper (``claim`` ``citation``, or a note starting "cited")."""
        if self.claim.strip():
            return self.claim.strip().lower() == "citation"
        return self.note.strip().lower().startswith("cited")

    @property
    def printed(self) -> str:
        """The value as printed in the CSV (keeps trailing zeros: ``0.50``), for the precision of the claim."""
        return self.text or str(self.value)


def _num(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text


#: columns every thesis-values file has; the claim columns are optional (see reference/README.md)
REQUIRED_COLUMNS = frozenset({"item", "row", "column", "value", "plus_minus", "unit", "source_line", "note"})
OPTIONAL_COLUMNS = frozenset({"claim", "precision"})


@lru_cache(maxsize=4)
def _load(path: str) -> tuple[ThesisCell, ...]:
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: thesis reference values are missing (see reference/README.md)")
    out = []
    with open(p, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        got = set(reader.fieldnames or ())
        if not REQUIRED_COLUMNS <= got or not got <= REQUIRED_COLUMNS | OPTIONAL_COLUMNS:
            raise ValueError(f"{p}: expected columns {sorted(REQUIRED_COLUMNS)} (optionally "
                             f"{sorted(OPTIONAL_COLUMNS)}), got {reader.fieldnames}")
        for line_no, r in enumerate(reader, start=2):
            if not r["item"]:
                raise ValueError(f"{p}:{line_no}: empty item id")
            out.append(ThesisCell(r["item"], r["row"], r["column"], _num(r["value"]),
                                  float(r["plus_minus"]) if r["plus_minus"] else None,
                                  r["unit"], r["source_line"], r["note"], (r.get("claim") or "").strip(),
                                  (r.get("precision") or "").strip(), r["value"].strip()))
    return tuple(out)


#: tables printed in panels, rendered as one item: panel id -> the row prefix of its cells ("CIFAR-10: AT")
PANELS = {"table_5_3": {"table_5_3a": "CIFAR-10", "table_5_3b": "CIFAR-100"}}


#: items of ours that are not a thesis table or figure (no thesis cells): the claims check
OWN_ITEMS = ("claims",)


def thesis_cells(item: str, path: str | os.PathLike | None = None) -> list[ThesisCell]:
    """All thesis cells of one item (thesis naming, e.g. ``table_D_1``), in file order. The cells of a table in
    panels (:data:`PANELS`) come from each panel, their rows prefixed by the panel's name. None for
    :data:`OWN_ITEMS`."""
    if item in OWN_ITEMS:
        return []
    path = Path(path) if path else reference_dir() / "thesis_values.csv"
    want = thesis_item_id(item)
    cells = _load(str(path))
    if want in PANELS:
        return [dataclasses.replace(c, row=f"{PANELS[want][c.item]}: {c.row}") for c in cells if c.item in PANELS[want]]
    return [c for c in cells if c.item == want]


def figure_data_path(name: str) -> Path:
    """Path of a reference figure-data CSV (``reference/figure_data/<name>``), checked to exist."""
    p = reference_dir() / "figure_data" / name
    if not p.exists():
        raise FileNotFoundError(f"{p}: reference figure data missing")
    return p
