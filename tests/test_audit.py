"""The audit passes on a fresh render and fails, naming the cell, after any link of the chain changes; the CLI
(``toeplitznet audit``) audits exactly what a config lists, at its scale's render paths."""
import json

import pytest

from toeplitznet.report import audit as A
from toeplitznet.report import tables as T
from toeplitznet.codehash import job_code
from toeplitznet.report.provenance import Provenance

THESIS = ("item,row,column,value,plus_minus,unit,source_line,note\n"
          "table_9_9,A,acc,0.50,,fraction,10,our result\n"
          "table_9_9,B,acc,0.70,,fraction,11,our result\n")


@pytest.fixture
def rendered(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tv.csv").write_text(THESIS)
    (tmp_path / "data.bin").write_bytes(b"training data")
    # paths relative to the repository (here the scratch folder), as the DAG records them; every job records
    # the fingerprint of its code, which the audit recomputes
    Provenance(rule="t", scale="paper", inputs=["data.bin"], code=job_code(["toeplitznet.report.tables"])).write_json(
        "results/res.json", {"scale": "paper", "cells": [{"row": "A", "column": "acc", "value": 0.52},
                                                         {"row": "B", "column": "acc", "value": 0.69}]})
    outs = {k: f"paper_tables/table_9_9.{k}" for k in ("csv", "md", "tex")}
    outs["prov"] = "paper_tables/table_9_9.provenance.json"
    T.render_table("table_9_9", ["results/res.json"], outs, {"default": {"rel": 0.05}}, thesis_csv="tv.csv",
                   extra={"code": job_code(["toeplitznet.report.tables"])})
    return tmp_path


def _run(tmp):
    return A.audit(tmp / "paper_tables", tmp / "figures")


def test_fresh_render_passes(rendered):
    rep = _run(rendered)
    assert rep.ok, rep.problems
    assert {(ln["row"], ln["value"]) for ln in rep.lines} == {("A", 0.52), ("B", 0.69)}
    assert "AUDIT OK" in A.format_report(rep)


def test_edited_result_file_names_the_cell(rendered):
    res = rendered / "results" / "res.json"
    doc = json.loads(res.read_text())
    doc["cells"][1]["value"] = 0.70  # someone "fixes" a number
    res.write_text(json.dumps(doc))
    rep = _run(rendered)
    assert not rep.ok
    # the changed file names the cells it feeds ...
    assert any(p.startswith("table_9_9") and "changed after rendering" in p and "[B / acc]" in p
               for p in rep.problems)
    # the edited value is singled out; the untouched cell of the same file only fails the file hash
    edited = [p for p in rep.problems if "VALUE EDITED" in p]
    assert len(edited) == 1 and "table_9_9 [B / acc]" in edited[0] and "0.7" in edited[0] and "0.69" in edited[0]


def test_missing_sidecar(rendered):
    (rendered / "results" / "res.json.prov.json").unlink()
    rep = _run(rendered)
    assert any("sidecar" in p and "missing" in p for p in rep.problems)


def test_changed_input(rendered):
    (rendered / "data.bin").write_bytes(b"other data")
    rep = _run(rendered)
    assert any("input data.bin" in p and "changed" in p for p in rep.problems)


def test_edited_rendered_table(rendered):
    csv_path = rendered / "paper_tables" / "table_9_9.csv"
    csv_path.write_text(csv_path.read_text().replace("0.52", "0.50"))
    rep = _run(rendered)
    assert any("edited after rendering" in p for p in rep.problems)
    assert any("table_9_9 [A / acc]" in p for p in rep.problems)


def test_nothing_to_audit_fails(tmp_path):
    assert not A.audit(tmp_path / "none", tmp_path / "none").ok


# ------------------------------------------------------------------ the CLI: what the config lists
@pytest.fixture
def listed(tmp_path, monkeypatch):
    """Table D.1 built and rendered where the smoke plan puts it (paper_tables/smoke/...), in a scratch folder;
    a config listing only it."""
    import yaml

    from conftest import ROOT
    from toeplitznet.config import load_config
    from toeplitznet.plan import build_plan
    from toeplitznet.studies.runner import run_from_cli

    monkeypatch.chdir(tmp_path)
    cfg = load_config(ROOT / "config/config.yaml")
    cfg["items"] = ["table_D_1"]
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    plan = build_plan(cfg)
    run_from_cli("table_D_1", cfg, "results/smoke/table_D_1")
    assert plan.tables["table_D_1"] == ["results/smoke/table_D_1/table_D_1.json"]
    # what rule render_table does (workflow/scripts/render_table.py)
    outs = plan.paths.table_outputs("table_D_1")
    T.render_table("table_D_1", plan.tables["table_D_1"], {k: v for k, v in outs.items() if k != "html"},
                   cfg["render"]["tolerance"], extra={"code": plan.table_code})
    return tmp_path, cfg


def test_cli_audits_the_items_of_the_config(listed, capsys):
    tmp, cfg = listed
    assert (tmp / "paper_tables/smoke/table_D_1.provenance.json").exists()
    assert A.audit_config(cfg).ok
    assert A.main(["--configfile", "config.yaml", "--output", "out/audit.txt"]) == 0
    out = capsys.readouterr().out
    assert "AUDIT OK" in out and "MNIST" in out and (tmp / "out/audit.txt").read_text().strip() == out.strip()
    # a listed item without renders fails, naming it and the missing file
    rep = A.audit_config(dict(cfg, items=["table_D_1", "fig_5_1"]))
    assert not rep.ok and rep.problems == ["fig_5_1: figure is missing (figures/smoke/fig_5_1.provenance.json)"]
    # --item restricts the audit to items of the config
    assert A.audit_config(dict(cfg, items=["table_D_1", "fig_5_1"]), ["table_D_1"]).ok
    assert A.main(["--configfile", "config.yaml", "--item", "fig_5_1"]) == 1
    assert "--item fig_5_1: not an item of this config" in capsys.readouterr().out
    # the scale must be the config's
    with pytest.raises(SystemExit, match="scale smoke"):
        A.main(["--configfile", "config.yaml", "--scale", "paper"])


def test_cli_names_the_edited_cell(listed, capsys):
    tmp, cfg = listed
    res = tmp / "results/smoke/table_D_1/table_D_1.json"
    doc = json.loads(res.read_text())
    idx = next(i for i, c in enumerate(doc["cells"]) if c["row"] == "MNIST" and c["column"].startswith("Vol."))
    doc["cells"][idx]["value"] = -7.344
    res.write_text(json.dumps(doc))
    assert A.main(["--configfile", "config.yaml"]) == 1
    out = capsys.readouterr().out
    assert "AUDIT FAILED" in out and "table_D_1 [MNIST / Vol. of the intersection (bound) - exponent]" in out


def test_table_without_provenance_map(listed):
    tmp, cfg = listed
    (tmp / "paper_tables/smoke/table_D_1.provenance.json").unlink()
    rep = A.audit_config(cfg)
    assert not rep.ok and "has no provenance map" in rep.problems[0] and "table_D_1.csv" in rep.problems[0]
