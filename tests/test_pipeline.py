"""End to end on a copy of the repository: Snakemake builds items with provenance (scale-separated renders,
one rule per study), the audit of what the config lists passes and then fails after tampering, invalid
configs stop before any job, the paper and SLURM profiles dry-run, lint is clean."""
import json
import os
import subprocess
import sys

import pytest

from conftest import run_snakemake

pytestmark = pytest.mark.slow

TARGETS = ["figures/smoke/fig_5_1.pdf", "paper_tables/smoke/table_D_1.csv"]
BUILT = ["fig_5_1", "table_D_1"]


def _audit(cwd, *args):
    env = dict(os.environ, PYTHONPATH=str(cwd / "src"), TOEPLITZNET_ROOT=str(cwd))
    return subprocess.run([sys.executable, "-m", "toeplitznet.cli", "audit", "--scale", "smoke", *args], cwd=cwd,
                          capture_output=True, text=True, env=env)


def test_build_audit_tamper(repo_copy):
    run_snakemake(repo_copy, *TARGETS)
    for f in ["figures/smoke/fig_5_1.png", "figures/smoke/fig_5_1.provenance.json", "paper_tables/smoke/table_D_1.md",
              "paper_tables/smoke/table_D_1.tex", "paper_tables/smoke/table_D_1.provenance.json",
              "results/smoke/table_D_1/table_D_1.json.prov.json", "logs/smoke/study/table_D_1.log",
              "logs/smoke/benchmarks/study/table_D_1.tsv", "logs/smoke/render_table/table_D_1.log"]:
        assert (repo_copy / f).exists(), f
    assert not (repo_copy / "paper_tables/table_D_1.csv").exists() and not (repo_copy / "figures/fig_5_1.pdf").exists()
    side = json.loads((repo_copy / "results/smoke/table_D_1/table_D_1.json.prov.json").read_text())
    assert side["rule"] == "study_table_D_1" and side["wildcards"] == {} and side["scale"] == "smoke"
    ok = _audit(repo_copy, *[a for i in BUILT for a in ("--item", i)], "--output", "audit.txt")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "AUDIT OK" in ok.stdout and "MNIST" in ok.stdout
    assert (repo_copy / "audit.txt").read_text().strip() == ok.stdout.strip()
    # the audit covers what the config lists: the items not built yet are missing renders
    full = _audit(repo_copy)
    assert full.returncode == 1 and "AUDIT FAILED" in full.stdout
    assert "fig_4_2: figure is missing" in full.stdout and "table_4_1: table is missing" in full.stdout
    assert "fig_5_1:" not in full.stdout.split("AUDIT FAILED")[1]
    # tamper with the result behind the table
    res = repo_copy / "results/smoke/table_D_1/table_D_1.json"
    doc = json.loads(res.read_text())
    idx = next(i for i, c in enumerate(doc["cells"]) if c["row"] == "CIFAR" and c["column"].startswith("Vol."))
    doc["cells"][idx]["value"] = -29.76
    res.write_text(json.dumps(doc))
    bad = _audit(repo_copy, "--item", "table_D_1")
    assert bad.returncode == 1
    assert "table_D_1 [CIFAR / Vol. of the intersection (bound) - exponent]" in bad.stdout


def test_invalid_config_stops_before_any_job(repo_copy):
    import yaml

    from toeplitznet.config import apply_overrides

    base = yaml.safe_load((repo_copy / "config/config.yaml").read_text())
    for override, key in [("scale=laptop", "scale"), ("threads=-1", "threads"),
                          ("studies.fig_5_1.n_panels=-2", "studies.fig_5_1.n_panels"),
                          ("data.mirror=/no/such/dir", "data.mirror")]:
        (repo_copy / "bad.yaml").write_text(yaml.safe_dump(apply_overrides(base, [override])))
        proc = run_snakemake(repo_copy, "--configfile", "bad.yaml", check=False)
        assert proc.returncode != 0
        out = proc.stdout + proc.stderr
        assert f"config key {key}" in out and "bad.yaml" in out, out[-2000:]
    assert not (repo_copy / "results").exists()


def test_slurm_profile_dry_run_requests_its_resources(repo_copy):
    pytest.importorskip("snakemake_executor_plugin_slurm")
    proc = run_snakemake(repo_copy, "-n", "--profile", "profiles/slurm", "--workflow-profile", "none")
    out = proc.stdout + proc.stderr
    assert "Using profile profiles/slurm" in out and "profiles/default" not in out
    # the slurm profile's own requests reach the jobs (profiles/default would replace them)
    assert "mem_mb=32000" in out and "slurm_partition=gpu" in out and "runtime=720" in out
    assert "gpu=1" in out and "train_run" in out and "train_ch4" not in out


def test_paper_profile_dry_run_and_lint(repo_copy):
    proc = run_snakemake(repo_copy, "-n", "--profile", "profiles/paper")
    assert "study_table_5_2" in proc.stdout and "run_study" not in proc.stdout
    assert "results/paper/runs/" in proc.stdout and "figures/paper/fig_4_2.pdf" in proc.stdout
    lint = run_snakemake(repo_copy, "--lint", check=False)
    assert lint.returncode == 0 and "good condition" in lint.stdout + lint.stderr, lint.stdout + lint.stderr


def test_medium_profile_dry_run(repo_copy):
    """The claims check's DAG (issue: a dry run of the medium scale in CI): three seeds of every run the
    claims read, their evaluations, one claims study, its table and figure; nothing of the other items."""
    proc = run_snakemake(repo_copy, "-n", "--profile", "profiles/medium")
    out = proc.stdout
    assert "study_claims" in out and "paper_tables/medium/claims.md" in out and "figures/medium/claims.pdf" in out
    assert "results/medium/runs/ch5_cifar10_at_lipreg_c2_0p008__seed2/" in out
    assert "results/medium/runs/cifar10_dcnn_d10_lrelu0p5__seed1/" in out
    assert "results/smoke/" not in out and "results/paper/" not in out
    assert "study_table_5_3" not in out and "render_table" in out   # only the claims table is rendered
