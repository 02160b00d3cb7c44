"""``toeplitznet explain ITEM`` (toeplitznet.report.explain.main): the claim kind, thesis value and precision,
rule, ours and verdict with its reason for every cell, from the rendered table, the result files, or the
thesis's claims alone."""

import json

import pytest

from toeplitznet.reference import project_root, thesis_cells
from toeplitznet.report import explain as E
from toeplitznet.report import tables as T
from toeplitznet.report.provenance import Provenance

PAPER = str(project_root() / "config/paper.yaml")


def _blocks(text):
    return [b for b in text.split("\n\n") if b.startswith("[")]


def test_explain_table_4_5_shows_claim_and_rule_for_every_cell(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)   # no results of this scale here: the thesis's claims alone
    assert E.main(["table_4_5", "--scale", "paper", "--configfile", PAPER]) == 0
    out = capsys.readouterr().out
    assert "from the thesis's claims only" in out
    blocks = _blocks(out)
    assert len(blocks) == len(thesis_cells("table_4_5")) == 13
    for c, b in zip(thesis_cells("table_4_5"), blocks):
        assert b.startswith(f"[{c.row} / {c.column}]") and f"L{c.source_line}" in b
        lines = {ln.split()[0]: ln for ln in b.splitlines()[1:]}
        assert set(lines) == {"claim", "thesis", "rule", "ours", "verdict"}, b
        assert lines["rule"].split(None, 1)[1] != "-" and "pending" in lines["verdict"]
    by = {b.splitlines()[0]: b for b in blocks}
    over = by["[DC + scattering / accuracy (lower bound stated)]  (thesis L5025)"]
    assert "claim    lower:" in over and "ours > 78" in over
    count = by["[Toeplitz-like (r = 1) / #Parameters]  (thesis L5003)"]
    assert "claim    count:" in count and "thesis   110 K params" in count and "precision: 1)" in count
    acc = by["[DC (3 layers) / Accuracy]  (thesis L5000)"]
    assert "1 point(s) = 0.01 as a fraction (render.tolerance.points)" in acc


def test_explain_reads_the_rendered_table(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    res = tmp_path / "r.json"
    Provenance(rule="t", scale="paper", seeds=[3]).write_json(res, {"item": "fig_5_2", "scale": "paper", "cells": [
        {"row": "kernel (6x3x3 presumably), n=224", "column": "Gamma(n) upper value", "value": 5e-4},
        {"row": "extra", "column": "LipBound", "value": 10.5}]})
    tables = tmp_path / "tables"
    outs = {k: str(tables / f"fig_5_2.{k}") for k in ("csv", "md", "tex")}
    outs["prov"] = str(tables / "fig_5_2.provenance.json")
    T.render_table("fig_5_2", [str(res)], outs, {"default": {"rel": 0.05}})
    assert E.main(["fig_5_2", "--configfile", PAPER, "--tables-dir", str(tables)]) == 0
    out = capsys.readouterr().out
    assert f"from rendered table {tables / 'fig_5_2.csv'}" in out
    by = {b.splitlines()[0]: b for b in _blocks(out)}
    b224 = by["[kernel (6x3x3 presumably), n=224 / Gamma(n) upper value]  (thesis L5999)"]
    assert "claim    upper:" in b224 and "ours < 4e-4" in b224
    assert "ours     0.0005" in b224 and "1 seed(s)" in b224
    assert "verdict  deviates: 0.0005 >= 4e-4" in b224
    assert "verdict  not in thesis" in by["[extra / LipBound]"]
    assert "verdict  pending" in by["[6x3x3 kernel, n=50 / Gamma(n) = LipBound - sigma_1]  (thesis L5998)"]
    # the same as JSON
    assert E.main(["fig_5_2", "--configfile", PAPER, "--tables-dir", str(tables), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    [c] = [c for c in doc["cells"] if c["column"] == "Gamma(n) upper value"]
    assert (c["claim"], c["status"]) == ("upper", "deviates") and doc["scale"] == "paper"


def test_explain_judges_result_files_not_rendered_yet(tmp_path, monkeypatch, capsys):
    """No rendered table, but the study's result is where the plan puts it: judged now."""
    from toeplitznet.config import load_config
    from toeplitznet.plan import build_plan
    from toeplitznet.studies.runner import run_from_cli

    monkeypatch.chdir(tmp_path)
    cfg = load_config(PAPER, check_paths=False)
    [path] = build_plan(cfg).tables["table_D_1"]
    run_from_cli("table_D_1", cfg, str(tmp_path / "results/paper/table_D_1"))
    assert (tmp_path / path).exists()
    assert E.main(["table_D_1", "--configfile", PAPER]) == 0
    out = capsys.readouterr().out
    assert "judged now; not rendered yet" in out
    by = {b.splitlines()[0]: b for b in _blocks(out)}
    exp = by["[ImageNet / Vol. of the intersection (bound) - exponent]  (thesis L8185)"]
    assert "claim    exact:" in exp and "verdict  reproduced: -1478.71" in exp and "truncates to -1478.71" in exp
    assert "verdict  setting (as in the thesis)" in by["[MNIST / Dim. (d)]  (thesis L8181)"]


@pytest.mark.parametrize("argv", [["table_9_9"], ["not_an_item"], ["table_4_5", "--scale", "smoke",
                                                                     "--configfile", PAPER]])
def test_explain_refuses_unknown_items_and_mismatched_scales(argv, capsys):
    assert E.main(argv) == 2
    assert "error:" in capsys.readouterr().err
