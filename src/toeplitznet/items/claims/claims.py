"""The claims check: every directional claim the chapter packages declare (``CLAIMS``), judged from the
seed-level values of the runs it names, with a confidence interval and a three-way verdict (holds /
contradicted / inconclusive). One seed never decides. It judges claims, never the thesis's numbers: the table
has no thesis column, and the medium scale (config/medium.yaml) is where it is meant to run. docs/claims.md.

Config ``studies.claims``: ``include`` (``all``, or claim ids: then every listed claim must resolve),
``exclude``, ``level`` (two-sided confidence level), ``method`` (``welch`` or ``paired`` seed-level t
intervals for differences).
"""

from __future__ import annotations

import json
from typing import Any

from ...registry import IMPLEMENTED, Item

SCHEMA = """
type: object
additionalProperties: false
required: [include, exclude, level, method]
properties:
  include:
    description: >
      claims to judge: 'all' (those whose runs this config plans; the others are listed as not planned) or a
      list of claim ids (each must resolve, else the DAG does not build)
    oneOf:
      - {const: all}
      - {type: array, minItems: 1, uniqueItems: true, items: {type: string}}
  exclude: {type: array, uniqueItems: true, items: {type: string}, description: claim ids left out}
  level: {type: number, exclusiveMinimum: 0.5, exclusiveMaximum: 1, description: two-sided confidence level}
  method:
    description: interval of a difference over seed-level values (Welch's t, or a t on seed-paired differences)
    enum: [welch, paired]
"""
ITEM = Item(id="claims", kind="table", title="the thesis's directional claims, judged over seeds with confidence "
            "intervals (claims check)", thesis_lines="", status=IMPLEMENTED, schema=SCHEMA,
            renders=("table", "figure"))


def _selection(config) -> tuple[list, bool]:
    """(claims to resolve, strict?) of ``studies.claims``; ValueError naming an unknown claim id."""
    from ...registry import discover

    reg = discover()
    p = config["studies"]["claims"]
    known = reg.claims
    asked = list(known) if p["include"] == "all" else list(p["include"])
    unknown = [c for c in asked + list(p.get("exclude", [])) if c not in known]
    if unknown:
        raise ValueError(f"config key studies.claims: unknown claim id(s) {unknown}; known: {', '.join(known)}")
    chosen = [known[c] for c in asked if c not in set(p.get("exclude", []))]
    if p["include"] == "all":  # thesis order: chapters, then appendices
        chosen.sort(key=lambda c: (not c.chapter.startswith("ch"), c.chapter))
    return chosen, p["include"] != "all"


def _plan(config, paths) -> tuple[list[dict[str, Any]], list[dict[str, str]], list]:
    from ...claims.model import ClaimError
    from ...claims.select import resolve
    from ...registry import discover

    reg = discover()
    chosen, strict = _selection(config)
    resolved, skipped, kept = [], [], []
    for claim in chosen:
        try:
            entries = resolve([claim], config, paths, reg)
        except ClaimError as exc:
            if strict:
                raise ValueError(f"config key studies.claims.include: {exc}") from exc
            skipped.append({"claim": claim.id, "reason": str(exc)})
            continue
        resolved += entries
        kept.append(claim)
    return resolved, skipped, kept


def inputs(config, paths) -> dict[str, str]:
    resolved, _, _ = _plan(config, paths)
    return {e["input"]: e["path"] for e in resolved}


def _claim_record(claim) -> dict[str, Any]:
    """The claim as JSON data (what the job config carries)."""
    d = {k: v for k, v in claim.__dict__.items() if k != "arms"}
    d["arms"] = [{k: (dict(v) if k in ("labels", "evaluation", "derive_args") else v) for k, v in a.__dict__.items()}
                 for a in claim.arms]
    return json.loads(json.dumps(d))


def job_config(config, paths) -> dict[str, Any]:
    """The section, plus the claims as data and what each input is, so a changed claim reruns the job."""
    from ...plan import job_base

    resolved, skipped, kept = _plan(config, paths)
    return {**job_base(config), "study": {
        **config["studies"]["claims"], "claims": [_claim_record(c) for c in kept],
        "resolved": [{k: e[k] for k in ("claim", "arm", "input", "x", "args")} for e in resolved], "skipped": skipped}}


def _fmt_n(arms: list[dict[str, Any]]) -> str:
    return ", ".join(f"{a['name']}: {sum(v is not None for v in a['values'])}" for a in arms)


def run(ctx) -> None:
    from ...claims import judge_claim
    from ...claims.select import seed_values
    from ...registry import discover

    p = ctx.params
    if "resolved" not in p:
        raise ValueError("the claims study's config is claims.job_config(config, paths); build it through "
                         "Snakemake (rule study_claims)")
    reg = discover()
    judged, cells = [], []
    for rec in p["claims"]:
        claim = reg.claims[rec["id"]]
        if _claim_record(claim) != rec:
            raise ValueError(f"claim {claim.id} changed since the DAG was planned; rerun Snakemake")
        values, xs, files = [[] for _ in claim.arms], [[] for _ in claim.arms], [[] for _ in claim.arms]
        for e in (e for e in p["resolved"] if e["claim"] == claim.id):
            for f, v in seed_values(ctx.inputs, claim.arms[e["arm"]], e["input"], args=e.get("args")):
                values[e["arm"]].append(v)
                xs[e["arm"]].append(e["x"])
                files[e["arm"]].append(f)
        res = judge_claim(claim, values, xs=xs, level=p["level"], method=p["method"])
        for arm, fs in zip(res["arms"], files):
            arm["files"] = fs
        res.update(text=claim.text, thesis_lines=claim.thesis_lines, note=claim.note, chapter=claim.chapter)
        judged.append(res)
        row = f"{claim.id}: {claim.text} ({claim.thesis_lines})"
        rule = (f"{claim.statistic} {claim.direction} {claim.threshold:g}; "
                f"{100 * p['level']:g}% interval ({res['method']})")
        cells += [{"row": row, "column": "statistic", "value": res["estimate"], "claim_verdict": res["verdict"],
                   "claim_rule": rule, "claim_reason": res["reason"]},
                  {"row": row, "column": "CI low", "value": res["low"]},
                  {"row": row, "column": "CI high", "value": res["high"]},
                  {"row": row, "column": "values per arm", "value": _fmt_n(res["arms"])}]
    counts = {v: sum(j["verdict"] == v for j in judged) for v in ("holds", "contradicted", "inconclusive")}
    notes = [f"{len(judged)} claim(s) judged: {counts['holds']} hold, {counts['contradicted']} contradicted, "
             f"{counts['inconclusive']} inconclusive ({100 * p['level']:g}% two-sided intervals over seed-level "
             "values; one seed per arm never decides)."]
    notes += [f"not planned in this config: {s['claim']} ({s['reason']})" for s in p["skipped"]]
    ctx.write_result("result", {"item": ITEM.id, "claims": judged, "skipped": p["skipped"], "counts": counts,
                                "level": p["level"], "method": p["method"], "cells": cells, "notes": notes})


COLORS = {"holds": "tab:green", "contradicted": "tab:red", "inconclusive": "0.55"}


def _oriented(j: dict[str, Any]) -> tuple[float | None, float | None, float | None]:
    """(estimate, low, high) minus the threshold, signed so that the claim's side is positive."""
    sign = 1.0 if j["direction"] == ">" else -1.0
    vals = [None if j[k] is None else sign * (j[k] - j["threshold"]) for k in ("estimate", "low", "high")]
    if sign < 0 and vals[1] is not None:
        vals[1], vals[2] = vals[2], vals[1]
    return vals[0], vals[1], vals[2]


def plot(ctx) -> None:
    from ...report.figures import load_result, new_figure, save_figure

    src = ctx.input("result")
    res = load_result(src)
    judged = res["claims"]
    fig, axes = new_figure(width=7.5, height=0.9 + 0.32 * max(len(judged), 1))
    ax = axes[0][0]
    for i, j in enumerate(judged):
        y = len(judged) - 1 - i
        est, lo, hi = _oriented(j)
        if est is None:
            ax.text(0, y, "no value", fontsize=6, va="center", ha="center", color="0.4")
            continue
        scale = max(abs(v) for v in (est, lo, hi) if v is not None) or 1.0
        color = COLORS[j["verdict"]]
        if lo is not None:
            ax.plot([lo / scale, hi / scale], [y, y], color=color, linewidth=2.2)
        ax.plot(est / scale, y, "o", color=color, markersize=4)
    ax.axvline(0, color="0.2", linewidth=0.8)
    ax.set_yticks(range(len(judged)))
    ax.set_yticklabels([f"{j['claim']} ({j['thesis_lines']}): {j['verdict']}" for j in reversed(judged)],
                       fontsize=6)
    ax.set_xlim(-1.1, 1.1)
    ax.set_xlabel("statistic - threshold (> 0: the thesis's side)", fontsize=7, loc="left")
    c = res["counts"]
    ax.set_title(f"Claims check: {c['holds']} hold, {c['contradicted']} contradicted, {c['inconclusive']} "
                 f"inconclusive\n(signed and scaled per claim; bar: {100 * res['level']:g}% interval; "
                 "no bar: one seed, no interval)", fontsize=8)
    save_figure(fig, ctx, item=ITEM.id, sources=[src], notes=res.get("notes", []))
