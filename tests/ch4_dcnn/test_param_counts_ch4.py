"""The auxiliary study param_counts_ch4: its job config (the paper architectures, whatever the scale) and
how an exact count relates to the thesis's printed (truncated or rounded) value."""

import pytest

from ch4_helpers import PAPER, SMOKE, plan_of, ref
from toeplitznet.items.ch4_dcnn import _runs, param_counts_ch4 as pc
from toeplitznet.plan import Paths


@pytest.mark.parametrize("cfg", [SMOKE, PAPER], ids=["smoke", "paper"])
def test_job_config_is_the_paper_architectures(cfg):
    s = cfg["studies"]["param_counts_ch4"]
    job = pc.job_config(cfg, Paths(cfg))["study"]
    assert job["items"] == s["items"] and job["scattering"] == s["scattering"] == {"J": 2, "L": 8}
    assert job["count_bn_stats"] == cfg["studies"]["table_4_5"]["count_bn_stats"]
    assert job["models"] == _runs.paper_architectures(cfg, s["items"], s["scattering"])
    plan = plan_of(cfg)
    assert plan.studies["param_counts_ch4"].cfg == pc.job_config(cfg, plan.paths)
    assert set(plan.studies["param_counts_ch4"].outputs) == {"result", "table_4_1", "table_4_2", "table_4_5"}


def test_scale_independent_models():
    """The same networks are counted at both scales when the grids agree (the counts are scale-independent)."""
    a = pc.job_config(SMOKE, Paths(SMOKE))["study"]["models"]["table_4_1"]
    b = pc.job_config(PAPER, Paths(PAPER))["study"]["models"]["table_4_1"]
    assert a == b


def test_compare_with_printed_counts():
    assert pc.printed_unit("K params") == 1e3 and pc.printed_unit("M params") == 1e6 and pc.printed_unit("") == 1
    c = pc.compare(21_524, 21, 1e3)            # DCNN (2 layers): "21K" truncates 21.524 (which rounds to 22)
    assert c["truncates_to_printed"] and not c["rounds_to_printed"] and c["in_unit"] == pytest.approx(21.524)
    c = pc.compare(49_172, 49, 1e3)
    assert c["truncates_to_printed"] and c["rounds_to_printed"]
    c = pc.compare(139_968, 140, 1e3)          # LDR-SD (r = 1): rounds, does not truncate
    assert c["rounds_to_printed"] and not c["truncates_to_printed"]
    c = pc.compare(9_470_986, 9.4, 1e6)        # dense: 9.47M printed "9.4M" (truncated to one decimal)
    assert c["truncates_to_printed"] and not c["rounds_to_printed"]
    assert c["rel_diff"] == pytest.approx((9.470986 - 9.4) / 9.4)


def test_figure_4_2_weights_are_the_reference_column():
    w = pc.fig_4_2_weights()
    assert {int(r["x"]): int(r["n_weights"]) for r in ref(pc.REFERENCE)} == w
    assert w[2] == 21_524 and w[5] == 49_172
