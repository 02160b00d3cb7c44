"""Audit: walk every number of one scale's renders (``paper_tables/<scale>/``, ``figures/<scale>/``) back to the
run that made it.

What is audited comes from the config and the item registry (:func:`audit_config`): every item the config
lists must have its table / figure and provenance map; unknown ``--item`` names fail. For each table
provenance map ``paper_tables/<scale>/<item>.provenance.json`` the audit

1. re-hashes the rendered ``.csv/.md/.tex`` (a table edited after rendering is caught);
2. for each source result file: checks it exists, re-hashes it against the hash recorded at rendering,
   checks its provenance sidecar exists and is unchanged, that the sidecar's own output hash matches
   (a result edited after its job ran), and re-hashes every input the sidecar lists (an input whose hash
   changed, or that vanished, is caught);
3. for each cell: reads the value at its JSON pointer in the source and compares it with the map and
   with the rendered CSV.

Figures (``figures/<scale>/<item>.provenance.json``) get steps 1–2. Any failure is reported naming the item and
cell; :func:`main` exits 1 when anything is broken.
"""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..codehash import job_code
from ..data.verification import check_manifest
from .provenance import describe_file, sidecar_path
from .tables import csv_value


@dataclass
class AuditReport:
    """What the audit found: one line per cell / figure source, the problems (any fails the audit) and
    warnings (reported, not failing: e.g. renders made from a working tree with uncommitted changes)."""

    lines: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    checked_files: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _pointer_get(doc: Any, pointer: str) -> Any:
    node = doc
    for part in pointer.strip("/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        try:
            return float(a) == float(b)
        except (TypeError, ValueError):
            return False
    return a == b


class _SourceChecker:
    """Checks a result file and, transitively, the chain behind it (each file once).

    For a source of a render: it exists, its hash equals the one recorded at rendering, its sidecar is
    unchanged since rendering. Then, for it and every input below it: a pipeline product (any file with a
    sidecar, and every file under ``results/``) must have a readable sidecar whose output hash equals the
    file now, whose code fingerprint is that of the code now, and whose inputs exist with the hashes it
    recorded; a dataset ``MANIFEST.json`` has its files re-verified; other inputs (reference data, a
    user-given checkpoint) are leaves, compared by hash by the job that read them.
    """

    def __init__(self, report: AuditReport, results_root: str = "results"):
        self.report = report
        self.results_root = Path(results_root)
        self.cache: dict[tuple[str, str, str | None], list[str]] = {}
        self.chains: dict[str, list[str]] = {}

    def check(self, path: str, recorded_sha: str, recorded_sidecar_sha: str | None) -> list[str]:
        key = (path, recorded_sha, recorded_sidecar_sha)
        if key in self.cache:
            return self.cache[key]
        errs: list[str] = []
        p = Path(path)
        if not p.exists():
            errs.append(f"source {path} is missing")
            self.cache[key] = errs
            return errs
        self.report.checked_files += 1
        now = describe_file(p)["sha256"]
        if now != recorded_sha:
            errs.append(f"source {path} changed after rendering (sha256 {now[:12]} != recorded {recorded_sha[:12]})")
        side = sidecar_path(p)
        if side.exists() and recorded_sidecar_sha and describe_file(side)["sha256"] != recorded_sidecar_sha:
            errs.append(f"sidecar {side} changed after rendering")
        errs += self.chain(path)
        self.cache[key] = errs
        return errs

    def _produced(self, p: Path) -> bool:
        if sidecar_path(p).exists():
            return True
        try:
            p.resolve().relative_to(self.results_root.resolve())
            return True
        except ValueError:
            return False

    def chain(self, path: str, _stack: tuple[str, ...] = ()) -> list[str]:
        """Problems of ``path`` and of everything it was made from (memoised per file)."""
        if path in self.chains:
            return self.chains[path]
        if path in _stack:  # pragma: no cover - a cycle cannot be built by Snakemake
            return []
        p = Path(path)
        errs: list[str] = []
        if p.name == "MANIFEST.json":
            errs += check_manifest(p)
        if not self._produced(p):
            self.chains[path] = errs
            return errs
        side = sidecar_path(p)
        if not side.exists():
            self.chains[path] = errs + [f"provenance sidecar {side} is missing"]
            return self.chains[path]
        try:
            meta = json.loads(side.read_text())
            if not isinstance(meta, dict):
                raise ValueError("not a JSON object")
        except ValueError as exc:
            self.chains[path] = errs + [f"sidecar {side} is not valid JSON: {exc}"]
            return self.chains[path]
        now = describe_file(p)["sha256"]
        outs = {o.get("path"): o.get("sha256") for o in meta.get("outputs", [])}
        if str(p) not in outs:
            errs.append(f"sidecar {side} does not list {p} among its outputs")
        elif outs[str(p)] != now:
            errs.append(f"{p} differs from what its job wrote (sidecar sha256 {str(outs[str(p)])[:12]}, "
                        f"now {now[:12]})")
        code = meta.get("code") or {}
        if code.get("entries"):
            current = job_code(code["entries"], code.get("scripts", []))["sha256"]
            if current != code.get("sha256"):
                errs.append(f"{p} was made by code that has changed since (code {str(code.get('sha256'))[:12]}, "
                            f"now {current[:12]}; modules from {', '.join(code['entries'])})")
        elif meta.get("rule") not in (None, "download"):
            errs.append(f"sidecar {side} records no code fingerprint")
        for inp in meta.get("inputs", []):
            ip = Path(inp["path"])
            if not ip.exists():
                errs.append(f"input {ip} of {p} is missing")
                continue
            self.report.checked_files += 1
            if describe_file(ip)["sha256"] != inp["sha256"]:
                errs.append(f"input {ip} of {p} changed since the job ran")
            errs += self.chain(str(ip), _stack + (path,))
        self.chains[path] = list(dict.fromkeys(errs))
        return self.chains[path]

    @staticmethod
    def sidecar_facts(path: str) -> dict[str, Any]:
        try:
            meta = json.loads(sidecar_path(path).read_text())
        except (OSError, ValueError, AttributeError):
            return {}
        if not isinstance(meta, dict):
            return {}
        return {"commit": (meta.get("git") or {}).get("commit"), "dirty": (meta.get("git") or {}).get("dirty"),
                "rule": meta.get("rule"), "scale": meta.get("scale")}


def _check_outputs(report: AuditReport, where: str, outputs: dict[str, Any] | list[dict[str, Any]]) -> None:
    entries = outputs.values() if isinstance(outputs, dict) else outputs
    for o in entries:
        p = Path(o["path"])
        if not p.exists():
            report.problems.append(f"{where}: rendered file {p} is missing")
        elif describe_file(p)["sha256"] != o["sha256"]:
            report.problems.append(f"{where}: rendered file {p} was edited after rendering")


def audit_table(prov_path: Path, report: AuditReport, checker: _SourceChecker) -> None:
    prov = json.loads(prov_path.read_text())
    item = prov["item"]
    _check_outputs(report, item, prov.get("outputs", {}))
    csv_path = Path(prov.get("outputs", {}).get("csv", {}).get("path", prov_path.with_suffix("").with_suffix(".csv")))
    rendered: dict[tuple[str, str], dict[str, str]] = {}
    if csv_path.exists():
        with open(csv_path, newline="", encoding="utf-8") as fh:
            rendered = {(r["row"], r["column"]): r for r in csv.DictReader(fh)}
    docs: dict[str, Any] = {}
    shared: dict[str, list[str]] = {}  # a problem of a source file or its chain -> the cells it feeds
    for cell in prov["cells"]:
        name = f"{item} [{cell['row']} / {cell['column']}]"
        src = cell.get("source")
        line = {"item": item, "row": cell["row"], "column": cell["column"], "value": cell.get("value"),
                "thesis": cell.get("thesis"), "status": cell.get("status"), "source": src,
                "commit": None, "scale": prov.get("scale"), "ok": True}
        own: list[str] = []
        if src:
            srec = prov["sources"].get(src, {})
            errs = checker.check(src, cell.get("source_sha256") or srec.get("sha256", ""),
                                 srec.get("sidecar_sha256"))
            facts = checker.sidecar_facts(src)
            line["commit"] = facts.get("commit")
            if facts.get("scale") and facts["scale"] != prov.get("scale"):
                errs = errs + [f"source {src} is scale {facts['scale']}, table says {prov.get('scale')}"]
            for e in errs:
                shared.setdefault(e, []).append(f"[{cell['row']} / {cell['column']}]")
            # the value itself is compared even when the file's hash already failed, so that the edited
            # cells are named apart from the others of the same file
            if Path(src).exists():
                if src not in docs:
                    try:
                        docs[src] = json.loads(Path(src).read_text())
                    except ValueError as exc:
                        docs[src] = exc
                if isinstance(docs[src], ValueError):
                    own.append(f"{src} is not valid JSON any more: {docs[src]}")
                else:
                    try:
                        value = _pointer_get(docs[src], cell["pointer"])
                    except (KeyError, IndexError, ValueError, TypeError):
                        own.append(f"pointer {cell['pointer']} not found in {src}")
                    else:
                        if not _same(value, cell.get("value")):
                            own.append(f"VALUE EDITED: {src}#{cell['pointer']} is now {value!r}, the table shows "
                                       f"{cell.get('value')!r}")
            line["ok"] = not errs and not own
        r = rendered.get((cell["row"], cell["column"]))
        if r is None:
            own.append(f"missing from {csv_path}")
        elif cell.get("value") is not None and r["ours"] != csv_value(cell["value"]):
            own.append(f"{csv_path} shows {r['ours']!r}, source value is {cell['value']!r}")
        for e in own:
            report.problems.append(f"{name}: {e}")
            line["ok"] = False
        report.lines.append(line)
    for e, cells in shared.items():
        more = f" (+{len(cells) - 8} more)" if len(cells) > 8 else ""
        report.problems.append(f"{item}: {e}; feeds cell(s) {', '.join(cells[:8])}{more}")
    _check_render_meta(report, item, prov)


def _check_render_meta(report: AuditReport, item: str, prov: dict[str, Any]) -> None:
    """The reference data a render compared with (thesis values, figure data) and the code that rendered it."""
    for ref in prov.get("reference", []):
        p = Path(ref["path"])
        if not p.exists():
            report.problems.append(f"{item}: reference data {p} is missing")
        elif describe_file(p)["sha256"] != ref["sha256"]:
            report.problems.append(f"{item}: reference data {p} changed after rendering (every cell compared "
                                   "with it is affected)")
    code = prov.get("code") or {}
    if code.get("entries"):
        current = job_code(code["entries"], code.get("scripts", []))["sha256"]
        if current != code.get("sha256"):
            report.problems.append(f"{item}: rendered by code that has changed since (code {code.get('sha256', '')[:12]}"
                                   f", now {current[:12]})")
    else:
        report.problems.append(f"{item}: its provenance map records no code fingerprint")
    dev = prov.get("scale_deviations") or []
    if dev:
        report.warnings.append(f"{item}: paper scale but NOT the thesis's settings: {len(dev)} key(s) differ from "
                               f"config/paper.yaml: {', '.join(dev)}")
    if (prov.get("git") or {}).get("dirty"):
        report.warnings.append(f"{item}: rendered from a working tree with uncommitted changes "
                               f"(commit {str((prov.get('git') or {}).get('commit'))[:10]} + edits)")


def audit_figure(prov_path: Path, report: AuditReport, checker: _SourceChecker) -> None:
    prov = json.loads(prov_path.read_text())
    item = prov["item"]
    _check_outputs(report, item, prov.get("outputs", []))
    for src in prov.get("sources", []):
        errs = checker.check(src["path"], src["sha256"], src.get("sidecar_sha256"))
        for e in errs:
            report.problems.append(f"{item} [figure]: {e}")
        facts = checker.sidecar_facts(src["path"])
        report.lines.append({"item": item, "row": "(figure)", "column": Path(src["path"]).name, "value": None,
                             "thesis": None, "status": "figure", "source": src["path"],
                             "commit": facts.get("commit"), "scale": prov.get("scale"), "ok": not errs})
    _check_render_meta(report, f"{item} [figure]", prov)


def audit(tables_dir: str | Path, figures_dir: str | Path, items: list[str] | None = None) -> AuditReport:
    """Audit every provenance map found in two folders (a lower-level walk; the CLI and the rule use
    :func:`audit_config`, which knows which renders must exist). Walks every rendered table cell and figure
    back to its result file, re-hash
    the chain (result, sidecar, inputs) and compare each value; ``report.ok`` is False, with one problem per
    broken cell, when anything changed or is missing (``items`` restricts the walk)."""
    report = AuditReport()
    checker = _SourceChecker(report)
    found = 0
    for folder, fn in ((Path(tables_dir), audit_table), (Path(figures_dir), audit_figure)):
        if not folder.exists():
            continue
        for prov_path in sorted(folder.glob("*.provenance.json")):
            item = prov_path.name[: -len(".provenance.json")]
            if items and item not in items:
                continue
            found += 1
            try:
                fn(prov_path, report, checker)
            except (OSError, ValueError, KeyError) as exc:
                report.problems.append(f"{item}: provenance map {prov_path} unreadable: {exc!r}")
    # every table file must have a map
    if Path(tables_dir).exists():
        for csv_path in sorted(Path(tables_dir).glob("*.csv")):
            if not csv_path.with_name(csv_path.stem + ".provenance.json").exists():
                report.problems.append(f"{csv_path.stem}: {csv_path} has no provenance map")
    if found == 0:
        report.problems.append(f"nothing to audit: no *.provenance.json under {tables_dir} or {figures_dir}")
    return report


def format_report(report: AuditReport) -> str:
    """One line per cell (value, thesis value, status, commit, scale, source), then the problems or AUDIT OK."""
    from .tables import fmt

    out = [f"{'item':<12} {'row':<28} {'column':<44} {'ours':>14} {'thesis':>12}  {'status':<28} "
           f"{'scale':<6} {'commit':<10} source"]
    for ln in report.lines:
        mark = "" if ln["ok"] else "  <-- BROKEN"
        out.append(f"{ln['item']:<12} {str(ln['row'])[:28]:<28} {str(ln['column'])[:44]:<44} "
                   f"{fmt(ln['value']):>14} {fmt(ln['thesis']):>12}  {str(ln['status'])[:28]:<28} "
                   f"{str(ln['scale']):<6} {str(ln['commit'])[:10]:<10} {ln['source'] or '-'}{mark}")
    out.append("")
    out += [f"warning: {w}" for w in dict.fromkeys(report.warnings)]
    if report.ok:
        out.append(f"AUDIT OK: {len(report.lines)} cells/figure sources, {report.checked_files} files re-hashed")
    else:
        out.append(f"AUDIT FAILED: {len(report.problems)} problem(s)")
        out += [f"  - {p}" for p in report.problems]
    return "\n".join(out)


def audit_config(config: dict[str, Any], items: list[str] | None = None) -> AuditReport:
    """Audit the renders of ``config``'s scale: exactly the items it lists (or ``items``, which must be
    among them), from the render paths the plan declares; a missing table, figure or provenance map fails."""
    from ..plan import build_plan

    plan = build_plan(config)
    report = AuditReport()
    checker = _SourceChecker(report, config.get("paths", {}).get("results", "results"))
    wanted = list(items or plan.items)
    unknown = [i for i in wanted if i not in plan.items]
    for i in unknown:
        known = ", ".join(plan.items)
        report.problems.append(f"--item {i}: not an item of this config (scale {plan.paths.scale}; items: {known})")
    for item in [i for i in wanted if i not in unknown]:
        kinds = plan.registry.item(item).render_kinds
        for kind, outputs, fn in (("table", plan.paths.table_outputs(item), audit_table),
                                  ("figure", plan.paths.figure_outputs(item), audit_figure)):
            if kind not in kinds:
                continue
            prov_path = Path(outputs["prov"])
            if not prov_path.exists():
                present = [p for k, p in outputs.items() if k != "prov" and Path(p).exists()]
                what = f"{kind} {', '.join(present)} has no provenance map" if present else f"{kind} is missing"
                report.problems.append(f"{item}: {what} ({prov_path})")
                continue
            try:
                fn(prov_path, report, checker)
            except (OSError, ValueError, KeyError) as exc:
                report.problems.append(f"{item}: provenance map {prov_path} unreadable: {exc!r}")
    if not wanted:
        report.problems.append("nothing to audit: the config lists no items")
    return report


def _load_config(configfile: str | None, scale: str | None) -> tuple[dict[str, Any], str]:
    from ..config import load_config

    if configfile is None:
        from ..config import SCALE_FILES

        configfile = SCALE_FILES.get(scale or "smoke")
        if configfile is None:
            raise SystemExit(f"toeplitznet audit: unknown scale {scale!r} ({', '.join(SCALE_FILES)})")
    cfg = load_config(configfile, check_paths=False)
    if scale and cfg["scale"] != scale:
        raise SystemExit(f"toeplitznet audit: {configfile} is scale {cfg['scale']}, --scale says {scale}")
    return cfg, configfile


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="toeplitznet audit",
                                 description="Walk every number of one scale's tables and figures back to the "
                                             "runs, data and code that made it; exit 1 if anything is broken.")
    ap.add_argument("--scale", choices=["smoke", "medium", "paper"],
                    help="audit this scale's renders (default: the config's; smoke -> config/config.yaml, "
                         "medium -> config/medium.yaml, paper -> config/paper.yaml)")
    ap.add_argument("--configfile", help="config whose items are audited (default: the scale's config file)")
    ap.add_argument("--item", action="append", help="audit only these items (repeatable)")
    ap.add_argument("--output", help="also write the report to this file")
    args = ap.parse_args(argv)
    cfg, _ = _load_config(args.configfile, args.scale)
    report = audit_config(cfg, args.item)
    text = format_report(report)
    print(text)
    if args.output:
        from ..io import atomic_write_text

        atomic_write_text(args.output, text + "\n")
    return 0 if report.ok else 1


def run_audit_rule(smk) -> None:
    """Rule ``audit``: the audit of the workflow's config (its scale); fails the job when broken."""
    import logging

    report = audit_config(dict(smk.config))
    text = format_report(report)
    from ..io import atomic_write_text

    Path(smk.log[0]).parent.mkdir(parents=True, exist_ok=True)
    Path(smk.log[0]).write_text(text + "\n")
    if not report.ok:
        logging.error(text)
        raise RuntimeError(f"audit failed: {len(report.problems)} problem(s); see {smk.log[0]}")
    atomic_write_text(smk.output[0], text + "\n")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

