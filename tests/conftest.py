import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# Busy-waiting OpenMP threads stall every multi-threaded call on a loaded 2-core machine (7x slower
# matmuls and FFTs measured here); set before torch is imported anywhere in the test session.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


@pytest.fixture
def repo_copy(tmp_path):
    """A copy of the tracked (and untracked, non-ignored) files of the repository, to run Snakemake in."""
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    dst = tmp_path / "repo"
    for f in files:
        src = ROOT / f
        if src.is_file():
            (dst / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / f)
    return dst


def snakemake_cmd():
    exe = Path(sys.executable).with_name("snakemake")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "snakemake"]


def run_snakemake(cwd, *args, check=True):
    env = dict(os.environ, PYTHONPATH=str(Path(cwd) / "src"), TOEPLITZNET_ROOT=str(cwd))
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    proc = subprocess.run(snakemake_cmd() + ["--cores", "2", *args], cwd=cwd, capture_output=True, text=True,
                          env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc
