"""Tests of toeplitznet.io (atomic writes, JSON policy, hashing) and toeplitznet.runtime."""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from toeplitznet import io as tio
from toeplitznet import runtime

SRC_DIR = Path(__file__).resolve().parents[1] / "src"


# ----------------------------------------------------------------------------- atomic writes
def test_failed_writer_leaves_old_file_and_no_temp(tmp_path):
    target = tmp_path / "r.json"
    tio.atomic_write_json(target, {"v": 1})
    with pytest.raises(RuntimeError, match="crash"):
        with tio.atomic_path(target) as tmp:
            assert tmp.parent == tmp_path and tmp.exists()
            with open(tmp, "w") as fh:
                fh.write('{"v": 2, "trunc')
            raise RuntimeError("crash mid-way")
    assert json.loads(target.read_text()) == {"v": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


def test_failure_before_rename_leaves_old_file(tmp_path, monkeypatch):
    target = tmp_path / "r.txt"
    target.write_text("old")

    def broken_fsync(path):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(tio, "_fsync_file", broken_fsync)
    with pytest.raises(OSError, match="simulated"):
        tio.atomic_write_text(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.txt"]


def test_successful_writes_replace_and_leave_nothing_else(tmp_path):
    target = tmp_path / "sub" / "f.bin"  # missing folder is created
    tio.atomic_write_bytes(target, b"one")
    tio.atomic_write_bytes(target, b"two")
    tio.atomic_write_text(tmp_path / "t.txt", "héllo")
    assert target.read_bytes() == b"two"
    assert (tmp_path / "t.txt").read_bytes() == "héllo".encode("utf-8")
    assert [p.name for p in target.parent.iterdir()] == ["f.bin"]
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600


def test_one_atomic_write_json_path_first_everywhere(tmp_path):
    from toeplitznet.report import provenance
    from toeplitznet.train import atomic_write_json as train_write
    from toeplitznet.train import storage

    assert provenance.atomic_write_json is tio.atomic_write_json
    assert storage.atomic_write_json is tio.atomic_write_json and train_write is tio.atomic_write_json
    assert provenance.to_jsonable is tio.to_jsonable and storage.to_jsonable is tio.to_jsonable
    with pytest.raises(TypeError):
        tio.atomic_write_json({"a": 1}, tmp_path / "x.json")  # the old (obj, path) order fails loudly
    tio.atomic_write_json(tmp_path / "x.json", {"b": 1, "a": 2})
    assert (tmp_path / "x.json").read_text() == '{\n  "b": 1,\n  "a": 2\n}\n'
    tio.atomic_write_json(tmp_path / "y.json", {"b": 1, "a": 2}, indent=1, sort_keys=True)
    assert (tmp_path / "y.json").read_text() == '{\n "a": 2,\n "b": 1\n}\n'


def test_atomic_torch_save_goes_through_atomic_path(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    from toeplitznet.train import storage

    path, prev = tmp_path / "c.pt", tmp_path / "c_prev.pt"
    storage.atomic_torch_save({"e": 1}, path, prev=prev)
    storage.atomic_torch_save({"e": 2}, path, prev=prev)
    assert torch.load(path, weights_only=True) == {"e": 2}
    assert torch.load(prev, weights_only=True) == {"e": 1}
    used = []
    real = tio.atomic_path
    monkeypatch.setattr(storage, "atomic_path", lambda p, **kw: used.append(p) or real(p, **kw))
    storage.atomic_torch_save({"e": 3}, path)
    assert used == [path] and torch.load(path, weights_only=True) == {"e": 3}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.pt", "c_prev.pt"]


# ----------------------------------------------------------------------------- JSON policy
def test_nan_and_inf_become_null():
    obj = {"nan": float("nan"), "inf": math.inf, "-inf": -math.inf, "ok": 1.5,
           "nested": [np.nan, {"x": np.float32("inf")}], "arr": np.array([1.0, np.nan])}
    assert tio.to_jsonable(obj) == {"nan": None, "inf": None, "-inf": None, "ok": 1.5,
                                    "nested": [None, {"x": None}], "arr": [1.0, None]}
    text = tio.dump_json(obj)
    assert "NaN" not in text and "Infinity" not in text and ': "nan"' not in text and ': "inf"' not in text
    assert json.loads(text)["nested"] == [None, {"x": None}]
    assert tio.canonical_json([math.nan]) == "[null]"


def test_file_written_with_nan_reads_back_null(tmp_path):
    tio.atomic_write_json(tmp_path / "m.json", {"loss": float("nan"), "status": "diverged"})
    assert json.loads((tmp_path / "m.json").read_text()) == {"loss": None, "status": "diverged"}


def test_numpy_and_torch_values_converted():
    out = tio.to_jsonable({"f32": np.float32(1.5), "i64": np.int64(7), "b": np.bool_(True),
                           "arr": np.arange(3), "tup": (1, 2), "path": Path("/a/b"), 3: "int key",
                           "set": {3, 1, 2}})
    assert out == {"f32": 1.5, "i64": 7, "b": True, "arr": [0, 1, 2], "tup": [1, 2], "path": "/a/b",
                   "3": "int key", "set": [1, 2, 3]}
    assert type(out["i64"]) is int and type(out["b"]) is bool and type(out["f32"]) is float
    torch = pytest.importorskip("torch")
    t = tio.to_jsonable({"s": torch.tensor(2.5), "i": torch.tensor(3), "v": torch.tensor([1.0, float("nan")]),
                         "bad": torch.tensor(float("inf"))})
    assert t == {"s": 2.5, "i": 3, "v": [1.0, None], "bad": None}
    json.dumps(t, allow_nan=False)


def test_canonical_json_is_stable():
    a = {"b": [1, {"y": 2, "x": 1}], "a": 1.0, "c": "é"}
    b = {"c": "é", "a": 1.0, "b": [1, {"x": 1, "y": 2}]}
    assert tio.canonical_json(a) == tio.canonical_json(b) == '{"a":1.0,"b":[1,{"x":1,"y":2}],"c":"\\u00e9"}'
    assert tio.sha256_text(tio.canonical_json(a)) == hashlib.sha256(tio.canonical_json(b).encode()).hexdigest()


# ----------------------------------------------------------------------------- hashing
def test_sha256_file_matches_hashlib(tmp_path):
    f = tmp_path / "f.bin"
    data = os.urandom(3 * (1 << 20) + 17)  # several read chunks
    f.write_bytes(data)
    assert tio.sha256_file(f) == hashlib.sha256(data).hexdigest()
    assert tio.sha256_bytes(data) == hashlib.sha256(data).hexdigest()
    d = tio.describe_file(f)
    assert d == {"path": str(f), "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def test_big_file_hash_cached_by_mtime(tmp_path, monkeypatch):
    monkeypatch.setattr(tio, "BIG_FILE_BYTES", 10)
    cache = tmp_path / "cache.json"
    monkeypatch.setenv("TOEPLITZNET_HASH_CACHE", str(cache))
    f = tmp_path / "big.bin"
    f.write_bytes(b"x" * 100)
    os.utime(f, ns=(1_000_000_000, 1_000_000_000))
    assert tio.sha256_file(f) == hashlib.sha256(b"x" * 100).hexdigest()
    assert list(json.loads(cache.read_text()).values()) == [hashlib.sha256(b"x" * 100).hexdigest()]
    calls = []
    monkeypatch.setattr(tio, "_sha256_file_uncached", lambda p: calls.append(p) or "recomputed")
    assert tio.sha256_file(f) == hashlib.sha256(b"x" * 100).hexdigest() and not calls  # from the cache
    os.utime(f, ns=(2_000_000_000, 2_000_000_000))  # same size, new mtime: the entry no longer applies
    assert tio.sha256_file(f) == "recomputed" and len(calls) == 1
    small = tmp_path / "small.bin"
    small.write_bytes(b"abc")  # under the threshold: never cached
    assert tio.sha256_file(small) == "recomputed" and len(calls) == 2
    assert not any("small.bin" in k for k in json.loads(cache.read_text()))


def test_remember_sha256_is_used_for_the_same_file_only(tmp_path, monkeypatch):
    monkeypatch.setenv("TOEPLITZNET_HASH_CACHE", str(tmp_path / "cache.json"))
    f = tmp_path / "written.bin"
    f.write_bytes(b"payload")
    os.utime(f, ns=(1_000_000_000, 1_000_000_000))
    truth = hashlib.sha256(b"payload").hexdigest()
    before = f.stat()
    tio.remember_sha256(f, truth, before=before)
    calls = []
    monkeypatch.setattr(tio, "_sha256_file_uncached", lambda p: calls.append(p) or "recomputed")
    assert tio.sha256_file(f, cache=True) == truth and not calls  # the writer's digest, no read
    assert tio.sha256_file(f) == "recomputed"  # a small file without cache=True is always read
    f.write_bytes(b"PAYLOAD")  # same size, new content and mtime: the remembered digest no longer applies
    assert tio.sha256_file(f, cache=True) == "recomputed"
    g = tmp_path / "changed.bin"
    g.write_bytes(b"one")
    stale = g.stat()
    g.write_bytes(b"two, longer")  # changed after the stat the digest was computed from: not remembered
    tio.remember_sha256(g, "digest-of-the-old-content", before=stale)
    assert tio.sha256_file(g, cache=True) != "digest-of-the-old-content"
    tio.remember_sha256(tmp_path / "missing.bin", truth)  # nothing to remember, no error


def _append_in_chunks(path, data, sizes, prefix=b""):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, prefix)
        app = tio.DirectAppender(fd, stage_bytes=1 << 16)
        direct = app.direct
        pos = 0
        for n in sizes:
            app.write(data[pos:pos + n])
            pos += n
        app.write(data[pos:])
        app.finish()
        os.fsync(fd)
    finally:
        os.close(fd)
    return direct, app.direct


@pytest.mark.parametrize("mode", ["direct", "cached"])
def test_direct_appender_writes_the_bytes_given(tmp_path, monkeypatch, mode):
    """Chunks of every size around the 4096-byte block and the 64 KiB stage land in order, nothing else
    (compared with the bytes themselves), with O_DIRECT and without it."""
    if mode == "cached":
        monkeypatch.setattr(tio, "_set_direct", lambda fd, on: False)
    rng = np.random.default_rng(0)
    data = rng.integers(0, 256, size=1_000_003, dtype=np.uint8).tobytes()
    sizes = [1, 4095, 4096, 4097, 65535, 65536, 65537, 200_000, 3, 0, 131_072]
    direct, still = _append_in_chunks(tmp_path / "f.bin", data, sizes)
    if mode == "direct" and not direct:
        pytest.skip("no O_DIRECT on this system or file system")
    assert (direct, still) == ((True, True) if mode == "direct" else (False, False))
    assert (tmp_path / "f.bin").read_bytes() == data


def test_direct_appender_falls_back_when_a_direct_write_is_refused(tmp_path, monkeypatch):
    """A file system that refuses the alignment (EINVAL) at the second direct write (4096 bytes, with 368
    more staged): the rest goes through the cache, staged bytes included, and the file is still exactly
    the data."""
    import errno

    real, calls = tio._write_all, []

    def refuse_second(fd, view):
        calls.append(len(view))
        if len(calls) == 2:
            raise OSError(errno.EINVAL, "Invalid argument")
        real(fd, view)

    monkeypatch.setattr(tio, "_write_all", refuse_second)
    data = np.random.default_rng(1).integers(0, 256, size=500_001, dtype=np.uint8).tobytes()
    direct, still = _append_in_chunks(tmp_path / "f.bin", data, [70_000] * 5)
    if not direct:
        pytest.skip("no O_DIRECT on this system or file system")
    assert not still and len(calls) > 2
    assert (tmp_path / "f.bin").read_bytes() == data


def test_direct_appender_needs_a_block_aligned_start(tmp_path):
    data = bytes(range(256)) * 1000
    direct, _ = _append_in_chunks(tmp_path / "f.bin", data, [5000, 70_000], prefix=b"header")
    assert not direct  # an unaligned offset cannot take O_DIRECT writes: written through the cache
    assert (tmp_path / "f.bin").read_bytes() == b"header" + data


# ----------------------------------------------------------------------------- runtime
def test_io_runtime_provenance_do_not_import_torch():
    code = ("import sys, toeplitznet.io, toeplitznet.runtime, toeplitznet.report.provenance as P\n"
            "d = toeplitznet.runtime.device_description(); assert d['cpu'] and 'torch_threads' not in d\n"
            "toeplitznet.runtime.seed_everything(3)\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('torch', 'tensorflow')]\n"
            "assert not bad, bad\n")
    env = dict(os.environ, PYTHONPATH=str(SRC_DIR))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr


def test_resolve_device_cuda_absent_raises_clearly():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is visible")
    with pytest.raises(RuntimeError, match=r"study table_5_1: config key device='cuda'.*no CUDA device"):
        runtime.resolve_device("cuda", who="study table_5_1")
    with pytest.raises(RuntimeError, match="device='cuda:0'"):
        runtime.resolve_device("cuda:0")
    assert runtime.resolve_device("auto") == torch.device("cpu")
    with pytest.raises(ValueError, match="device='gpu'"):
        runtime.resolve_device("gpu", who="x")


def test_resolve_device_sets_threads_and_names_the_cpu():
    torch = pytest.importorskip("torch")
    old = torch.get_num_threads()
    try:
        dev = runtime.resolve_device("cpu", threads=1)
        assert dev == torch.device("cpu") and torch.get_num_threads() == 1
        assert runtime.device_name(dev) == f"CPU: {runtime.cpu_name()} (1 torch threads)"
        assert runtime.device_name(dev, threads=False) == f"CPU: {runtime.cpu_name()}"
        assert runtime.device_description()["torch_threads"] == 1
    finally:
        torch.set_num_threads(old)


def test_seed_everything_reproduces_every_rng():
    torch = pytest.importorskip("torch")

    def draw():
        return torch.rand(5).tolist(), np.random.rand(3).tolist(), random.random()

    assert runtime.seed_everything(np.int64(42)) == 42
    first = draw()
    runtime.seed_everything(42)
    assert draw() == first
    runtime.seed_everything(43)
    assert draw() != first
    from toeplitznet.train import set_seed

    set_seed(42)  # the trainer's seeding goes through runtime
    assert draw() == first
