"""Training seeds (config key ``seeds``): every run trained once per seed, replicas named ``<run>__seed<k>``,
their files inputs of the items, and tables showing mean ± std (sample std, by hand) over the seeds."""
import copy
import math
from pathlib import Path

import pytest
import yaml

from toeplitznet.config import ConfigError, coerce_overrides, cross_checks
from toeplitznet.plan import PlanError, build_plan
from toeplitznet.runs.seeds import mean_std, merge_replicas, seed_stats

ROOT = Path(__file__).resolve().parents[1]
SMOKE = yaml.safe_load((ROOT / "config/config.yaml").read_text())
PAPER = yaml.safe_load((ROOT / "config/paper.yaml").read_text())


def _with_seeds(seeds):
    cfg = copy.deepcopy(SMOKE)
    cfg["seeds"] = seeds
    return cfg


def test_paper_config_takes_several_seeds():
    assert len(PAPER["seeds"]) >= 2 and PAPER["seed"] in PAPER["seeds"]
    assert SMOKE["seeds"] == [SMOKE["seed"]]


def test_each_run_is_replicated_per_seed_with_its_seed_in_the_spec():
    one, three = build_plan(_with_seeds([0])), build_plan(_with_seeds([0, 3, 7]))
    base = "mnist_dcnn_d8_w1024_lrelu0p5"
    assert base in one.runs and f"{base}__seed3" not in one.runs
    for rid, seed in ((base, 0), (f"{base}__seed3", 3), (f"{base}__seed7", 7)):
        spec = three.runs[rid].cfg["study"]
        assert spec["train"]["seed"] == seed and spec["model"]["seed"] == seed
        assert spec["train"]["meta"]["run"] == rid
    # the global seed's run is the very same job as without replicas (adding seeds retrains nothing old)
    assert three.runs[base].cfg == one.runs[base].cfg
    # replicas have their own checkpoint folders
    dirs = {three.runs[r].cfg["study"]["checkpoint_dir"] for r in (base, f"{base}__seed3", f"{base}__seed7")}
    assert len(dirs) == 3
    # the runs of the Table 5.1 kernel CNN are not replicated (one trained model gives the kernels)
    kernel = [r for r in three.runs if r.startswith("table_5_1_")]
    assert len(kernel) == 1
    n_repl = sum(1 for r in three.runs if "__seed" in r)
    assert n_repl == 2 * (len(one.runs) - len(kernel))


def test_items_get_the_replicas_files_as_inputs():
    plan = build_plan(_with_seeds([0, 1]))
    ins = plan.studies["table_4_2"].inputs
    base = "mnist_dcnn_d8_w1024_lrelu0p5"
    assert ins[f"{base}__seed1"] == plan.runs[f"{base}__seed1"].outputs["metrics"]
    assert ins[f"{base}__model__seed1"] == plan.runs[f"{base}__seed1"].outputs["model"]


def test_seeds_must_contain_the_global_seed():
    with pytest.raises(ConfigError, match="seeds"):
        cross_checks(_with_seeds([1, 2]))
    with pytest.raises(PlanError, match="global seed"):
        build_plan(_with_seeds([1, 2]))


def test_command_line_seed_lists_become_integers():
    cfg = copy.deepcopy(SMOKE)
    cfg["seeds"] = ["0", "1"]  # what Snakemake's --config seeds=[0,1] gives
    coerce_overrides(cfg, {"seeds": ["0", "1"]})
    assert cfg["seeds"] == [0, 1]


def _m(rid, seed, acc, replica_of=None, status="finished"):
    return {"run_id": rid, "replica_of": replica_of, "seed": seed, "status": status,
            "final_eval": {"test": {"accuracy": acc}}, "labels": {"x": 1}}


def test_merge_is_mean_and_sample_std_by_hand():
    runs = [_m("a", 0, 0.50), _m("b", 0, 0.9), _m("a__seed1", 1, 0.70, "a"), _m("a__seed2", 2, 0.60, "a")]
    merged = {m["run_id"]: m for m in merge_replicas(runs)}
    assert list(merged) == ["a", "b"]
    a = merged["a"]
    assert a["final_eval"]["test"]["accuracy"] == pytest.approx(0.6)
    # sample std of (0.5, 0.7, 0.6) = sqrt(((-.1)^2 + .1^2 + 0) / 2) = 0.1
    assert a["seed_stats"]["std"] == pytest.approx(0.1)
    assert a["seed_stats"]["seeds"] == [0, 1, 2]
    assert seed_stats(a, 100.0) == {"n_seeds": 3, "plus_minus": pytest.approx(10.0)}
    assert seed_stats(merged["b"]) == {"n_seeds": 1}


def test_diverged_seeds_are_left_out_and_counted():
    runs = [_m("a", 0, 0.1, status="diverged"), _m("a__seed1", 1, 0.8, "a")]
    a = merge_replicas(runs)[0]
    assert a["final_eval"]["test"]["accuracy"] == pytest.approx(0.8)
    assert a["seed_stats"]["n_diverged"] == 1 and a["status"] == "finished"
    all_bad = merge_replicas([_m("a", 0, 0.1, status="diverged"), _m("a__seed1", 1, 0.1, "a", "diverged")])[0]
    assert all_bad["status"] == "diverged"


def test_mean_std_edge_cases():
    assert mean_std([]) == (None, None)
    assert mean_std([2.0]) == (2.0, None)
    m, s = mean_std([1.0, 2.0, 3.0, 4.0])
    assert m == 2.5 and s == pytest.approx(math.sqrt(5 / 3))
