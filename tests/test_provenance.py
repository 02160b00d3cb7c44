import hashlib
import json

import pytest

from toeplitznet.report import provenance as P


def test_atomic_write_leaves_old_file_on_failure(tmp_path):
    target = tmp_path / "r.json"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with P.atomic_path(target) as tmp:
            tmp.write_text("partial")
            raise RuntimeError("crash during write")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]  # no temp file left behind


def test_sidecar_records_everything(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    inp = tmp_path / "in.bin"
    inp.write_bytes(b"abc" * 1000)
    prov = P.Provenance(rule="r1", scale="smoke", config={"a": 1, "b": [1, 2]}, wildcards={"w": "x"},
                        params={"p": 3}, inputs=[inp], seeds=[7])
    out = prov.write_json(tmp_path / "res.json", {"cells": [{"row": "a", "column": "b", "value": 1.5}]})
    side = json.loads((tmp_path / "res.json.prov.json").read_text())
    assert side["rule"] == "r1" and side["scale"] == "smoke" and side["seeds"] == [7]
    assert side["wildcards"] == {"w": "x"} and side["params"] == {"p": 3}
    # independent hash computations
    assert side["inputs"][0]["sha256"] == hashlib.sha256(b"abc" * 1000).hexdigest()
    assert side["outputs"][0]["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    canon = json.dumps({"a": 1, "b": [1, 2]}, sort_keys=True, separators=(",", ":"))
    assert side["config_sha256"] == hashlib.sha256(canon.encode()).hexdigest()
    for key in ("git", "packages", "device", "started", "finished", "host"):
        assert key in side
    assert "commit" in side["git"] and "dirty" in side["git"]
    assert side["packages"]["python"]
    assert side["device"]["cpu"]


def test_invalid_scale_rejected():
    with pytest.raises(ValueError, match="scale"):
        P.Provenance(rule="r", scale="laptop")


def test_big_file_hash_cached(tmp_path, monkeypatch):
    from toeplitznet import io as tio  # the hashing moved there; P.sha256_file is the same function

    assert P.sha256_file is tio.sha256_file
    monkeypatch.setattr(tio, "BIG_FILE_BYTES", 10)
    monkeypatch.setenv("TOEPLITZNET_HASH_CACHE", str(tmp_path / "cache.json"))
    f = tmp_path / "big.bin"
    f.write_bytes(b"x" * 100)
    h = P.sha256_file(f)
    assert h == hashlib.sha256(b"x" * 100).hexdigest()
    calls = []
    monkeypatch.setattr(tio, "_sha256_file_uncached", lambda p: calls.append(p) or "cached?")
    assert P.sha256_file(f) == h and not calls  # served from the cache
    f.write_bytes(b"y" * 101)  # size/mtime change invalidates
    assert P.sha256_file(f) == "cached?" and calls


def test_to_jsonable_handles_numpy():
    np = pytest.importorskip("numpy")
    assert P.to_jsonable({"a": np.float32(1.5), "b": np.arange(3), "c": (1, 2)}) == {"a": 1.5, "b": [0, 1, 2],
                                                                                     "c": [1, 2]}
