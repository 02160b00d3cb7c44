"""The audit passes on a fresh render and fails, naming the cell, after any link of the chain changes."""
import json

import pytest

from toeplitznet.report import audit as A
from toeplitznet.report import tables as T
from toeplitznet.report.provenance import Provenance

THESIS = ("item,row,column,value,plus_minus,unit,source_line,note\n"
          "table_9_9,A,acc,0.50,,fraction,10,our result\n"
          "table_9_9,B,acc,0.70,,fraction,11,our result\n")


@pytest.fixture
def rendered(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tv.csv").write_text(THESIS)
    (tmp_path / "data.bin").write_bytes(b"training data")
    res = tmp_path / "results" / "res.json"
    Provenance(rule="t", scale="paper", inputs=["data.bin"]).write_json(
        res, {"scale": "paper", "cells": [{"row": "A", "column": "acc", "value": 0.52},
                                          {"row": "B", "column": "acc", "value": 0.69}]})
    tables = tmp_path / "paper_tables"
    outs = {k: str(tables / f"table_9_9.{k}") for k in ("csv", "md", "tex")}
    outs["prov"] = str(tables / "table_9_9.provenance.json")
    T.render_table("table_9_9", ["results/res.json"], outs, {"default": {"rel": 0.05}}, thesis_csv="tv.csv")
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
    assert any("table_9_9 [B / acc]" in p and "changed after rendering" in p for p in rep.problems)
    # the edited value is singled out; the untouched cell of the same file only fails the file hash
    edited = [p for p in rep.problems if "VALUE EDITED" in p]
    assert len(edited) == 1 and "table_9_9 [B / acc]" in edited[0] and "0.7" in edited[0] and "0.69" in edited[0]
    assert A.main(["--tables", str(rendered / "paper_tables"), "--figures", str(rendered / "f")]) == 1


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
