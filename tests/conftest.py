import atexit
import inspect
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import pytest
import yaml

# Busy-waiting OpenMP threads stall every multi-threaded call on a loaded 2-core machine (7x slower
# matmuls and FFTs measured here); set before torch is imported anywhere in the test session.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# The sha256 cache (toeplitznet.io) of this test process and its subprocesses: a temporary file, not the
# checkout's .snakemake/ (verified downloads and converted shards record their digests there)
if "TOEPLITZNET_HASH_CACHE" not in os.environ:
    _cache_dir = tempfile.mkdtemp(prefix="toeplitznet-test-hash-cache.")
    os.environ["TOEPLITZNET_HASH_CACHE"] = os.path.join(_cache_dir, "cache.json")
    atexit.register(shutil.rmtree, _cache_dir, True)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def _shared_fixture_group(item, tests_dir):
    """The ``xdist_group`` of a test that uses a session (or package) fixture of this suite: the fixture's name
    (``tiny_run``: the whole tiny DAG); else, of one that uses a module fixture of its module: the module."""
    defs = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
    scopes = {}
    for name in item.fixturenames:
        fd = defs.get(name, [None])[-1]
        if fd is not None and fd.scope in ("session", "package", "module"):
            try:
                mine = tests_dir in Path(inspect.getfile(fd.func)).resolve().parents
            except TypeError:
                mine = False
            if mine:
                scopes.setdefault("module" if fd.scope == "module" else "session", []).append(name)
    if "session" in scopes:
        return min(scopes["session"])
    return item.nodeid.split("::")[0] if "module" in scopes else None


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (``make test``: ``-n 2 --dist loadgroup``) each test that shares an expensive fixture
    of this suite gets the ``xdist_group`` of that fixture (:func:`_shared_fixture_group`), so that the tests of a
    group run on one worker and the fixture is built once. A test's own ``xdist_group`` mark wins."""
    if config.pluginmanager.hasplugin("xdist"):
        tests_dir = Path(__file__).resolve().parent
        for item in items:
            if not item.get_closest_marker("xdist_group"):
                group = _shared_fixture_group(item, tests_dir)
                if group:
                    item.add_marker(pytest.mark.xdist_group(group))
    result = yield  # pytest-xdist's hook: on a worker, "@<group>" is appended to each grouped test's node id
    if getattr(config.option, "loadgroup", False):
        # pytest 9.2 keeps node ids as a structured ``_id``, and pytest-xdist 3.8.0 still writes the old
        # ``_nodeid``, so the suffix is lost and the groups silently ignored (pytest-xdist issue 1386): set it
        for item in items:
            names = {str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                     for m in item.iter_markers("xdist_group")}
            suffix = "@" + "_".join(sorted(names))
            node_id = getattr(item, "_id", None)
            if names and not item.nodeid.endswith(suffix) and hasattr(node_id, "parse"):
                item._id = type(node_id).parse(item.nodeid + suffix)
    return result


def copy_repo(dst):
    """Copy the tracked (and untracked, non-ignored) files of the repository to ``dst``; returns ``dst``."""
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split("\0")
    dst = Path(dst)
    for f in files:
        src = ROOT / f
        if f and src.is_file():
            (dst / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / f)
    return dst


@pytest.fixture
def repo_copy(tmp_path):
    """A copy of the tracked (and untracked, non-ignored) files of the repository, to run Snakemake in."""
    return copy_repo(tmp_path / "repo")


def snakemake_env(cwd):
    """Environment of a Snakemake (or ``toeplitznet``) process run in the repository copy ``cwd``."""
    env = dict(os.environ, PYTHONPATH=str(Path(cwd) / "src"), TOEPLITZNET_ROOT=str(cwd))
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def snakemake_cmd():
    exe = Path(sys.executable).with_name("snakemake")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "snakemake"]


def run_snakemake(cwd, *args, check=True, timeout=None):
    proc = subprocess.run(snakemake_cmd() + ["--cores", "2", *args], cwd=cwd, capture_output=True, text=True,
                          env=snakemake_env(cwd), timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc


#: wall-clock limit of the tiny DAG (it takes about 2 minutes on 2 cores; a hang must not stall the suite)
TINY_TIMEOUT_S = 1800  # 38 items incl. 14 YouTube-8M runs and TF ingestion, beside a second xdist worker


class TinyRun:
    """The finished tiny smoke run: its repository copy ``root``, the Snakemake process, its wall time, and
    the config and plan it ran."""

    def __init__(self, root: Path, proc: subprocess.CompletedProcess | None, seconds: float, error: str = ""):
        from toeplitznet.plan import build_plan

        self.root, self.proc, self.seconds, self.error = root, proc, seconds, error
        self.config = yaml.safe_load((root / "config/config.yaml").read_text())
        self.plan = build_plan(self.config)

    @property
    def ok(self) -> bool:
        return self.proc is not None and self.proc.returncode == 0

    def log_tail(self) -> str:
        if self.proc is None:
            return self.error
        return f"{self.proc.stdout[-3000:]}\n{self.proc.stderr[-6000:]}"

    def path(self, rel: str) -> Path:
        return self.root / rel


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """One real smoke run of the whole DAG with the tiny config (tests/tiny_config.py) in a copy of the
    repository: every item and results/smoke/audit.txt (about 2 minutes on 2 cores). Shared by the session:
    tests that change files must work on their own copy of ``tiny_run.root``."""
    from tiny_config import tiny_config

    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:  # one build per test run: its tests are in the xdist_group "tiny_run" (see above)
        built_by = tmp_path_factory.getbasetemp().parent / f"tiny_run_built_by_{worker}"
        built_by.touch()
    root = copy_repo(tmp_path_factory.mktemp("tiny") / "repo")
    (root / "config/config.yaml").write_text(yaml.safe_dump(tiny_config(), sort_keys=False))
    t0 = time.perf_counter()
    try:
        proc = run_snakemake(root, "--keep-going", "all", "results/smoke/audit.txt", check=False,
                             timeout=TINY_TIMEOUT_S)
        err = ""
    except subprocess.TimeoutExpired as exc:
        proc, err = None, f"the tiny DAG ran past {TINY_TIMEOUT_S} s: {exc}"
    run = TinyRun(root, proc, time.perf_counter() - t0, err)
    if worker and len(list(built_by.parent.glob("tiny_run_built_by_*"))) > 1:
        warnings.warn("the tiny DAG was built by more than one pytest-xdist worker: its tests are not kept in "
                      "one xdist_group (see pytest_collection_modifyitems in tests/conftest.py)")
    (root.parent / "tiny_run_seconds.txt").write_text(f"{run.seconds:.1f}\n")   # beside the copy, not in it
    return run
