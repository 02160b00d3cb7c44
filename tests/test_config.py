import pytest
import yaml

from toeplitznet.config import ConfigError, apply_overrides, load_config, study_config, validate
from toeplitznet.reference import project_root

ROOT = project_root()


def _keys(d, prefix=""):
    out = set()
    for k, v in d.items():
        out.add(prefix + k)
        if isinstance(v, dict) and not (prefix + k).startswith("render.tolerance"):
            out |= _keys(v, prefix + k + ".")
    return out


def test_both_scales_valid_and_share_keys():
    smoke = load_config(ROOT / "config/config.yaml")
    paper = load_config(ROOT / "config/paper.yaml")
    assert smoke["scale"] == "smoke" and paper["scale"] == "paper"
    # every key of one scale exists in the other, so --configfile paper never inherits a smoke value
    assert _keys(smoke) == _keys(paper)


@pytest.mark.parametrize("override,key", [
    ("scale=laptop", "scale"),
    ("threads=0", "threads"),
    ("studies.fig_5_1.n_panels=-1", "studies.fig_5_1.n_panels"),
    ("data.mirror=/no/such/folder", "data.mirror"),
    ("data.imagenet_root=/no/such/imagenet", "data.imagenet_root"),
    ("resources.gpu=-1", "resources.gpu"),
])
def test_invalid_values_name_the_key(override, key):
    with pytest.raises(ConfigError) as exc:
        load_config(ROOT / "config/config.yaml", [override])
    assert f"config key {key}" in str(exc.value)
    assert "config/config.yaml" in str(exc.value)


def test_unknown_key_rejected():
    cfg = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    cfg["studies"]["fig_5_1"]["grid_pionts"] = 3
    with pytest.raises(ConfigError, match="studies.fig_5_1"):
        validate(cfg)


def test_override_unknown_key():
    with pytest.raises(ConfigError, match="unknown config key"):
        apply_overrides({"a": {"b": 1}}, ["a.c=2"])
    assert apply_overrides({"a": {"b": 1}}, ["a.b=[1, 2]"]) == {"a": {"b": [1, 2]}}


def test_study_subset_excludes_other_studies():
    cfg = load_config(ROOT / "config/config.yaml")
    from toeplitznet.plan import job_base

    sub = study_config(cfg, "fig_5_1")
    # the global keys that can change a job's numbers, and the study's own section: nothing of the others
    assert set(sub) == set(job_base(cfg)) | {"study"} and {"scale", "seed", "device"} <= set(sub)
    assert "studies" not in sub and "items" not in sub
    assert sub["study"] == cfg["studies"]["fig_5_1"]
    with pytest.raises(ConfigError, match="studies.fig_9_9"):
        study_config(cfg, "fig_9_9")


def test_study_config_is_the_plans_and_resources_are_per_scale():
    from toeplitznet.plan import study_config as plan_study_config

    cfg = load_config(ROOT / "config/config.yaml")
    paper = load_config(ROOT / "config/paper.yaml", check_paths=False)
    assert study_config(cfg, "table_5_2") == plan_study_config(cfg, "table_5_2")
    # resources are not part of a job's resolved config (a GPU count does not change a result)
    assert "resources" not in study_config(cfg, "table_5_2")
    assert cfg["resources"] == {"gpu": 0} and paper["resources"] == {"gpu": 1}
    with pytest.raises(ConfigError, match="config key resources"):
        validate({**cfg, "resources": {"gpu": 1, "tpu": 2}}, check_paths=False)
