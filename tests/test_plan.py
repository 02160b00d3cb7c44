"""The DAG as data (toeplitznet.plan): scale-separated paths, trained runs as outputs, shared runs, and a toy
item added as one module + one config section, seen by validation, the DAG and ``toeplitznet items``."""
import copy
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from conftest import run_snakemake
from toeplitznet.plan import build_plan

ROOT = Path(__file__).resolve().parents[1]
SMOKE = yaml.safe_load((ROOT / "config/config.yaml").read_text())
PAPER = yaml.safe_load((ROOT / "config/paper.yaml").read_text())


def _outputs(plan):
    outs = set(plan.render_targets())
    for job in plan.studies.values():
        outs |= set(job.outputs.values())
    for run in plan.runs.values():
        outs |= set(run.outputs.values())
    outs |= {e.output for e in plan.evals.values()}
    return outs


def test_smoke_and_paper_write_disjoint_paths():
    smoke, paper = build_plan(SMOKE), build_plan(PAPER)
    a, b = _outputs(smoke), _outputs(paper)
    assert a and b and not a & b
    assert all(t.startswith(("paper_tables/smoke/", "figures/smoke/")) for t in smoke.render_targets())
    assert all(t.startswith(("paper_tables/paper/", "figures/paper/")) for t in paper.render_targets())
    assert all(p.startswith("results/smoke/") for p in a - set(smoke.render_targets()))


def test_trained_runs_are_outputs_with_specs():
    plan = build_plan(SMOKE)
    assert len(plan.runs) >= 30
    for rid, run in plan.runs.items():
        assert run.outputs == {"model": f"results/smoke/runs/{rid}/model.pt",
                               "metrics": f"results/smoke/runs/{rid}/metrics.json"}
        spec = run.cfg["study"]
        assert spec["id"] == rid and {"model", "data", "train", "checkpoint_dir"} <= set(spec)
        assert spec["checkpoint_dir"].startswith("work/checkpoints/smoke/runs/")
    # a run shared by several items is one job (the 2-layer DCNN of Table 4.1 and Figures 4.2, 4.5)
    shared = plan.runs["cifar10_dcnn_d2_lrelu0p5"]
    assert {"table_4_1", "fig_4_2", "fig_4_5"} <= set(shared.items)
    # the items read their runs' metrics; Table 5.1 reads the kernel CNN's weights and its evaluation
    assert set(plan.studies["table_4_1"].inputs.values()) == {
        f"results/smoke/runs/{r}/{f}" for r, j in plan.runs.items() if "table_4_1" in j.items
        for f in ("metrics.json", "model.pt")}
    t51 = plan.studies["table_5_1"].inputs
    assert t51["model"].endswith("/model.pt") and t51["accuracy"].endswith("/eval/accuracy.json")
    assert (t51["model"].split("/")[3], "accuracy") in plan.evals


def test_gpu_requests_come_from_the_config():
    smoke, paper = build_plan(SMOKE), build_plan(PAPER)
    assert all(r.gpu == 0 for r in smoke.runs.values()) and smoke.studies["table_5_2"].gpu == 0
    # Section 5.5 / appendix runs take their section's nproc GPUs (torchrun DDP), the others resources.gpu
    st = PAPER["studies"]
    nproc = {"ch5": st["ch5_robust_train"]["nproc"], "appC": st["appC_randomized_train"]["nproc"],
             "appD": st["appD_train"]["nproc"]}
    assert (nproc["ch5"], nproc["appD"]) == (8, 4)
    assert all(r.gpu == nproc.get(rid.split("_")[0], 1) for rid, r in paper.runs.items())
    assert paper.studies["table_5_2"].gpu == 1
    assert paper.studies["table_D_1"].gpu == 0


def test_a_changed_setting_changes_the_checkpoint_folder():
    rid = "cifar10_dcnn_d2_lrelu0p5"
    a = build_plan(SMOKE).runs[rid].cfg["study"]["checkpoint_dir"]
    cfg = copy.deepcopy(SMOKE)
    cfg["studies"]["ch4_train"]["epochs"] += 1
    assert build_plan(cfg).runs[rid].cfg["study"]["checkpoint_dir"] != a


TOY_MODULE = '''
"""A toy item (tests only): one number from one config value."""
from toeplitznet.registry import IMPLEMENTED, Item

SCHEMA = """
type: object
additionalProperties: false
required: [value]
properties:
  value: {type: integer, minimum: 0}
"""
ITEM = Item(id="table_Z_1", kind="table", title="toy table", thesis_lines="L1-2", status=IMPLEMENTED,
            schema=SCHEMA, scale_independent=True)


def run(ctx):
    ctx.write_result("result", {"item": "table_Z_1", "scale_independent": True,
                                "cells": [{"row": "toy", "column": "value", "value": ctx.params["value"]}]})
'''


@pytest.mark.slow
def test_a_toy_item_is_one_module_and_one_config_section(repo_copy):
    pkg = repo_copy / "src/toeplitznet/items/zz_toy"
    pkg.mkdir()
    (pkg / "__init__.py").write_text('"""Toy chapter (tests only)."""\n')
    (pkg / "table_Z_1.py").write_text(textwrap.dedent(TOY_MODULE))
    cfg = yaml.safe_load((repo_copy / "config/config.yaml").read_text())
    cfg["items"].append("table_Z_1")
    cfg["studies"]["table_Z_1"] = {"value": 7}
    (repo_copy / "config/config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    env = dict(os.environ, PYTHONPATH=str(repo_copy / "src"), TOEPLITZNET_ROOT=str(repo_copy))
    items = subprocess.run([sys.executable, "-m", "toeplitznet.cli", "items", "--json"], cwd=repo_copy,
                           capture_output=True, text=True, env=env, check=True)
    row = next(r for r in json.loads(items.stdout) if r["item"] == "table_Z_1")
    assert row["chapter"] == "zz_toy" and row["status"] == "implemented" and row["config_section"] == "table_Z_1"
    dry = run_snakemake(repo_copy, "-n", "paper_tables/smoke/table_Z_1.md")
    assert "study_table_Z_1" in dry.stdout + dry.stderr and "render_table" in dry.stdout + dry.stderr
    full = run_snakemake(repo_copy, "-n")
    assert "study_table_Z_1" in full.stdout + full.stderr
    # its section is validated like any other: a misspelled key stops the run before any job
    cfg["studies"]["table_Z_1"] = {"valeu": 7}
    (repo_copy / "config/config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    bad = run_snakemake(repo_copy, "-n", check=False)
    assert bad.returncode != 0
    assert "config key studies.table_Z_1" in bad.stdout + bad.stderr and "valeu" in bad.stdout + bad.stderr


@pytest.mark.slow
def test_removing_a_trained_model_retrains_that_run_and_its_dependents(repo_copy):
    """model.pt is an output of rule train_run: listed by --summary; after deleting it, rebuilding it reruns
    exactly that run and the items that read it. (Snakemake does not rebuild a missing intermediate file on its
    own while the files downstream of it are up to date; naming it, as a target or with --forcerun, does.)"""
    cfg = yaml.safe_load((repo_copy / "config/config.yaml").read_text())
    cfg["items"] = ["fig_4_2", "table_4_1"]
    t = cfg["studies"]["ch4_train"]
    t.update(epochs=1, train_subset=200, test_subset=100)
    cfg["studies"]["fig_4_2"].update(depths=[1, 2], slopes=[0.5])
    cfg["studies"]["table_4_1"].update(dcnn_depths=[2], ldr_td_ranks=[], toeplitz_like_ranks=[])
    (repo_copy / "config/config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    run_snakemake(repo_copy, "figures/smoke/fig_4_2.pdf", "paper_tables/smoke/table_4_1.md")
    proc = run_snakemake(repo_copy, "--summary")
    summary = proc.stdout + proc.stderr
    model = "results/smoke/runs/cifar10_dcnn_d1_lrelu0p5/model.pt"
    line = next(ln for ln in summary.splitlines() if ln.startswith(model))
    assert "train_run" in line
    (repo_copy / model).unlink()
    proc = run_snakemake(repo_copy, "-n", "figures/smoke/fig_4_2.pdf", "paper_tables/smoke/table_4_1.md",
                         "--forcerun", model)
    dry = proc.stdout + proc.stderr
    assert "Job stats" in dry, dry[-3000:]
    lines = dry[dry.index("Job stats:"):].splitlines()[3:]
    stats = lines[:next(i for i, ln in enumerate(lines) if ln.startswith("total")) + 1]
    counts = {ln.split()[0]: int(ln.split()[1]) for ln in stats}
    # the depth-1 run is Figure 4.2's only: Table 4.1 (which reads depths 2 and dense) is not rebuilt
    assert counts == {"train_run": 1, "study_fig_4_2": 1, "render_figure": 1, "total": 3}, stats
