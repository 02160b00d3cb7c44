"""The auxiliary study ch4_scattering: scattering features computed once for Table 4.5 / Figure 4.6."""

import pytest

from ch4_helpers import PAPER, SMOKE, plan_of
from toeplitznet.items.ch4_dcnn import ch4_scattering


@pytest.mark.parametrize("cfg", [SMOKE, PAPER], ids=["smoke", "paper"])
def test_job_reads_the_scale_dataset_with_table_4_5_scattering(cfg):
    job = plan_of(cfg).studies["ch4_scattering"]
    src = cfg["studies"]["ch4_train"]["datasets"]["cifar10"]
    assert job.inputs == {"manifest": f"data/{src}/MANIFEST.json"}
    assert job.outputs == {"features": f"results/{cfg['scale']}/ch4_scattering/features.pt",
                           "result": f"results/{cfg['scale']}/ch4_scattering/ch4_scattering.json"}
    s = job.cfg["study"]
    t45, t = cfg["studies"]["table_4_5"], cfg["studies"]["ch4_train"]
    assert (s["dataset"], s["source"], s["J"], s["L"]) == ("cifar10", src, t45["J"], t45["L"])
    assert (s["train_subset"], s["test_subset"]) == (t["train_subset"], t["test_subset"])
    assert job.threads == cfg["threads"] and job.gpu == cfg["resources"]["gpu"]


def test_declared_as_an_auxiliary_study():
    st = ch4_scattering.STUDY
    assert st.name == "ch4_scattering" and st.config_section is None and set(st.uses) == {"table_4_5", "ch4_train"}
