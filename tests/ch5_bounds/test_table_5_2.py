"""Table 5.2: whole-network time of LipBound vs the power method. Cells and the ratio on hand-made timings,
the 17 networks' labels against the thesis, and the targets in the dry-run DAG."""

import pytest

from conftest import run_snakemake
from toeplitznet.items.ch5_bounds import table_5_2
from toeplitznet.reference import thesis_cells


def test_network_cells_ratio_and_labels():
    timing = {"n_layers": 5, "lipbound": {"mean_ms": 2.0, "std_ms": 0.1},
              "power_method": {"mean_ms": 16.4, "std_ms": 1.0}}
    cells = {(c["row"], c["column"]): c for c in table_5_2.network_cells("AlexNet", timing,
                                                                         ["lipbound", "power_method"])}
    assert cells[("AlexNet", "Ratio")]["value"] == pytest.approx(8.2)
    assert cells[("AlexNet", "LipBound (ms)")]["plus_minus"] == 0.1
    assert cells[("AlexNet", "conv layers")]["value"] == 5
    only = table_5_2.network_cells("AlexNet", timing, ["lipbound"])
    assert [c["column"] for c in only] == ["LipBound (ms)", "conv layers"]   # no ratio without both methods


def test_the_17_networks_are_the_thesis_rows():
    keys = {(c.row, c.column) for c in thesis_cells("table_5_2")}
    networks = table_5_2._networks()
    assert len(networks) == 17
    for label in networks.values():
        for col in ("LipBound (ms)", "Power Method (ms)", "Ratio"):
            assert (label, col) in keys
    assert ("LipBound vs PM", "max speed-up") in keys
    # the schema's enum is the list of networks
    assert table_5_2.ITEM.schema_dict["properties"]["networks"]["items"]["enum"] == list(networks)


def test_targets_in_dry_run_dag(repo_copy):
    targets = ["figures/smoke/fig_5_2.pdf", "paper_tables/smoke/fig_5_2.md", "paper_tables/smoke/table_5_2.md"]
    out = run_snakemake(repo_copy, "-n", *targets).stdout
    for rule in ("study_fig_5_2", "study_table_5_2", "render_table", "render_figure"):
        assert rule in out, rule
    assert "train_run" not in out and "download" not in out   # neither needs data
