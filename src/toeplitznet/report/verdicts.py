"""The claim model: what kind of statement each thesis number is, and how ours is judged against it.

A replication's verdict is only as honest as its reading of the thesis. A thesis number is not always a
value to be matched within a few percent: "over 78 %" is a lower bound, "lower than 4·10⁻⁴" an upper
bound, "49K" a parameter count the thesis truncated, 1088 ms a time on the thesis's GPU, "20 kernels" a
setting. Each row of ``reference/thesis_values.csv`` says which (its ``claim`` and ``precision`` columns,
documented in ``reference/README.md``); :func:`parse_claim` reads it (or infers it for files without the
columns) and :func:`judge` gives the verdict of one of our numbers, with the rule it applied and the reason,
so that every verdict can be checked by hand (``toeplitznet explain ITEM``).

Claim kinds (:data:`KINDS`) and their rule:

``point``           a measured value printed to some precision. Accuracies, error rates and GAP are judged in
                    percentage points: ``|ours − thesis| ≤ render.tolerance.points.abs`` points (default 1.0);
                    other quantities ``|ours − thesis| ≤ max(abs, rel·|thesis|)`` (the cell's, else the item's,
                    else ``render.tolerance.default``).
``pm``              a value printed with ±: as ``point``, with the limit ``max(tolerance, thesis ±)``.
``lower``           a lower bound stated in prose ("over 78 %"): ``ours > bound``; ``lower-or-equal``:
                    ``ours ≥ bound``. No tolerance: a bound holds or it does not.
``upper``           an upper bound ("lower than 4·10⁻⁴"): ``ours < bound``; ``upper-or-equal``: ``ours ≤ bound``.
``range``           "from lo to hi" (value ``lo..hi``): a number must lie in ``[lo, hi]``; a span ``"a..b"`` must
                    have both ends equal to the thesis's after truncation or rounding at their printed digits.
``count``           a parameter count in the thesis's unit (K, M): equal after the thesis's own rule, i.e. ours
                    truncated **or** rounded at the printed digit equals the printed count (the thesis does
                    both: 70 666 → "70K", 139 968 → "140K"). Never a ±-step tolerance.
``exact``           a deterministic computation printed truncated (Table D.1): ours truncated toward zero at
                    the printed digit equals the printed value.
``ratio``           a speed-up ratio ("faster by a factor up to 12"): the claim is a speed-up of at least the
                    thesis's: ``ours ≥ thesis·(1 − render.tolerance.ratio.rel)`` (default rel 0).
``timing``          an absolute time measured on the thesis's hardware: not compared ("different hardware"),
                    the two devices named; the ratio columns are what is compared.
``setting``         a setting of the experiment (a config echo such as Table D.1's d): shown as a setting,
                    compared for equality, never counted as a reproduced result.
``citation``        a number quoted from another paper: "cited, not reproduced".

A result cell chosen to match a thesis number by construction (a config value fitted to it) carries
``"fitted": "<config key>"``; when the rule holds its status is "matches by construction" (the rule names the
key), never "reproduced". A result cell with ``"setting": true`` is a setting whatever the thesis cell's kind.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["KINDS", "STATUSES", "Claim", "Verdict", "parse_claim", "judge", "quantity_of", "printed_step",
           "truncate", "round_half_away", "REPRODUCED", "DEVIATES", "BY_CONSTRUCTION", "SETTING",
           "SETTING_DIFFERS", "HARDWARE", "SMOKE", "STAND_IN", "CITED", "PENDING", "EXTRA", "NOT_APPLICABLE",
           "MEDIUM", "CLAIM_HOLDS", "CLAIM_CONTRADICTED", "CLAIM_INCONCLUSIVE", "DEFAULT_POINTS"]

REPRODUCED = "reproduced"
DEVIATES = "deviates"
BY_CONSTRUCTION = "matches by construction"
SETTING = "setting (as in the thesis)"
SETTING_DIFFERS = "setting differs from the thesis"
HARDWARE = "different hardware, not compared"
SMOKE = "smoke-scale, not comparable"
STAND_IN = "stand-in inputs, not comparable"
CITED = "cited, not reproduced"
PENDING = "pending"
EXTRA = "not in thesis"
NOT_APPLICABLE = "n/a"
MEDIUM = "medium-scale, not comparable"
#: verdicts of the claims check (toeplitznet.claims): a directional claim, not a number, is judged
CLAIM_HOLDS = "claim holds"
CLAIM_CONTRADICTED = "claim contradicted"
CLAIM_INCONCLUSIVE = "claim inconclusive"

#: every status a rendered cell can have, with what it means (rendered in reference/README.md and docs)
STATUSES = {
    REPRODUCED: "ours satisfies the claim under the rule stated in the cell",
    DEVIATES: "ours does not satisfy the claim under the rule stated in the cell",
    BY_CONSTRUCTION: "a config value was chosen to match this number (named); not evidence of reproduction",
    SETTING: "a setting of the experiment that our config follows (not a result)",
    SETTING_DIFFERS: "a setting of the experiment that our config does not follow (see docs/deviations.md)",
    HARDWARE: "an absolute time on other hardware; the ratio columns are compared instead",
    SMOKE: "smoke scale: stand-in data and small models, never compared",
    STAND_IN: "paper scale, but an input is still a stand-in (named in the table header)",
    CITED: "quoted by the thesis from another paper",
    PENDING: "the thesis reports it; the pipeline has not produced it (yet)",
    EXTRA: "our extra number",
    NOT_APPLICABLE: "our study states the quantity does not exist here",
    MEDIUM: "medium scale (claims check): real data on the machine, smaller models; numbers never compared",
    CLAIM_HOLDS: "claims check: the whole confidence interval lies on the side the thesis asserts",
    CLAIM_CONTRADICTED: "claims check: the whole confidence interval lies on the other side",
    CLAIM_INCONCLUSIVE: "claims check: the interval straddles the threshold, or one seed per arm (no interval)",
}

KINDS = {
    "point": "a measured value printed to some precision",
    "pm": "a value printed with ± (mean ± sd)",
    "lower": "a lower bound stated in prose ('over 78%'): ours > bound",
    "lower-or-equal": "a lower bound ('at least'): ours >= bound",
    "upper": "an upper bound stated in prose ('lower than 4e-4'): ours < bound",
    "upper-or-equal": "an upper bound ('at most'): ours <= bound",
    "range": "a range 'from lo to hi' (value lo..hi)",
    "count": "a count printed in the thesis's unit, truncated or rounded at the printed digit",
    "exact": "a deterministic computation printed truncated at its last digit",
    "ratio": "a speed-up ratio: the claim is at least this speed-up",
    "timing": "an absolute time on the thesis's hardware (not compared across hardware)",
    "setting": "a setting of the experiment (config echo), not a result",
    "citation": "a number quoted from another paper",
}

#: default tolerance of accuracies / error rates / GAP, in percentage points (``render.tolerance.points.abs``)
DEFAULT_POINTS = 1.0

_NUM = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


# ------------------------------------------------------------------------------------------ numbers
def _to_float(v: Any) -> float | None:
    """A number from a value or printed text (``"25 620"`` → 25620.0); None when it is not one."""
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)):
        return float(v)
    t = str(v).strip().replace("\u2009", "").replace("\u202f", "").replace(" ", "").replace("\u2212", "-")
    return float(t) if _NUM.match(t) else None


def printed_step(text: str) -> float | None:
    """Step of the last printed digit of ``text``: ``"0.757"`` → 0.001, ``"49"`` → 1, ``"4e-4"`` → 1e-4,
    ``"1.0e-10"`` → 1e-11. Trailing zeros count as printed digits (``"370"`` → 1; say ``precision`` 10 in the
    reference data when a prose number is rounder than its digits)."""
    t = str(text).strip().replace(" ", "").lstrip("+-")
    m = re.match(r"^(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$", t)
    if not m or not (m.group(1) or m.group(2)):
        return None
    decimals = len(m.group(2) or "")
    exp = int(m.group(3) or 0)
    return 10.0 ** (exp - decimals)


def truncate(v: float, step: float) -> float:
    """``v`` truncated toward zero at ``step`` (robust to binary fractions: 0.29/0.01 is 28.999...)."""
    q = abs(v) / step
    n = math.floor(q + 1e-9 * max(1.0, q))
    return math.copysign(n * step, v) if n else 0.0


def round_half_away(v: float, step: float) -> float:
    """``v`` rounded at ``step``, halves away from zero (the printing convention, not banker's rounding)."""
    q = abs(v) / step
    n = math.floor(q + 0.5 + 1e-9 * max(1.0, q))
    return math.copysign(n * step, v) if n else 0.0


def _same_at(a: float, b: float, step: float) -> bool:
    return abs(a - b) <= 1e-6 * step


def _g(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


# ------------------------------------------------------------------------------------------ claims
@dataclass(frozen=True)
class Claim:
    """What one thesis number claims.

    ``kind`` one of :data:`KINDS`; ``value`` the number (the bound for a bound; ``lo``/``hi`` for a range);
    ``step`` the step of its last printed digit (``hi_step`` for a range's upper end); ``quantity`` how it is
    measured (``points`` for accuracies / error rates / GAP, ``count``, ``time``, ``speed-up``, ``generic``);
    ``points_per_unit`` 100 for a fraction, 1 for a percentage; ``hardware`` the thesis's device (timings);
    ``text`` the printed value; ``notation`` the ``claim`` column as written (empty: inferred)."""

    kind: str
    value: float | str | None
    step: float | None
    quantity: str
    points_per_unit: float
    text: str
    unit: str
    plus_minus: float | None = None
    lo: float | None = None
    hi: float | None = None
    hi_step: float | None = None
    hardware: str = ""
    notation: str = ""
    inferred: bool = False

    @property
    def description(self) -> str:
        q = {"points": f"accuracy-like, in percentage points ({'fraction' if self.points_per_unit == 100 else '%'})",
             "count": "count", "time": "time", "speed-up": "speed-up ratio", "generic": "value"}[self.quantity]
        how = "inferred from the note/unit" if self.inferred else "from reference/thesis_values.csv"
        return f"{self.kind} ({KINDS[self.kind]}; quantity: {q}; kind {how})"

    @property
    def precision_text(self) -> str:
        if self.kind == "range":
            return f"{_g(self.step)} .. {_g(self.hi_step)}" if self.step else "-"
        return _g(self.step) if self.step else "-"


def quantity_of(unit: str, column: str) -> tuple[str, float]:
    """``(quantity, points_per_unit)`` of a thesis cell from its unit and column (first rule that matches):
    ``ms`` → time; ``.. time / .. time`` or a 'speed-up' column → speed-up; a unit in K/M/B/T params or weights,
    'million weights', or a column starting with '#' → count; accuracy / error / GAP (unit or column) in a
    fraction, GAP or % unit → points (100 points per unit for fractions and GAP, 1 for %); else generic.
    (A '#' column in a % unit is a share, not a count.)"""
    u, c = unit.strip().lower(), column.strip().lower()
    if re.match(r"^ms\b", u):
        return "time", 1.0
    if " time /" in u or "speed-up" in c or "speedup" in c:
        return "speed-up", 1.0
    if re.match(r"^([kmbt] )?(params|weights)\b", u) or u.startswith("million weights") \
            or (c.startswith("#") and not u.startswith("%")):
        return "count", 1.0
    if re.search(r"accura|\bacc\b|acc\.|error|\bgap\b", u + " " + c):
        if u.startswith("fraction") or u.startswith("gap"):
            return "points", 100.0
        if u.startswith("%") or u.startswith("points"):
            return "points", 1.0
    return "generic", 1.0


def _infer_kind(cell) -> str:
    note = (cell.note or "").strip().lower()
    if note.startswith("cited"):
        return "citation"
    if note.startswith("setting") or note.startswith("prose (setting"):
        return "setting"
    q, _ = quantity_of(cell.unit, cell.column)
    if q == "time":
        return "timing"
    if q == "speed-up":
        return "ratio"
    if cell.plus_minus is not None:
        return "pm"
    if q == "count":
        return "count"
    return "point"


def parse_claim(cell) -> Claim:
    """The :class:`Claim` of a :class:`toeplitznet.reference.ThesisCell` (its ``claim``/``precision`` columns;
    inferred from note, ± and unit when ``claim`` is empty). ``ValueError`` names the cell on bad notation."""
    notation = (getattr(cell, "claim", "") or "").strip()
    text = getattr(cell, "printed", None) or str(cell.value)
    hardware = ""
    kind = notation.lower()
    if "@" in notation:
        kind, hardware = notation.split("@", 1)
        kind, hardware = kind.strip().lower(), hardware.strip()
    inferred = not kind
    if inferred:
        kind = _infer_kind(cell)
    if kind not in KINDS:
        raise ValueError(f"thesis cell {cell.item} [{cell.row} / {cell.column}]: unknown claim kind {kind!r} "
                         f"(known: {', '.join(KINDS)}; see reference/README.md)")
    quantity, ppu = quantity_of(cell.unit, cell.column)
    prec = (getattr(cell, "precision", "") or "").strip()
    where = f"thesis cell {cell.item} [{cell.row} / {cell.column}]"
    if kind == "range":
        m = re.match(r"^\s*(.+?)\s*\.\.\s*(.+?)\s*$", text)
        if not m or _to_float(m.group(1)) is None or _to_float(m.group(2)) is None:
            raise ValueError(f"{where}: a range's value must be 'lo..hi', got {text!r}")
        lo, hi = _to_float(m.group(1)), _to_float(m.group(2))
        if prec:
            parts = [p.strip() for p in prec.split("..")]
            s_lo = float(parts[0])
            s_hi = float(parts[1]) if len(parts) > 1 else s_lo
        else:
            s_lo, s_hi = printed_step(m.group(1)), printed_step(m.group(2))
        return Claim(kind, text, s_lo, quantity, ppu, text, cell.unit, cell.plus_minus, lo, hi, s_hi, hardware,
                     notation, inferred)
    value = _to_float(cell.value) if not isinstance(cell.value, float) else cell.value
    if value is None and kind not in ("citation", "setting", "point"):
        raise ValueError(f"{where}: claim {kind!r} needs a number, got {cell.value!r}")
    step = float(prec) if prec else printed_step(text)
    return Claim(kind, value if value is not None else cell.value, step, quantity, ppu, text, cell.unit,
                 cell.plus_minus, hardware=hardware, notation=notation, inferred=inferred)


# ------------------------------------------------------------------------------------------ verdicts
@dataclass(frozen=True)
class Verdict:
    """The verdict of one cell: ``status``, the ``rule`` applied (stated per cell), the ``reason`` (the numbers
    behind the verdict), and ``diff`` / ``rel_diff`` (ours − thesis) where they mean something."""

    status: str
    rule: str
    reason: str
    diff: float | None = None
    rel_diff: float | None = None


def _tol(tolerances: Mapping[str, Any], item: str, cell: Mapping[str, Any] | None, key: str | None = None
         ) -> tuple[dict[str, float], str]:
    """Tolerance and where it comes from: the cell's, else the item's entry, else ``key`` (a quantity entry such
    as ``points``), else ``default`` of ``render.tolerance``."""
    if cell and cell.get("tolerance"):
        src, t = "the result cell", dict(cell["tolerance"])
    elif key and key in tolerances:
        src, t = f"render.tolerance.{key}", dict(tolerances[key])
    elif item in tolerances:
        src, t = f"render.tolerance.{item}", dict(tolerances[item])
    else:
        src, t = "render.tolerance.default", dict(tolerances.get("default", {}))
    return {"abs": float(t.get("abs", 0.0)), "rel": float(t.get("rel", 0.0))}, src


def _diffs(ours: float, thesis: float) -> tuple[float, float | None]:
    d = ours - thesis
    return d, (d / abs(thesis) if thesis else None)


def rule_of(claim: Claim, *, item: str, tolerances: Mapping[str, Any], cell: Mapping[str, Any] | None = None,
            device: str | None = None) -> str:
    """The rule :func:`judge` applies to ``claim`` (in words, with the numbers), without our value."""
    return _judge_numeric(None, claim, item=item, tolerances=tolerances, cell=cell, device=device).rule


def judge(ours: Any, claim: Claim | None, *, item: str, tolerances: Mapping[str, Any], scale: str,
          scale_independent: bool, cell: Mapping[str, Any] | None = None, stand_in: str | None = None,
          device: str | None = None) -> Verdict:
    """Verdict of our value ``ours`` against ``claim`` (None: the thesis has no such number).

    Order: no thesis number → "not in thesis"; a citation → "cited"; no value of ours → "pending" ("n/a" when
    our cell says null); smoke scale (unless scale-independent) → "smoke-scale, not comparable"; a paper-scale
    result with stand-in inputs → "stand-in inputs, not comparable"; then the kind's rule (timings: "different
    hardware"; settings; fitted cells: "matches by construction")."""
    cell = cell or {}
    if claim is None and cell.get("claim_verdict"):  # a claims-check cell carries its own verdict
        return Verdict(f"claim {cell['claim_verdict']}", str(cell.get("claim_rule", "")),
                       str(cell.get("claim_reason", "")))
    if claim is None:
        if ours is None:
            return Verdict(NOT_APPLICABLE, "our extra number", "our study states it does not exist here")
        return Verdict(EXTRA, "our extra number (the thesis has none to compare with)", "not in thesis")
    if claim.kind == "citation":
        return Verdict(CITED, "quoted by the thesis from another paper: not reproduced",
                       "the thesis cites this number")
    base = _judge_numeric(None, claim, item=item, tolerances=tolerances, cell=cell, device=device)
    if ours is None:
        if "value" in cell:
            return Verdict(NOT_APPLICABLE, base.rule, "our study states the quantity does not exist here (null)")
        return Verdict(PENDING, base.rule, "not produced by the pipeline (yet)")
    indep = scale_independent or bool(cell.get("scale_independent"))
    v = _judge_numeric(ours, claim, item=item, tolerances=tolerances, cell=cell, device=device)
    if scale == "smoke" and not indep:
        return Verdict(SMOKE, v.rule, "smoke scale: stand-in data and small models; never compared with the thesis",
                       v.diff, v.rel_diff)
    if scale == "medium" and not indep:
        return Verdict(MEDIUM, v.rule, "medium scale: judges the thesis's directional claims, never its numbers",
                       v.diff, v.rel_diff)
    if stand_in and not indep and v.status not in (SETTING, SETTING_DIFFERS):
        return Verdict(STAND_IN, v.rule, f"an input is a stand-in ({stand_in}); would be: {v.status} ({v.reason})",
                       v.diff, v.rel_diff)
    fitted = cell.get("fitted")
    if fitted and v.status in (REPRODUCED, DEVIATES):
        if v.status == REPRODUCED:
            return Verdict(BY_CONSTRUCTION, v.rule + f"; fitted: {fitted} was chosen to "
                           "match this number", v.reason + " — by construction, not evidence of reproduction",
                           v.diff, v.rel_diff)
        return Verdict(DEVIATES, v.rule + f"; fitted: {fitted}", v.reason + f" although {fitted} was chosen to "
                       "match it", v.diff, v.rel_diff)
    return v


def _points_rule(claim: Claim, tolerances: Mapping[str, Any], item: str, cell: Mapping[str, Any]
                 ) -> tuple[float, str]:
    """Limit (in the thesis's unit) and rule text of an accuracy-like quantity."""
    if cell.get("tolerance"):
        t, src = _tol(tolerances, item, cell)
        limit = max(t["abs"], t["rel"] * abs(float(claim.value)))
        return limit, f"|ours - thesis| <= {_g(limit)} ({src})"
    entry = tolerances.get("points") or {}
    pts = float(entry.get("abs", DEFAULT_POINTS))
    src = "render.tolerance.points" if "points" in tolerances else "built-in default"
    limit = pts / claim.points_per_unit
    unit = "" if claim.points_per_unit == 1 else f" = {_g(limit)} as a fraction"
    text = f"|ours - thesis| <= {_g(pts)} point(s){unit} ({src})"
    if claim.kind == "pm" and claim.plus_minus is not None and claim.plus_minus > limit:
        limit = float(claim.plus_minus)
        text = f"|ours - thesis| <= the thesis's ± {_g(limit)} (larger than {_g(pts)} point(s), {src})"
    elif claim.kind == "pm":
        text += f"; the thesis's ± {_g(claim.plus_minus)} is smaller"
    return limit, text


def _judge_numeric(ours: Any, claim: Claim, *, item: str, tolerances: Mapping[str, Any],
                   cell: Mapping[str, Any], device: str | None) -> Verdict:
    """The kind's own rule (ours None: only the rule is meaningful)."""
    k = claim.kind
    o = _to_float(ours)
    th = claim.value if isinstance(claim.value, float) else _to_float(claim.value)

    if k == "timing" or (cell.get("timing") is True):
        ours_dev = device or "not recorded"
        rule = (f"absolute times are not compared across hardware (ours: {ours_dev}; thesis: "
                f"{claim.hardware or 'hardware not stated'}); the speed-up ratios are compared instead")
        # no difference is shown: milliseconds on two devices are not comparable
        return Verdict(HARDWARE, rule, f"ours {_g(ours)} ms on {ours_dev}, thesis {claim.text} ms")

    if k == "setting" or cell.get("setting") is True:
        rule = "a setting of the experiment (config echo): compared for equality, not a result"
        if ours is None:
            return Verdict(SETTING, rule, "")
        same = (o is not None and th is not None and math.isclose(o, th, rel_tol=1e-12, abs_tol=1e-12)) \
            or str(ours) == str(claim.value)
        if same:
            return Verdict(SETTING, rule, f"ours {_g(ours)} = thesis {claim.text}")
        return Verdict(SETTING_DIFFERS, rule, f"ours {_g(ours)} != thesis {claim.text} (see docs/deviations.md)",
                       *(_diffs(o, th) if (o is not None and th is not None) else (None, None)))

    if k == "range":
        lo, hi = claim.lo, claim.hi
        span = None
        if isinstance(ours, str) and ".." in ours:
            a, b = (_to_float(x) for x in ours.split("..", 1))
            span = (a, b) if a is not None and b is not None else None
        rule = (f"a number lies in [{_g(lo)}, {_g(hi)}]; a span 'a..b' has each end equal to the thesis's "
                f"after truncation or rounding at its printed digit ({_g(claim.step)} / {_g(claim.hi_step)})")
        if ours is None:
            return Verdict(PENDING, rule, "")
        if span is not None:
            oks = []
            for end, ref, step in ((span[0], lo, claim.step), (span[1], hi, claim.hi_step)):
                oks.append(_same_at(truncate(end, step), ref, step) or _same_at(round_half_away(end, step), ref, step))
            ok = all(oks)
            reason = (f"ours {_g(span[0])}..{_g(span[1])} -> ends "
                      f"{'match' if ok else 'do not match'} {claim.text} (low end {'ok' if oks[0] else 'differs'}, "
                      f"high end {'ok' if oks[1] else 'differs'})")
            return Verdict(REPRODUCED if ok else DEVIATES, rule, reason)
        if o is None:
            return Verdict(DEVIATES, rule, f"ours {ours!r} is neither a number nor a span 'a..b'")
        ok = lo <= o <= hi
        return Verdict(REPRODUCED if ok else DEVIATES, rule,
                       f"{_g(o)} {'in' if ok else 'outside'} [{_g(lo)}, {_g(hi)}]")

    if th is None:  # a non-numeric thesis value (point kind): equality of the printed text
        rule = "a non-numeric value: equal to the printed text"
        if ours is None:
            return Verdict(PENDING, rule, "")
        ok = str(ours).strip() == str(claim.value).strip()
        return Verdict(REPRODUCED if ok else DEVIATES, rule, f"ours {ours!r} {'=' if ok else '!='} {claim.value!r}")

    if ours is not None and o is None:
        return Verdict(DEVIATES, f"a number compared with {claim.text}", f"ours {ours!r} is not a number")

    if k in ("lower", "lower-or-equal", "upper", "upper-or-equal"):
        op = {"lower": ">", "lower-or-equal": ">=", "upper": "<", "upper-or-equal": "<="}[k]
        rule = (f"ours {op} {claim.text} (the thesis states a{'n upper' if k.startswith('upper') else ' lower'} "
                f"bound; no tolerance: a bound holds or it does not)")
        if o is None:
            return Verdict(PENDING, rule, "")
        ok = {">": o > th, ">=": o >= th, "<": o < th, "<=": o <= th}[op]
        return Verdict(REPRODUCED if ok else DEVIATES, rule,
                       f"{_g(o)} {op if ok else {'>': '<=', '>=': '<', '<': '>=', '<=': '>'}[op]} {claim.text}",
                       *_diffs(o, th))

    if k == "ratio":
        entry = tolerances.get("ratio") or {}
        rel = float(entry.get("rel", 0.0))
        need = th * (1 - rel)
        src = "render.tolerance.ratio" if "ratio" in tolerances else "built-in default rel 0"
        rule = (f"ours >= {_g(need)} (the claim is a speed-up of at least the thesis's {claim.text}"
                + (f", less {_g(rel * 100)} %" if rel else "") + f"; {src}; ratios, not milliseconds, are "
                "compared across hardware)")
        if o is None:
            return Verdict(PENDING, rule, "")
        ok = o >= need
        return Verdict(REPRODUCED if ok else DEVIATES, rule,
                       f"speed-up {_g(o)} {'>=' if ok else '<'} {_g(need)}", *_diffs(o, th))

    if k in ("count", "exact"):
        step = claim.step or 1.0
        if k == "count":
            rule = (f"ours in the thesis's unit ({claim.unit.split('(')[0].strip() or 'as printed'}), truncated or "
                    f"rounded at the printed digit ({_g(step)}), equals {claim.text} (the thesis's own rule; no "
                    "±-step tolerance)")
        else:
            rule = (f"ours truncated toward zero at the printed digit ({_g(step)}) equals {claim.text} "
                    "(truncation-exact: a deterministic computation)")
        if o is None:
            return Verdict(PENDING, rule, "")
        t, r = truncate(o, step), round_half_away(o, step)
        ok_t, ok_r = _same_at(t, th, step), _same_at(r, th, step)
        ok = ok_t or (ok_r and k == "count")
        how = "truncates" if ok_t else ("rounds" if ok_r else None)
        if ok:
            reason = f"{_g(o)} {how} to {claim.text}"
        elif k == "count":
            reason = f"{_g(o)}: truncated {_g(t)}, rounded {_g(r)}, neither is {claim.text}"
        else:
            reason = f"{_g(o)} truncates to {_g(t)}, not {claim.text}" + (" (it rounds to it)" if ok_r else "")
        return Verdict(REPRODUCED if ok else DEVIATES, rule, reason, *_diffs(o, th))

    # point / pm
    if claim.quantity == "points":
        limit, rule = _points_rule(claim, tolerances, item, cell)
    else:
        t, src = _tol(tolerances, item, cell)
        limit = max(t["abs"], t["rel"] * abs(th))
        parts = ([f"abs {_g(t['abs'])}"] if t["abs"] else []) + ([f"rel {_g(t['rel'])}"] if t["rel"] else [])
        rule = f"|ours - thesis| <= {' or '.join(parts) or 'exact'} = {_g(limit)} ({src})"
        if k == "pm" and claim.plus_minus is not None:
            if claim.plus_minus > limit:
                limit = float(claim.plus_minus)
                rule = f"|ours - thesis| <= the thesis's ± {_g(limit)} (larger than the {src} tolerance)"
            else:
                rule += f"; the thesis's ± {_g(claim.plus_minus)} is smaller"
    if o is None:
        return Verdict(PENDING, rule, "")
    d, rel = _diffs(o, th)
    ok = abs(d) <= limit * (1 + 1e-12) + 1e-15
    scale_txt = f" ({_g(d * claim.points_per_unit)} points)" if claim.quantity == "points" else ""
    return Verdict(REPRODUCED if ok else DEVIATES, rule,
                   f"|Δ| = {_g(abs(d))}{scale_txt} {'<=' if ok else '>'} {_g(limit)}", d, rel)
