"""The conda environment files pin exactly what the pip requirements pin (the pip path is what CI runs)."""
import re

import yaml

from toeplitznet.reference import project_root

ROOT = project_root()
# conda-forge package name -> PyPI name
CONDA_TO_PIP = {"pytorch": "torch", "matplotlib-base": "matplotlib", "snakemake-minimal": "snakemake"}


def _pip_pins(path):
    pins = {}
    for line in (ROOT / path).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s;]+)", line)
            assert m, f"{path}: not an exact pin: {line!r}"
            pins[m.group(1).lower()] = m.group(2)
    return pins


def _conda_pins(path):
    env = yaml.safe_load((ROOT / path).read_text())
    assert env["channels"] == ["conda-forge", "nodefaults"], f"{path}: channels must be conda-forge + nodefaults"
    pins = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):  # a pip: section
            for line in dep.get("pip", []):
                name, ver = line.split("==")
                pins[name.lower()] = ver
            continue
        name, _, ver = dep.partition("=")
        assert ver, f"{path}: {dep!r} is not pinned"
        ver = ver.split("=")[0]
        if name == "python":
            continue
        pins[CONDA_TO_PIP.get(name, name).lower()] = ver
    return pins


def test_torch_env_matches_pip():
    assert _conda_pins("envs/torch.yaml") == _pip_pins("requirements/torch.txt")


def test_tensorflow_env_matches_pip():
    assert _conda_pins("envs/tensorflow.yaml") == _pip_pins("requirements/tensorflow.txt")


def test_torch_and_tensorflow_never_share_an_env():
    assert "tensorflow-cpu" not in _pip_pins("requirements/torch.txt")
    assert "torch" not in _pip_pins("requirements/tensorflow.txt")


def test_no_module_imports_both_frameworks():
    for py in (ROOT / "src").rglob("*.py"):
        text = py.read_text()
        has_tf = re.search(r"^\s*(import|from) tensorflow", text, re.M)
        has_torch = re.search(r"^\s*(import|from) torch", text, re.M)
        assert not (has_tf and has_torch), f"{py} imports both torch and tensorflow"
