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
    sub = study_config(cfg, "fig_5_1")
    assert set(sub) == {"scale", "seed", "device", "threads", "data", "study"}
    assert sub["study"] == cfg["studies"]["fig_5_1"]
