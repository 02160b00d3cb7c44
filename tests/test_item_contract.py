"""The contract every built item of the registry keeps (parametrized over ``discover().built_items()``):

(a) its config sections validate in config/config.yaml and config/paper.yaml, and its schema fragment is a
    valid JSON schema, closed to unknown keys;
(b) a real smoke run builds it: one Snakemake run (session fixture ``tiny_run``) in a copy of the repository
    with the *tiny* config of tests/tiny_config.py (every item listed, the fewest epochs, steps, examples,
    grid points, networks and repeats the schemas allow), building every item and results/smoke/audit.txt;
(c) its result file(s) validate against workflow/schemas/result.schema.yaml;
(d) its rows line up with the thesis: every (row, column) of reference/thesis_values.csv for the item is in
    its rendered paper_tables/smoke/<item>.csv; a figure has its provenance map (sources, outputs, reference);
(e) the audit of the tiny run passes (``toeplitznet audit --scale smoke``, per item and as a whole).

Adding an item to the registry adds it here: the contract needs no edit.
"""

from __future__ import annotations

import csv
import functools
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from conftest import ROOT, snakemake_env
from tiny_config import tiny_config
from toeplitznet.config import full_schema, validate
from toeplitznet.plan import build_plan
from toeplitznet.reference import OWN_ITEMS, thesis_cells
from toeplitznet.registry import discover

REG = discover()
ITEMS = REG.built_items()
IDS = [i.id for i in ITEMS]
CONFIGS = {"smoke": yaml.safe_load((ROOT / "config/config.yaml").read_text()),
           "paper": yaml.safe_load((ROOT / "config/paper.yaml").read_text())}
RESULT_SCHEMA = yaml.safe_load((ROOT / "workflow/schemas/result.schema.yaml").read_text())

by_item = pytest.mark.parametrize("item", ITEMS, ids=IDS)


@functools.lru_cache(maxsize=None)
def _schemas():
    return json.dumps({"defs": full_schema().get("$defs", {}), "sections": REG.section_schemas()})


def _section_schema(section):
    """The fragment of ``studies.<section>`` with the base schema's ``$defs`` it refers to."""
    s = json.loads(_schemas())
    return {"$defs": s["defs"], **s["sections"][section]}


# ------------------------------------------------------------------------ (a) config sections (fast)
@by_item
@pytest.mark.parametrize("scale", ["smoke", "paper"])
def test_config_sections_validate(item, scale):
    cfg = CONFIGS[scale]
    assert item.id in cfg["items"], f"{item.id} is built but config/{scale}.yaml does not list it"
    sections = REG.required_sections(item.id)
    if item.config_section:
        assert item.config_section in sections
    for sec in sections:
        schema = _section_schema(sec)
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema.get("type") == "object" and schema.get("additionalProperties") is False, sec
        assert sec in cfg["studies"], f"config/{scale}.yaml has no studies.{sec} ({item.id} needs it)"
        errors = list(jsonschema.Draft202012Validator(schema).iter_errors(cfg["studies"][sec]))
        assert not errors, f"studies.{sec} in config/{scale}.yaml: {[e.message for e in errors]}"


@by_item
def test_module_declares_the_item(item):
    mod = REG.module(item.id)
    assert mod.ITEM.id == item.id and item.module == mod.__name__
    assert mod.__name__ == f"toeplitznet.items.{item.chapter}.{item.id}"
    if item.has_own_study:
        assert callable(getattr(mod, "run", None)), f"{item.id} has a study but no run(ctx)"
    if "figure" in item.render_kinds:
        assert callable(getattr(mod, "plot", None)), f"{item.id} is a figure without plot(ctx)"
    if item.schema is not None:
        assert getattr(mod, "SCHEMA", None) == item.schema


@by_item
def test_item_has_its_test_file(item):
    """``toeplitznet items`` names tests/<chapter>/test_<item>.py as the item's tests."""
    assert (ROOT / "tests" / item.chapter / f"test_{item.id}.py").is_file()


def test_tiny_config_is_valid_and_lists_every_item():
    cfg = tiny_config()
    validate(cfg, check_paths=False)
    assert cfg["items"] == CONFIGS["smoke"]["items"] and set(cfg["items"]) == set(IDS)
    plan = build_plan(cfg)
    # 14 + 6 Section 5.5 arms + 2 App. C noise runs + 7 App. D defences (Baseline and AT-linf shared)
    # + 14 YouTube-8M networks (Figures B.4, B.7, B.8 draw fixed pairs; the rest shared)
    assert set(plan.items) == set(IDS) and len(plan.runs) <= 43


# --------------------------------------------------------------------------- (b) the tiny smoke run
# (session fixture tiny_run: tests/conftest.py)
@pytest.mark.slow
def test_tiny_dag_runs(tiny_run):
    assert tiny_run.ok, f"tiny smoke DAG failed after {tiny_run.seconds:.0f} s:\n{tiny_run.log_tail()}"
    assert "AUDIT OK" in tiny_run.path("results/smoke/audit.txt").read_text()
    # trained runs are DAG outputs: weights and metrics of each, under results/smoke/runs/<run>/
    for rid, job in tiny_run.plan.runs.items():
        for out in job.outputs.values():
            assert tiny_run.path(out).stat().st_size > 0, out


@pytest.mark.slow
@by_item
def test_item_builds(item, tiny_run):
    targets = tiny_run.plan.item_targets(item.id)
    assert targets
    missing = [t for t in targets if not tiny_run.path(t).is_file() or tiny_run.path(t).stat().st_size == 0]
    assert not missing, f"{item.id}: not built: {missing}\n{tiny_run.log_tail()}"
    assert all(t.startswith(("paper_tables/smoke/", "figures/smoke/")) for t in targets)


# ------------------------------------------------------------------------- (c) results vs the schema
def _result_files(item, plan):
    files = [plan.studies[item.study].outputs["result"]]
    files += [f for f in plan.tables.get(item.id, []) if f not in files]
    return files


@pytest.mark.slow
@by_item
def test_results_validate_against_the_result_schema(item, tiny_run):
    validator = jsonschema.Draft202012Validator(RESULT_SCHEMA)
    for rel in _result_files(item, tiny_run.plan):
        path = tiny_run.path(rel)
        assert path.is_file(), f"{item.id}: result {rel} missing\n{tiny_run.log_tail()}"
        doc = json.loads(path.read_text())
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]
        assert not errors, f"{rel}: {errors[:5]}"
        assert doc["scale"] == "smoke" and doc["item"] in (item.id, item.study), rel
        # every result has its provenance sidecar, written by the study's own rule
        side = json.loads(path.with_name(path.name + ".prov.json").read_text())
        assert side["rule"] == f"study_{rel.split('/')[2]}" and side["scale"] == "smoke", rel


# ---------------------------------------------------------------------------- (d) rows vs the thesis
def _csv_rows(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.slow
@by_item
def test_rows_line_up_with_the_thesis(item, tiny_run):
    plan = tiny_run.plan
    if "table" in item.render_kinds:
        rows = _csv_rows(tiny_run.path(plan.paths.table_outputs(item.id)["csv"]))
        assert rows and all(r["item"] == item.id and r["scale"] == "smoke" for r in rows)
        keys = {(r["row"], r["column"]): r for r in rows}
        thesis = thesis_cells(item.id)
        assert thesis or item.id in OWN_ITEMS, f"{item.id}: no row in reference/thesis_values.csv"
        if item.id in OWN_ITEMS:  # the claims check: a verdict per claim instead of a thesis column
            assert all(not r["thesis"] for r in rows) and any(r["status"].startswith("claim ") for r in rows)
        missing = [(c.row, c.column) for c in thesis if (c.row, c.column) not in keys]
        assert not missing, f"{item.id}: thesis cells missing from the rendered table: {missing}"
        for c in thesis:
            r = keys[(c.row, c.column)]
            assert r["thesis"] == (repr(c.value) if isinstance(c.value, float) else str(c.value)), (c.row, c.column)
            if c.cited:
                assert r["status"] == "cited, not reproduced", (c.row, c.column)
        # every number we produced is in the table, from the item's own result files
        sources = set(_result_files(item, plan))
        assert {r["source"] for r in rows if r["source"]} <= sources
    if "figure" in item.render_kinds:
        outs = plan.paths.figure_outputs(item.id)
        prov = json.loads(tiny_run.path(outs["prov"]).read_text())
        assert prov["item"] == item.id and prov["scale"] == "smoke"
        assert [s["path"] for s in prov["sources"]] == [plan.figures[item.id].inputs["result"]]
        from toeplitznet.report.provenance import describe_file

        got = {o["path"]: o["sha256"] for o in prov["outputs"]}
        for ext in ("pdf", "png"):
            assert got[outs[ext]] == describe_file(tiny_run.path(outs[ext]))["sha256"], ext
        refs = [Path(r["path"]).name for r in prov.get("reference") or []]
        assert refs == list(item.reference), f"{item.id}: reference data drawn {refs}, declared {item.reference}"


@pytest.mark.slow
@by_item
def test_provenance_is_relocatable(item, tiny_run):
    """Every path a render's provenance map and its results' sidecars record is relative to the repository, so
    the audit still passes after the repository moves."""
    plan, root = tiny_run.plan, str(tiny_run.root)
    maps = [o["prov"] for kind, o in (("table", plan.paths.table_outputs(item.id)),
                                      ("figure", plan.paths.figure_outputs(item.id))) if kind in item.render_kinds]
    files = maps + [f"{r}.prov.json" for r in _result_files(item, plan)]
    absolute = [f for f in files if root in tiny_run.path(f).read_text()]
    assert not absolute, f"{item.id}: absolute paths of the repository recorded in {absolute}"


# ------------------------------------------------------------------------------------- (e) the audit
def _audit(tiny_run, *args):
    return subprocess.run([sys.executable, "-m", "toeplitznet.cli", "audit", "--scale", "smoke", *args],
                          cwd=tiny_run.root, capture_output=True, text=True, env=snakemake_env(tiny_run.root))


@pytest.mark.slow
@by_item
def test_audit_of_the_item_passes(item, tiny_run):
    # in the copy, with the copy's code: the audit compares the code that made each result with the code now
    proc = _audit(tiny_run, "--item", item.id)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "AUDIT OK" in proc.stdout and item.id in proc.stdout


@pytest.mark.slow
def test_audit_of_the_tiny_run_passes(tiny_run):
    proc = _audit(tiny_run, "--output", "audit_again.txt")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "AUDIT OK" in proc.stdout and all(i in proc.stdout for i in IDS)
    # the same report as the DAG's own audit rule (results/smoke/audit.txt)
    assert tiny_run.path("audit_again.txt").read_text() == tiny_run.path("results/smoke/audit.txt").read_text()
