"""Chapter 4 run expansion shared by the items (items/ch4_dcnn/_runs.py and toeplitznet.plan): pure Python,
stable and deduplicated run ids, canonical linear runs, resolved run specs and checkpoint folders, the S1
training settings, the aggregation helpers, and the Chapter 4 targets in the dry-run DAG."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ch4_helpers import PAPER, SMOKE, clone, metrics, plan_of
from conftest import ROOT, run_snakemake
from toeplitznet.items.ch4_dcnn import _runs
from toeplitznet.plan import build_plan
from toeplitznet.registry import discover

REG = discover()
CH4_ITEMS = [i.id for i in REG.built_items() if i.chapter == "ch4_dcnn"]
#: the Chapter 4 items that train networks (their module declares DATASET and labels)
TRAINING_ITEMS = [i for i in CH4_ITEMS if hasattr(REG.module(i), "DATASET")]


def test_chapter_items():
    assert CH4_ITEMS == ["fig_4_2", "fig_4_3", "fig_4_4", "fig_4_5", "fig_4_6", "table_4_1", "table_4_2",
                         "table_4_5", "ecai_fig_2a"]
    assert sorted(TRAINING_ITEMS) == sorted(["fig_4_2", "ecai_fig_2a", "fig_4_4", "fig_4_5", "table_4_1",
                                             "table_4_2", "table_4_5"])
    assert set(REG.studies) >= {"param_counts_ch4", "ch4_scattering"}
    assert REG.studies["param_counts_ch4"].chapter == REG.studies["ch4_scattering"].chapter == "ch4_dcnn"


def test_expansion_is_pure_python():
    mods = ", ".join(f"toeplitznet.items.ch4_dcnn.{m}" for m in ["_runs", "_report", *CH4_ITEMS,
                                                                    "param_counts_ch4", "ch4_scattering"])
    code = (f"import sys, yaml, importlib; [importlib.import_module(m) for m in '{mods}'.split(', ')]; "
            "from toeplitznet.items.ch4_dcnn import _runs; cfg = yaml.safe_load(open('config/paper.yaml')); "
            f"[_runs.item_specs(cfg, i) for i in {TRAINING_ITEMS!r}]; _runs.paper_architectures(cfg, ['fig_4_5']); "
            "assert 'torch' not in sys.modules, 'Chapter 4 expansion imports torch'; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env=dict(os.environ, PYTHONPATH=str(ROOT / "src")))
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr


def _ch4_runs(plan):
    return {rid: job for rid, job in plan.runs.items() if set(job.items) & set(CH4_ITEMS)}


@pytest.mark.parametrize("cfg", [SMOKE, PAPER], ids=["smoke", "paper"])
def test_runs_deduplicated_and_stable(cfg):
    plan, again = plan_of(cfg), build_plan(clone(cfg))
    runs = _ch4_runs(plan)
    # same config -> same ids, specs and order
    assert list(runs) == list(_ch4_runs(again))
    assert all(runs[r].cfg == again.runs[r].cfg for r in runs)
    per_item = {i: _runs.item_runs(cfg, i) for i in TRAINING_ITEMS}
    # every run id is a valid identifier (a Snakemake wildcard value) and used by some item; the seed
    # replicas (config key seeds) are the base runs' ids plus __seed<k>
    assert all(r.isidentifier() for r in runs)
    extra = [s for s in cfg["seeds"] if s != cfg["seed"]]
    expected = {r for ids in per_item.values() for r in ids}
    assert set(runs) == expected | {f"{r}__seed{s}" for r in expected for s in extra}
    for rid, job in runs.items():
        base = rid.split("__seed")[0]
        assert sorted(job.items) == sorted(i for i, ids in per_item.items() if base in ids), rid
        assert job.cfg["study"]["id"] == rid
    # the slope-0.5 DCNNs of Table 4.1 are points of Figures 4.2 and 4.5: one run each
    shared = set(per_item["table_4_1"]) & set(per_item["fig_4_2"]) & set(per_item["fig_4_5"])
    assert "cifar10_dcnn_d2_lrelu0p5" in shared
    assert {"table_4_1", "fig_4_2", "fig_4_5"} <= set(plan.runs["cifar10_dcnn_d2_lrelu0p5"].items)
    assert sum(len(v) for v in per_item.values()) > len([r for r in runs if "__seed" not in r])
    # Figure 4.6 has no runs of its own: it draws Table 4.5's result
    assert "fig_4_6" not in plan.studies and not any("fig_4_6" in j.items for j in plan.runs.values())
    assert plan.figures["fig_4_6"].inputs["result"] == plan.studies["table_4_5"].outputs["result"]
    # an aggregating item reads exactly the metrics of its runs and of their seed replicas (and depends on
    # their weights)
    for item in TRAINING_ITEMS:
        res = f"results/{cfg['scale']}/runs"
        want = {}
        for r in per_item[item]:
            for k, f in ((r, "metrics.json"), (f"{r}__model", "model.pt")):
                want[k] = f"{res}/{r}/{f}"
                want.update({f"{k}__seed{s}": f"{res}/{r}__seed{s}/{f}" for s in extra})
        assert plan.studies[item].inputs == want, item


def test_ids_and_canonical_linear_runs():
    assert _runs.run_id("cifar10", _runs.mlp_labels("dcnn", 2, "leaky_relu", 0.5)) == "cifar10_dcnn_d2_lrelu0p5"
    assert _runs.run_id("cifar10", _runs.mlp_labels("dcnn", 6, "relu", relu_every=3)) == "cifar10_dcnn_d6_relu_every3"
    assert _runs.run_id("mnist", _runs.mlp_labels("dcnn", 8, "leaky_relu", 0.5, width=1024)) == \
        "mnist_dcnn_d8_w1024_lrelu0p5"
    assert _runs.run_id("cifar10", _runs.mlp_labels("lowrank", 1, "leaky_relu", 0.5, rank=7)) == \
        "cifar10_lowrank_d1_r7_lrelu0p5"
    # no activation at all when the ReLU period exceeds the depth: one linear run for every such period
    a = _runs.mlp_labels("dcnn", 2, "relu", relu_every=3)
    b = _runs.mlp_labels("dcnn", 2, "relu", relu_every=5)
    assert a == b and a["activation"] == "identity" and a["relu_every"] == 1
    assert _runs.run_id("cifar10", a) == "cifar10_dcnn_d2_linear"
    assert _runs._num(0.5) == "0p5" and _runs._num(2) == "2" and _runs._num(2.0) == "2"
    with pytest.raises(TypeError):
        _runs._num(True)


def test_run_spec_and_checkpoint_dir():
    rid = "cifar10_dcnn_d2_lrelu0p5"
    job = plan_of(SMOKE).runs[rid]
    s = job.cfg["study"]
    # smoke: Fashion-MNIST (784-d) stands in for CIFAR-10, the standardisation is the model's first layer
    assert s["data"]["dataset"] == "cifar10" and s["data"]["source"] == "fashion_mnist"
    assert s["model"]["input_shape"] == [1, 28, 28] and s["model"]["normalize"] == "fashion_mnist"
    assert s["data"]["train_subset"] == SMOKE["studies"]["ch4_train"]["train_subset"]
    assert job.inputs == {"manifest": "data/fashion_mnist/MANIFEST.json"}
    assert job.outputs == {"model": f"results/smoke/runs/{rid}/model.pt",
                           "metrics": f"results/smoke/runs/{rid}/metrics.json"}
    assert s["checkpoint_dir"].startswith(f"{SMOKE['paths']['checkpoints']}/smoke/runs/{rid}-")
    assert s["train"] == dict(_runs.train_settings(SMOKE), meta={"run": rid})
    assert s == {**{k: v for k, v in _runs.run_spec(SMOKE, "fig_4_2", s["labels"]).items()
                    if k not in ("inputs", "gpu")}, "checkpoint_dir": s["checkpoint_dir"]}
    # any change of a setting that defines the run changes its checkpoint folder; one that does not, does not
    changed = clone(SMOKE)
    changed["studies"]["ch4_train"]["epochs"] += 1
    assert build_plan(changed).runs[rid].cfg["study"]["checkpoint_dir"] != s["checkpoint_dir"]
    other = clone(SMOKE)
    other["studies"]["fig_4_2"]["depths"] = [2]
    assert build_plan(other).runs[rid].cfg["study"]["checkpoint_dir"] == s["checkpoint_dir"]
    paper = plan_of(PAPER).runs[rid].cfg["study"]
    assert paper["data"]["source"] == "cifar10" and paper["model"]["input_shape"] == [3, 32, 32]
    assert paper["checkpoint_dir"].startswith(f"{PAPER['paths']['checkpoints']}/paper/runs/{rid}-")


def test_check_config_names_the_key():
    from toeplitznet.config import ConfigError, validate

    bad = clone(SMOKE)
    bad["studies"]["ch4_train"]["lr_values"] = [1e-3]
    with pytest.raises(ValueError, match="studies.ch4_train.lr_values"):
        _runs.check_config(bad)
    with pytest.raises(ConfigError, match="lr_values"):
        validate(bad, check_paths=False)
    bad = clone(SMOKE)
    bad["studies"]["ch4_train"]["lr_boundaries"] = [60000, 40000, 80000]
    with pytest.raises(ValueError, match="strictly increasing"):
        _runs.check_config(bad)


def test_paper_training_settings_are_S1():
    from toeplitznet.train import TrainConfig, schedule_report, thesis_preset

    t = _runs.train_settings(PAPER)
    s1 = thesis_preset("ch4_cifar10")
    for key in ("optimizer", "lr", "epochs", "batch_size", "schedule"):
        assert t[key] == s1[key], key
    assert PAPER["studies"]["ch4_train"]["train_subset"] is None
    # 200 epochs x 250 steps = 50K steps: only the 40K boundary is ever reached
    rep = schedule_report(TrainConfig.from_dict(t), steps_per_epoch=50_000 // 200)
    assert rep["reached"] == [40_000] and rep["not_reached"] == [60_000, 80_000]


def test_paper_architectures_are_thesis_sized_at_every_scale():
    for cfg in (SMOKE, PAPER):
        arch = _runs.paper_architectures(cfg, ["table_4_1", "table_4_2"])
        for item, runs in arch.items():
            for rid, entry in runs.items():
                assert set(entry) == {"id", "labels", "model"} and entry["id"] == rid
                assert "seed" not in entry["model"] and "normalize" not in entry["model"]
                want = [1, 28, 28] if item == "table_4_2" else [3, 32, 32]
                assert entry["model"]["input_shape"] == want, rid
    # the smoke scattering (L = 4) is replaced by the paper architecture's (studies.param_counts_ch4)
    scat = _runs.paper_architectures(SMOKE, ["table_4_5"])["table_4_5"]
    assert {e["labels"]["L"] for e in scat.values()} == {SMOKE["studies"]["param_counts_ch4"]["scattering"]["L"]}


# ------------------------------------------------------------------ aggregation (hand-made metrics)
def test_aggregation_helpers():
    runs = [metrics(_runs.mlp_labels("dcnn", d, "leaky_relu", 0.5), a, 1000 * d)
            for d, a in [(2, 0.5), (4, None), (5, 0.55)]]
    runs[1]["status"] = "diverged"
    assert [_runs.final_accuracy(m) for m in runs] == [0.5, None, 0.55]
    assert [_runs.accuracy_or_chance(m) for m in runs] == [0.5, 0.1, 0.55]
    assert _runs.best_run(runs)["labels"]["depth"] == 5 and _runs.best_run(runs[1:2]) is None
    assert _runs.n_weights(dict(runs[0], n_params_thesis=7)) == 7 and _runs.n_weights(runs[0]) == 2000
    assert "60000" in _runs.schedule_note(runs).replace(",", "").replace(" ", "")
    assert _runs.schedule_note([]) is None
    assert _runs.stand_in_of(runs) == "X stands in for Y" and _runs.stand_in_of([{"stand_in": None}]) is None
    assert _runs.series_label({"family": "scattering", "head": "ldr_sd"}) == "Scattering + LDR-SD"


# --------------------------------------------------------------------------- the DAG
def _job_counts(stdout):
    counts = {}
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            counts[parts[0]] = int(parts[1])
    return counts


def _targets(cfg):
    plan = plan_of(cfg)
    return [t for i in CH4_ITEMS for t in plan.item_targets(i) if t.endswith((".pdf", ".md"))]


def test_targets_in_dry_run_dag(repo_copy):
    targets = _targets(SMOKE)
    kinds = [k for i in CH4_ITEMS for k in REG.item(i).render_kinds]
    assert all(t.startswith(("figures/smoke/", "paper_tables/smoke/")) for t in targets)
    assert len(targets) == len(kinds) and kinds.count("figure") == 6 and kinds.count("table") >= 3
    smoke = _job_counts(run_snakemake(repo_copy, "-n", "--forceall", *targets).stdout)
    want = {"study_ch4_scattering": 1, "study_param_counts_ch4": 1, "render_figure": kinds.count("figure"),
            "render_table": kinds.count("table"), **{f"study_{i}": 1 for i in CH4_ITEMS if i != "fig_4_6"}}
    for rule, n in want.items():
        assert smoke.get(rule) == n, rule
    assert "study_fig_4_6" not in smoke and "train_ch4" not in smoke and "run_study" not in smoke
    # one training job per distinct run: runs shared between items are trained once
    assert smoke["train_run"] == len(_ch4_runs(plan_of(SMOKE)))
    paper = _job_counts(run_snakemake(repo_copy, "-n", "--forceall", "--profile", "profiles/paper",
                                      *_targets(PAPER)).stdout)
    assert paper["train_run"] == len(_ch4_runs(plan_of(PAPER))) > smoke["train_run"]
