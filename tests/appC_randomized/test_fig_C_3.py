"""Appendix C items: the paper settings against the thesis (S9), the [-1, 1] -> [0, 1] conversions, shared runs
and suites, the rows / columns against reference/thesis_values.csv, and the cells from hand-made results."""
import copy
import json
import math
from pathlib import Path

import pytest
import yaml

from toeplitznet.items.appC_randomized import _guarantee as G, _report as R, _runs, fig_C_1, fig_C_2, table_C_1, table_C_2
from toeplitznet.reference import thesis_cells

ROOT = Path(__file__).resolve().parents[2]
SMOKE = yaml.safe_load((ROOT / "config/config.yaml").read_text())
PAPER = yaml.safe_load((ROOT / "config/paper.yaml").read_text())
def test_conflicting_settings_of_a_shared_evaluation_are_an_error():
    cfg = copy.deepcopy(SMOKE)
    cfg["studies"]["table_C_2"]["pgd"]["step"] = 0.03       # same id (eps, steps, eot), other step
    with pytest.raises(ValueError, match="studies.table_C_2"):
        _runs.job_evals(cfg, table_C_1.logical_evals(cfg))
    cfg = copy.deepcopy(SMOKE)
    cfg["studies"]["appC_randomized_train"]["train"]["lr_values"] = [0.1, 0.01]
    with pytest.raises(ValueError, match="train.lr_values"):
        _runs.check_config(cfg)


