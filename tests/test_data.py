"""Tests of toeplitznet.data on small fixtures generated in temporary folders (never the network)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import pickle
import struct
import subprocess
import sys
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch

from toeplitznet.data import datasets as ds
from toeplitznet.data import download as dl
from toeplitznet.data import registry as reg
from toeplitznet.data import verification
from toeplitznet.data import youtube8m as yt
from toeplitznet.data.download import ChecksumError, DatasetUnavailableError, LayoutError

SRC = Path(__file__).resolve().parents[1] / "src"
FASHION_DIR = Path(reg.FASHION_MNIST_SYSTEM_DIR)
HAVE_FASHION = all((FASHION_DIR / f).is_file() for f in
                   ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                    "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"))


# ---------------------------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_mnist_like(folder: Path, n_train: int = 12, n_test: int = 6, seed: int = 0) -> dict[str, np.ndarray]:
    """Four gzip IDX files with random 28x28 images and labels 0..9."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    for name, a in arrays.items():
        ds.write_idx(folder / name, a)
    return arrays


def spec_for(folder: Path, name: str = "tiny", urls: bool = True, corrupt: str | None = None) -> reg.DatasetSpec:
    """A DatasetSpec over the files of ``folder`` (file:// URLs), optionally with one wrong digest."""
    files = []
    for p in sorted(folder.iterdir()):
        digest = _sha256(p)
        if p.name == corrupt:
            digest = "0" * 64
        files.append(reg.FileSpec(
            filename=p.name,
            urls=(p.as_uri(),) if urls else (),
            checksums=(reg.Checksum("sha256", digest, p.stat().st_size, "test fixture"),),
        ))
    return reg.DatasetSpec(name=name, files=tuple(files), offline_help="(test dataset)")


@pytest.fixture(autouse=True)
def _no_fsync(monkeypatch):
    """fsync dominates the run time on a busy disk; tests asking for ``with_fsync`` keep it."""
    monkeypatch.setattr(verification, "FSYNC", False)


@pytest.fixture
def with_fsync(monkeypatch):
    monkeypatch.setattr(verification, "FSYNC", True)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    src = tmp_path / "source"
    write_mnist_like(src)
    return src


@pytest.fixture
def no_network(monkeypatch):
    """Any use of urllib's opener fails the test."""
    calls = []

    def forbidden(*args, **kwargs):
        calls.append(args)
        raise AssertionError("network access attempted")

    monkeypatch.setattr(urllib.request, "urlopen", forbidden)
    return calls


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.endswith((".part", ".link")))


# ---------------------------------------------------------------------------------------------
# registry
# ---------------------------------------------------------------------------------------------


def test_registry_contents():
    assert set(reg.list_datasets()) >= {"mnist", "fashion_mnist", "cifar10", "cifar100", "imagenet", "youtube8m"}
    mnist = reg.get_spec("MNIST")
    md5 = {f.filename: f.checksums[0].digest for f in mnist.files}
    assert md5["train-images-idx3-ubyte.gz"] == "f68b3c2dcbeaaa9fbdd348bbdeb94873"
    assert md5["t10k-labels-idx1-ubyte.gz"] == "ec29112dd5afa0611ce80d1b7f02629c"
    assert all(f.urls[0].startswith("https://ossci-datasets.s3.amazonaws.com/mnist/") for f in mnist.files)
    fm = reg.get_spec("Fashion-MNIST")
    assert fm.system_dirs == ("/usr/share/datasets/fashion-mnist",)
    for f in fm.files:
        assert {c.algorithm for c in f.checksums} == {"md5", "sha256", "sha256-gunzip"}
    assert reg.get_spec("cifar10").files[0].checksums[0].digest == "c58f30108f718f92721af3b95e74349a"
    assert reg.get_spec("cifar100").files[0].checksums[0].digest == "eb9058c3a382ffc7106e4002c42a8d85"
    assert reg.get_spec("imagenet").kind == "folder" and reg.get_spec("yt8m").kind == "plan"
    assert set(reg.CHECKSUM_NOTES) == {"mnist", "fashion_mnist", "cifar10", "cifar100", "imagenet", "youtube8m"}
    with pytest.raises(KeyError, match="unknown dataset"):
        reg.get_spec("svhn")


def test_registry_validation_and_registration(source):
    with pytest.raises(ValueError):
        reg.Checksum("sha1", "0" * 40)
    with pytest.raises(ValueError):
        reg.Checksum("md5", "xyz")
    with pytest.raises(ValueError, match="no checksum"):
        reg.FileSpec("a.gz", (), ())
    with pytest.raises(ValueError):
        reg.FileSpec("sub/a.gz", (), (reg.Checksum("md5", "0" * 32),))
    with pytest.raises(ValueError, match="built-in"):
        reg.register(reg.get_spec("mnist"), overwrite=True)
    spec = spec_for(source, name="tiny_registered")
    try:
        reg.register(spec)
        assert reg.get_spec("tiny_registered") is spec
        with pytest.raises(ValueError, match="already registered"):
            reg.register(spec)
    finally:
        reg.unregister("tiny_registered")
    assert "tiny_registered" not in reg.list_datasets()


# ---------------------------------------------------------------------------------------------
# fetch: present / mirror / download
# ---------------------------------------------------------------------------------------------


def test_download_file_url_verified_and_manifest(tmp_path, source, with_fsync):
    root = tmp_path / "root"
    spec = spec_for(source)
    res = dl.fetch(spec, root)
    assert sorted(r.name for r in res.files) == sorted(p.name for p in source.iterdir())
    for r in res.files:
        assert (root / r.name).read_bytes() == (source / r.name).read_bytes()
        assert r.source == "url" and r.origin.startswith("file://")
    manifest = json.loads((root / "MANIFEST.json").read_text())
    assert manifest["dataset"] == "tiny" and manifest["schema"] == dl.MANIFEST_SCHEMA
    by_name = {f["name"]: f for f in manifest["files"]}
    for p in source.iterdir():
        assert by_name[p.name]["sha256"] == _sha256(p)
        assert by_name[p.name]["size"] == p.stat().st_size
        assert by_name[p.name]["verified_with"] == f"sha256:{_sha256(p)}"
    assert leftovers(root) == []
    umask = os.umask(0o022)
    os.umask(umask)
    assert (root / "MANIFEST.json").stat().st_mode & 0o777 == 0o666 & ~umask
    assert (root / res.files[0].name).stat().st_mode & 0o777 == 0o666 & ~umask
    first = (root / "MANIFEST.json").read_bytes()
    # a second run finds everything present, keeps the recorded provenance: identical manifest
    res2 = dl.fetch(spec, root, allow_download=False)
    assert (root / "MANIFEST.json").read_bytes() == first
    assert {r.source for r in res2.files} == {"url"}


@pytest.mark.parametrize("how", ["url", "present", "mirror_copy", "mirror_hardlink", "mirror_symlink"])
def test_verified_files_leave_their_sha256_in_the_hash_cache(tmp_path, source, monkeypatch, how):
    """A file the fetch verified is not read again by the next sha256_file (the YouTube-8M converter's
    source digest): every way in records the digest it computed, for the file as it is now."""
    from toeplitznet import io as tio

    monkeypatch.setenv("TOEPLITZNET_HASH_CACHE", str(tmp_path / "hash-cache.json"))
    root = tmp_path / "root"
    kw = {"allow_download": how == "url"}
    if how == "present":
        root.mkdir()
        for q in source.iterdir():
            (root / q.name).write_bytes(q.read_bytes())
    elif how.startswith("mirror"):
        kw.update(mirror=str(source), link=how.split("_")[1])
    res = dl.fetch(spec_for(source), root, **kw)
    monkeypatch.setattr(tio, "_sha256_file_uncached", lambda q: pytest.fail(f"{q} was read again"))
    for r in res.files:
        assert tio.sha256_file(root / r.name, cache=True) == _sha256(source / r.name)
    monkeypatch.undo()
    if how == "url":  # a file changed after its verification is hashed again, with its new content
        f = root / res.files[0].name
        f.write_bytes(b"changed")
        monkeypatch.setenv("TOEPLITZNET_HASH_CACHE", str(tmp_path / "hash-cache.json"))
        assert tio.sha256_file(f, cache=True) == hashlib.sha256(b"changed").hexdigest()


def test_present_files_need_no_network(tmp_path, source, no_network):
    root = tmp_path / "root"
    root.mkdir()
    for p in source.iterdir():
        (root / p.name).write_bytes(p.read_bytes())
    res = dl.fetch(spec_for(source), root)
    assert {r.source for r in res.files} == {"present"}
    assert no_network == []
    assert len(dl.verify(spec_for(source), root)) == 4


def test_verify_never_fills_from_mirrors(tmp_path, source, no_network, monkeypatch):
    monkeypatch.setenv(dl.MIRROR_ENV, str(source))
    with pytest.raises(DatasetUnavailableError):
        dl.verify(spec_for(source), tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetUnavailableError):
        dl.verify(spec_for(source), tmp_path / "empty")
    assert list((tmp_path / "empty").iterdir()) == []


def test_bad_checksum_download_raises_and_leaves_nothing(tmp_path, source):
    root = tmp_path / "root"
    bad = "train-labels-idx1-ubyte.gz"
    with pytest.raises(ChecksumError) as ei:
        dl.fetch(spec_for(source, corrupt=bad), root, retries=0)
    msg = str(ei.value)
    assert bad in msg and "0" * 64 in msg and _sha256(source / bad) in msg
    assert ei.value.actual["sha256"] == _sha256(source / bad)
    assert not (root / bad).exists()
    assert leftovers(root) == []
    assert not (root / "MANIFEST.json").exists()


def test_corrupted_existing_file_is_reported_not_overwritten(tmp_path, source):
    root = tmp_path / "root"
    spec = spec_for(source)
    dl.fetch(spec, root)
    victim = root / "t10k-images-idx3-ubyte.gz"
    victim.write_bytes(b"garbage")
    with pytest.raises(ChecksumError) as ei:
        dl.fetch(spec, root)
    assert "t10k-images-idx3-ubyte.gz" in str(ei.value) and "redownload" in str(ei.value)
    assert victim.read_bytes() == b"garbage"
    with pytest.raises(ChecksumError):
        dl.verify(spec, root)
    dl.fetch(spec, root, redownload=True)
    assert victim.read_bytes() == (source / victim.name).read_bytes()


def test_missing_with_downloads_disabled(tmp_path, source, no_network):
    root = tmp_path / "root"
    with pytest.raises(DatasetUnavailableError) as ei:
        dl.fetch(spec_for(source), root, allow_download=False)
    err = ei.value
    msg = str(err)
    for needle in ("'tiny'", "train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", str(root),
                   "data.mirror", "--no-download", "file://"):
        assert needle in msg, needle
    assert err.dataset == "tiny" and len(err.missing) == 4 and err.destination == str(root)
    assert list(err.config_keys) == ["data.mirror"]
    assert no_network == []


def test_network_failure_names_urls(tmp_path, source, monkeypatch):
    def offline(*a, **k):
        raise urllib.error.URLError("no route (test)")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    spec = reg.DatasetSpec("net", files=(reg.FileSpec(
        "x.bin", ("https://example.invalid/x.bin", "https://mirror.invalid/x.bin"),
        (reg.Checksum("md5", "0" * 32),)),))
    with pytest.raises(DatasetUnavailableError) as ei:
        dl.fetch(spec, tmp_path / "r", retries=0, use_system=False)
    msg = str(ei.value)
    assert "https://example.invalid/x.bin" in msg and "https://mirror.invalid/x.bin" in msg
    assert "no route (test)" in msg and "x.bin" in msg and "data.mirror" in msg and "data.net.root" not in msg
    assert ei.value.urls == ("https://example.invalid/x.bin", "https://mirror.invalid/x.bin")


@pytest.mark.parametrize("layout", ["named", "flat"])
def test_mirror_is_used_first(tmp_path, source, no_network, layout):
    mirror = tmp_path / "mirror"
    target = mirror / "tiny" if layout == "named" else mirror
    target.mkdir(parents=True)
    for p in source.iterdir():
        (target / p.name).write_bytes(p.read_bytes())
    root = tmp_path / "root"
    res = dl.fetch(spec_for(source, urls=True), root, mirror=str(mirror))
    assert no_network == []
    assert {r.source for r in res.files} == {"mirror"}
    assert all(not (root / r.name).is_symlink() for r in res.files)
    manifest = json.loads((root / "MANIFEST.json").read_text())
    assert all(f["origin"].startswith(str(target)) for f in manifest["files"])


def test_empty_mirror_setting_means_none(tmp_path, source, no_network, monkeypatch):
    monkeypatch.chdir(source)  # "" must not turn into the current folder
    with pytest.raises(DatasetUnavailableError, match="no mirror folder configured"):
        dl.fetch(spec_for(source), tmp_path / "root", mirror="", allow_download=False)
    with pytest.raises(DatasetUnavailableError):
        dl.fetch(spec_for(source), tmp_path / "root", mirror=[None, ""], allow_download=False)


def test_mirror_symlink_and_env(tmp_path, source, no_network, monkeypatch):
    monkeypatch.setenv(dl.MIRROR_ENV, str(source))
    root = tmp_path / "root"
    res = dl.fetch(spec_for(source), root, link="symlink")
    assert {r.source for r in res.files} == {"mirror"}
    for r in res.files:
        assert (root / r.name).is_symlink() and (root / r.name).resolve() == (source / r.name).resolve()
    assert leftovers(root) == []


def test_corrupted_mirror_is_skipped_and_reported(tmp_path, source, no_network):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for p in source.iterdir():
        (mirror / p.name).write_bytes(b"not the file")
    with pytest.raises(DatasetUnavailableError) as ei:
        dl.fetch(spec_for(source), tmp_path / "root", mirror=mirror, allow_download=False)
    assert "failed verification" in str(ei.value)
    assert leftovers(tmp_path / "root") == []
    assert not any((tmp_path / "root").glob("*.gz"))


class _FakeResponse(io.BytesIO):
    """A urlopen() response that checks atomicity while it is being read."""

    def __init__(self, data: bytes, dest: Path, length: int | None = None):
        super().__init__(data)
        self.dest = dest
        self.status = 200
        self.headers = {"Content-Length": str(len(data) if length is None else length)}
        self.checked = False

    def read(self, n=-1):
        chunk = super().read(n)
        if chunk:
            assert not self.dest.exists(), "final name visible before the download completed"
            assert any(p.name.endswith(".part") for p in self.dest.parent.iterdir())
            self.checked = True
        return chunk


def test_download_through_monkeypatched_opener_is_atomic(tmp_path, source, monkeypatch):
    root = tmp_path / "root"
    spec = reg.DatasetSpec("tinyhttp", files=tuple(
        reg.FileSpec(f.filename, (f"https://example.invalid/{f.filename}",), f.checksums)
        for f in spec_for(source).files))
    responses = []

    def fake_urlopen(req, timeout=None):
        url = req.full_url if hasattr(req, "full_url") else req
        assert req.get_header("User-agent", "").startswith("toeplitznet-data")
        name = url.rsplit("/", 1)[1]
        r = _FakeResponse((source / name).read_bytes(), root / name)
        responses.append(r)
        return r

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    res = dl.fetch(spec, root)
    assert len(responses) == 4 and all(r.checked for r in responses)
    assert {r.source for r in res.files} == {"url"}
    assert leftovers(root) == []


def test_truncated_download_is_discarded(tmp_path, source, monkeypatch):
    root = tmp_path / "root"
    f = spec_for(source).files[0]
    spec = reg.DatasetSpec("trunc", files=(reg.FileSpec(f.filename, ("https://example.invalid/a",), f.checksums),))
    data = (source / f.filename).read_bytes()
    monkeypatch.setattr(urllib.request, "urlopen",
                        lambda req, timeout=None: _FakeResponse(data[:10], root / f.filename, length=len(data)))
    with pytest.raises(DatasetUnavailableError, match="truncated"):
        dl.fetch(spec, root, retries=0)
    assert leftovers(root) == [] and not (root / f.filename).exists()


# ---------------------------------------------------------------------------------------------
# IDX
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("suffix", [".idx", ".idx.gz"])
def test_idx_round_trip(tmp_path, dtype, suffix):
    a = (np.arange(2 * 3 * 5) - 7).astype(dtype).reshape(2, 3, 5)
    p = ds.write_idx(tmp_path / f"a{suffix}", a)
    b = ds.read_idx(p)
    assert b.dtype == np.dtype(dtype) and b.shape == (2, 3, 5)
    np.testing.assert_array_equal(a, b)


def test_idx_reader_against_hand_written_bytes(tmp_path):
    # magic 0x00000803 (ubyte, rank 3), dims 2x2x3, payload 0..11; and big-endian int32 labels
    raw = struct.pack(">4B3I", 0, 0, 0x08, 3, 2, 2, 3) + bytes(range(12))
    (tmp_path / "x.gz").write_bytes(gzip.compress(raw))
    x = ds.read_idx(tmp_path / "x.gz", expected_ndim=3)
    np.testing.assert_array_equal(x, np.arange(12, dtype=np.uint8).reshape(2, 2, 3))
    raw = struct.pack(">4BI", 0, 0, 0x0C, 1, 3) + struct.pack(">3i", 1, -2, 70000)
    (tmp_path / "y").write_bytes(raw)
    np.testing.assert_array_equal(ds.read_idx(tmp_path / "y"), [1, -2, 70000])
    # writer is deterministic (gzip mtime 0)
    ds.write_idx(tmp_path / "w1.gz", x)
    ds.write_idx(tmp_path / "w2.gz", x)
    assert (tmp_path / "w1.gz").read_bytes() == (tmp_path / "w2.gz").read_bytes()


def test_idx_errors_name_the_file(tmp_path):
    bad_magic = tmp_path / "bad-magic.gz"
    bad_magic.write_bytes(gzip.compress(b"\x01\x02\x08\x01" + b"\x00" * 8))
    with pytest.raises(ds.DataFormatError, match="bad-magic.gz.*magic"):
        ds.read_idx(bad_magic)
    bad_type = tmp_path / "bad-type"
    bad_type.write_bytes(b"\x00\x00\x07\x01\x00\x00\x00\x01\x00")
    with pytest.raises(ds.DataFormatError, match="bad-type.*element type"):
        ds.read_idx(bad_type)
    short = tmp_path / "short.gz"
    short.write_bytes(gzip.compress(struct.pack(">4B2I", 0, 0, 8, 2, 3, 3) + b"\x00" * 8))
    with pytest.raises(ds.DataFormatError, match="short.gz.*payload is 8 bytes"):
        ds.read_idx(short)
    rank = tmp_path / "rank.gz"
    ds.write_idx(rank, np.zeros((2, 2), np.uint8))
    with pytest.raises(ds.DataFormatError, match="rank.gz.*rank 2, expected 3"):
        ds.read_idx(rank, expected_ndim=3)
    broken = tmp_path / "broken.gz"
    broken.write_bytes(gzip.compress(b"\x00" * 100)[:20])
    with pytest.raises(ds.DataFormatError, match="broken.gz"):
        ds.read_idx(broken)


def test_mnist_like_loader_and_splits(tmp_path):
    arrays = write_mnist_like(tmp_path / "mnist", n_train=20, n_test=7)
    x, y = ds.load_split("mnist", tmp_path, "train")  # parent folder holding mnist/ works too
    assert x.shape == (20, 1, 28, 28) and x.dtype == torch.float32 and y.dtype == torch.int64
    np.testing.assert_allclose(x.numpy()[:, 0] * 255, arrays["train-images-idx3-ubyte.gz"], atol=1e-3)
    np.testing.assert_array_equal(y.numpy(), arrays["train-labels-idx1-ubyte.gz"])
    assert float(x.min()) >= 0 and float(x.max()) <= 1
    xt, yt = ds.load_split("mnist", tmp_path / "mnist", "test", flatten=True)
    assert xt.shape == (7, 784) and yt.shape == (7,)
    xs, ys = ds.load_split("mnist", tmp_path, "train", subset=5, seed=3)
    xs2, _ = ds.load_split("mnist", tmp_path, "train", subset=5, seed=3)
    assert xs.shape[0] == 5 and torch.equal(xs, xs2)
    assert ds.load_split("mnist", tmp_path, "train", subset=0.5)[0].shape[0] == 10
    xtr, _ = ds.load_split("mnist", tmp_path, "train", val_fraction=0.25, val_seed=1)
    xva, _ = ds.load_split("mnist", tmp_path, "val", val_fraction=0.25, val_seed=1)
    assert xtr.shape[0] == 15 and xva.shape[0] == 5
    with pytest.raises(ValueError, match="val_fraction"):
        ds.load_split("mnist", tmp_path, "val")
    with pytest.raises(FileNotFoundError, match="toeplitznet.data.download"):
        ds.load_split("fashion_mnist", tmp_path / "nowhere", "train")


def test_mnist_loader_rejects_inconsistent_files(tmp_path):
    write_mnist_like(tmp_path, n_train=5)
    ds.write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(4, np.uint8))
    with pytest.raises(ds.DataFormatError, match="5 images but .*4 labels"):
        ds.load_arrays("mnist", tmp_path, "train")


def test_train_val_split_and_subset():
    tr, va = ds.train_val_split(100, 0.2, seed=7)
    assert len(va) == 20 and len(tr) == 80
    assert set(tr).isdisjoint(va) and set(tr) | set(va) == set(range(100))
    assert np.all(np.diff(tr) > 0) and np.all(np.diff(va) > 0)
    tr2, va2 = ds.train_val_split(100, 0.2, seed=7)
    assert np.array_equal(va, va2) and not np.array_equal(va, ds.train_val_split(100, 0.2, seed=8)[1])
    assert len(ds.train_val_split(10, 0.0)[1]) == 0
    with pytest.raises(ValueError):
        ds.train_val_split(10, 1.0)
    assert np.array_equal(ds.subset_indices(10, None), np.arange(10))
    with pytest.raises(ValueError):
        ds.subset_indices(10, 11)


def test_make_loader_is_deterministic():
    x = torch.arange(50, dtype=torch.float32).reshape(50, 1)
    y = torch.arange(50)

    def order(seed):
        torch.manual_seed(1234 + seed)  # the global RNG must not matter
        loader = ds.make_loader(x, y, batch_size=8, shuffle=True, seed=seed)
        return [torch.cat([b[1] for b in loader]).tolist() for _ in range(2)]

    a, b = order(0), order(0)
    assert a == b and a[0] != a[1]  # same run to run; a new order each epoch
    assert order(1) != a
    plain = ds.make_loader(x, y, batch_size=16, shuffle=False)
    assert torch.cat([b[1] for b in plain]).tolist() == list(range(50))
    with pytest.raises(ValueError):
        ds.make_loader(x, y[:3], 4, False)


def test_stand_in_and_constants():
    s = ds.stand_in("cifar10", scale="smoke")
    assert s.dataset == "fashion_mnist" and "CIFAR-10" in s.note and "smoke" in s.note
    assert ds.stand_in("cifar10", scale="paper") == ("cifar10", None)
    assert ds.stand_in("youtube8m").dataset == "youtube8m_synthetic"
    for name in ("mnist", "fashion_mnist", "cifar10", "cifar100", "imagenet"):
        assert len(ds.MEAN[name]) == len(ds.STD[name]) == ds.INFO[name].shape[0]


# ---------------------------------------------------------------------------------------------
# CIFAR
# ---------------------------------------------------------------------------------------------


class _Py2StylePickler(pickle._Pickler):
    """Writes bytes as Python 2 ``str`` opcodes and numpy 1 module names, like the real CIFAR files."""

    def save_bytes(self, obj):
        n = len(obj)
        if n < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([n]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", n) + obj)
        self.memoize(obj)

    dispatch = pickle._Pickler.dispatch.copy()
    dispatch[bytes] = save_bytes


def _batch_bytes(data: np.ndarray, labels: dict, style: str = "py3") -> bytes:
    d = {b"batch_label": b"test batch", b"data": data, b"filenames": [b"x.png"] * len(data)}
    d.update({k.encode(): list(map(int, v)) for k, v in labels.items()})
    if style == "py2":
        buf = io.BytesIO()
        _Py2StylePickler(buf, protocol=2).dump(d)
        out = buf.getvalue().replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")
        assert b"_codecs" not in out and b"numpy.core.multiarray" in out
        return out
    return pickle.dumps(d, protocol=5 if style == "py3-5" else 2)


def write_cifar_tar(folder: Path, variant: str, n: int = 4, seed: int = 0, style: str = "py3") -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    top = ds.CIFAR_FOLDERS[variant]
    expected = {}
    tar_path = folder / ds.CIFAR_ARCHIVES[variant]
    with tarfile.open(tar_path, "w:gz") as tf:
        for split, members in ds.CIFAR_MEMBERS[variant].items():
            xs, ys, cs = [], [], []
            for m in members:
                data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
                if variant == "cifar10":
                    labels = {"labels": rng.integers(0, 10, n)}
                else:
                    labels = {"fine_labels": rng.integers(0, 100, n), "coarse_labels": rng.integers(0, 20, n)}
                payload = _batch_bytes(data, labels, style)
                info = tarfile.TarInfo(f"{top}/{m}")
                info.size = len(payload)
                tf.addfile(info, io.BytesIO(payload))
                xs.append(data)
                ys.append(labels.get("labels", labels.get("fine_labels")))
                cs.append(labels.get("coarse_labels"))
            expected[split] = (np.concatenate(xs), np.concatenate(ys), cs)
        meta = pickle.dumps({b"label_names": [b"a"]}, protocol=2)
        info = tarfile.TarInfo(f"{top}/batches.meta")
        info.size = len(meta)
        tf.addfile(info, io.BytesIO(meta))
    return expected


@pytest.mark.parametrize("style", ["py2", "py3", "py3-5"])
def test_cifar10_tar_round_trip(tmp_path, style):
    exp = write_cifar_tar(tmp_path, "cifar10", n=4, style=style)
    x, y = ds.load_arrays("cifar10", tmp_path, "train")
    assert x.shape == (20, 3, 32, 32) and x.dtype == np.uint8 and y.dtype == np.int64
    np.testing.assert_array_equal(x.reshape(20, -1), exp["train"][0])  # CHW order = row layout
    np.testing.assert_array_equal(y, exp["train"][1])
    xt, yt = ds.load_split("cifar10", tmp_path, "test", flatten=True)
    assert xt.shape == (4, 3072)
    np.testing.assert_allclose(xt.numpy() * 255, exp["test"][0], atol=1e-3)
    assert not x.flags.writeable  # cached arrays are read-only
    assert not any(p.is_dir() for p in tmp_path.iterdir())  # nothing was extracted


def test_cifar100_fine_coarse_and_extracted_folder(tmp_path):
    exp = write_cifar_tar(tmp_path / "a", "cifar100", n=6)
    _, fine = ds.load_arrays("cifar100", tmp_path / "a", "train")
    _, coarse = ds.load_arrays("cifar100", tmp_path / "a", "train", label_mode="coarse")
    np.testing.assert_array_equal(fine, exp["train"][1])
    np.testing.assert_array_equal(coarse, exp["train"][2][0])
    # the same batches extracted once also load
    with tarfile.open(tmp_path / "a" / "cifar-100-python.tar.gz") as tf:
        tf.extractall(tmp_path / "b", filter="data")
    x, y = ds.load_arrays("cifar100", tmp_path / "b", "test")
    np.testing.assert_array_equal(x.reshape(6, -1), exp["test"][0])


def test_cifar_loader_refuses_code_in_pickles(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    top = ds.CIFAR_FOLDERS["cifar10"]
    with tarfile.open(tmp_path / "cifar-10-python.tar.gz", "w:gz") as tf:
        for m in ds.CIFAR_MEMBERS["cifar10"]["test"]:
            payload = pickle.dumps({b"data": Evil(), b"labels": [0]})
            info = tarfile.TarInfo(f"{top}/{m}")
            info.size = len(payload)
            tf.addfile(info, io.BytesIO(payload))
    with pytest.raises(ds.DataFormatError, match="refusing to load global"):
        ds.load_arrays("cifar10", tmp_path, "test")


def test_cifar_tar_missing_member(tmp_path):
    with tarfile.open(tmp_path / "cifar-10-python.tar.gz", "w:gz") as tf:
        info = tarfile.TarInfo("cifar-10-batches-py/readme")
        info.size = 0
        tf.addfile(info, io.BytesIO(b""))
    with pytest.raises(ds.DataFormatError, match="lacks"):
        ds.load_arrays("cifar10", tmp_path, "test")


# ---------------------------------------------------------------------------------------------
# real Fashion-MNIST from the Debian package
# ---------------------------------------------------------------------------------------------


@pytest.mark.skipif(not HAVE_FASHION, reason="Debian dataset-fashion-mnist not installed")
def test_debian_fashion_mnist_loads():
    x, y = ds.load_split("fashion_mnist", FASHION_DIR, "train")
    assert tuple(x.shape) == (60000, 1, 28, 28) and x.dtype == torch.float32
    assert sorted(torch.unique(y).tolist()) == list(range(10))
    xt, yt = ds.load_split("fashion_mnist", None, "test")
    assert tuple(xt.shape) == (10000, 1, 28, 28) and sorted(torch.unique(yt).tolist()) == list(range(10))
    del x, xt
    mean, std = ds.channel_stats(ds.load_arrays("fashion_mnist", FASHION_DIR, "train")[0])
    assert abs(mean[0] - ds.MEAN["fashion_mnist"][0]) < 1e-3 and abs(std[0] - ds.STD["fashion_mnist"][0]) < 1e-3


def test_channel_stats_uint8_and_float_agree():
    rng = np.random.default_rng(0)
    u = rng.integers(0, 256, (9, 3, 5, 4), dtype=np.uint8)
    f = torch.from_numpy(u.astype(np.float32) / 255)
    (m1, s1), (m2, s2) = ds.channel_stats(u), ds.channel_stats(f)
    ref = u.astype(np.float64) / 255
    np.testing.assert_allclose(m1, ref.mean(axis=(0, 2, 3)), rtol=1e-9)
    np.testing.assert_allclose(s1, ref.std(axis=(0, 2, 3)), rtol=1e-9)
    np.testing.assert_allclose(m2, m1, rtol=1e-6)
    np.testing.assert_allclose(s2, s1, rtol=1e-5)


@pytest.mark.skipif(not HAVE_FASHION, reason="Debian dataset-fashion-mnist not installed")
def test_debian_fashion_mnist_fetch_from_system_folder(tmp_path, no_network):
    res = dl.fetch("fashion_mnist", tmp_path / "fm", allow_download=False, link="symlink")
    assert {r.source for r in res.files} == {"system"}
    assert all(r.verified_with.startswith("sha256:") for r in res.files)
    # the payload checksum also accepts a re-compressed copy (e.g. gzip with another header)
    src = FASHION_DIR / "t10k-labels-idx1-ubyte.gz"
    alt = tmp_path / "alt"
    alt.mkdir()
    with gzip.GzipFile(alt / src.name, "wb", mtime=123) as g:
        g.write(gzip.decompress(src.read_bytes()))
    r2 = dl.fetch("fashion_mnist", tmp_path / "fm2", mirror=alt, allow_download=False,
                  files=[src.name])
    assert r2.files[0].verified_with.startswith("sha256-gunzip:") and r2.files[0].source == "mirror"


# ---------------------------------------------------------------------------------------------
# ImageNet
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def small_imagenet(monkeypatch):
    """Pretend ILSVRC2012 has 10 classes (keeps the fake trees small); returns that count."""
    monkeypatch.setitem(reg.IMAGENET_COUNTS, "classes", 10)
    return 10


def _fake_imagenet(base: Path, n_classes: int = 10, val: str = "folders") -> None:
    wnids = [f"n{10000000 + i:08d}" for i in range(n_classes)]
    for w in wnids:
        (base / "train" / w).mkdir(parents=True)
        (base / "train" / w / f"{w}_1.JPEG").write_bytes(w.encode())
        if val == "folders":
            (base / "val" / w).mkdir(parents=True)
            (base / "val" / w / f"ILSVRC2012_val_{w}.JPEG").write_bytes(b"v" + w.encode())


def test_imagenet_missing_config_names_key(tmp_path):
    with pytest.raises(LayoutError) as ei:
        dl.fetch("imagenet", tmp_path / "root")
    assert "data.imagenet_root" in str(ei.value) and "image-net.org" in str(ei.value)
    assert isinstance(ei.value, DatasetUnavailableError)
    with pytest.raises(LayoutError, match="does not exist"):
        dl.fetch("imagenet", tmp_path / "root", source_dir=tmp_path / "nope")


def test_imagenet_bad_layout_fails_clearly(tmp_path):
    src = tmp_path / "ilsvrc"
    _fake_imagenet(src, n_classes=3, val="none")
    (src / "train" / "junk").mkdir()
    with pytest.raises(LayoutError) as ei:
        dl.fetch("imagenet", tmp_path / "root", source_dir=src, strict=False)
    msg = str(ei.value)
    assert "3 class folders" in msg and "expected 1000" in msg and "junk" in msg
    assert "val" in msg and "ILSVRC2012_img_val.tar" in msg and "data.imagenet_root" in msg
    assert not (tmp_path / "root" / "MANIFEST.json").exists()


def test_imagenet_good_layout_manifest(tmp_path, small_imagenet):
    src = tmp_path / "ilsvrc"
    _fake_imagenet(src, n_classes=small_imagenet)
    with pytest.raises(LayoutError, match="1281167"):  # strict: the standard image counts
        dl.fetch("imagenet", tmp_path / "root", source_dir=src)
    res = dl.fetch("imagenet", tmp_path / "root", source_dir=src, strict=False)
    m = json.loads(res.manifest_path.read_text())
    assert m["dataset"] == "imagenet" and m["val_layout"] == "folders"
    assert m["splits"]["train"]["num_classes"] == 10 and m["splits"]["train"]["num_files"] == 10
    assert len(m["splits"]["val"]["sample"]) == 10  # min(32 per split, files)
    s = m["splits"]["train"]["sample"][0]
    assert s["sha256"] == _sha256(src / s["path"])
    folder = ds.imagenet_folder(tmp_path / "root", "val")  # resolved through the manifest
    assert len(folder) == 10 and len(folder.classes) == 10
    again = dl.fetch("imagenet", tmp_path / "root2", source_dir=src, strict=False)
    assert json.loads(again.manifest_path.read_text()) == m  # deterministic
    (src / "train" / "n10000000" / "n10000000_1.JPEG").write_bytes(b"changed size")
    changed = dl.check_imagenet_layout(src, strict=False)
    assert changed["splits"]["train"]["listing_sha256"] != m["splits"]["train"]["listing_sha256"]
    (src / "val" / "n10000009").rename(src / "val" / "n19999999")
    with pytest.raises(LayoutError, match="differ"):  # val classes must match train classes
        dl.check_imagenet_layout(src, strict=False)


def test_imagenet_val_archives_are_md5_checked(tmp_path, small_imagenet):
    src = tmp_path / "ilsvrc"
    _fake_imagenet(src, n_classes=small_imagenet, val="none")
    (src / "ILSVRC2012_img_val.tar").write_bytes(b"fake")
    (src / "ILSVRC2012_devkit_t12.tar.gz").write_bytes(b"fake")
    with pytest.raises(ChecksumError, match="ILSVRC2012_(img_val|devkit_t12)"):
        dl.check_imagenet_layout(src, strict=False)
    body = dl.check_imagenet_layout(src, strict=False, hash_archives=False)
    assert body["val_layout"] == "archives" and set(body["archives"]) == {"val", "devkit"}


# ---------------------------------------------------------------------------------------------
# YouTube-8M plan
# ---------------------------------------------------------------------------------------------


def test_yt8m_naming_and_sharding():
    assert len(yt.SHARD_IDS) == 3844
    assert yt.local_name("trainaa.tfrecord", "train") == "train0000.tfrecord"
    assert yt.local_name("train99.tfrecord", "train") == "train3843.tfrecord"
    assert yt.local_name("validateaB.tfrecord", "validate") == "validate0027.tfrecord"
    assert yt.local_name("train0001.tfrecord", "train") == "train0001.tfrecord"  # not a 2-char id
    names = yt.derived_remote_names("2/video/train")
    parts = [[n for n in names if yt.in_shard(n, k, 7)] for k in range(1, 8)]
    assert sum(map(len, parts)) == len(names) and len(set().union(*map(set, parts))) == len(names)
    assert yt.fraction_to_shard(0.01) == (1, 100) and yt.fraction_to_shard(1) == (1, 1)
    p = yt.Partition.parse("2/frame/validate")
    assert p.plan_url == "http://data.yt8m.org/2/download_plans/frame_validate.json"
    assert p.plan_filename == "2_frame_validate_download_plan.json"
    plan = yt.shard_plan("2/frame/test", fraction=0.001, region="eu")
    assert plan and all(e.md5 is None for e in plan)
    assert plan[0].urls[0].startswith("http://eu.data.yt8m.org/2/frame/test/test")
    with pytest.raises(ValueError):
        yt.Partition.parse("2/audio/train")
    with pytest.raises(ValueError, match="md5"):
        yt.parse_plan({"files": {"trainaa.tfrecord": "nope"}})


def _yt8m_mirror(tmp_path: Path, corrupt: bool = False) -> tuple[Path, dict]:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    files = {}
    for sid in ("aa", "ab", "Zz", "09"):
        remote = f"validate{sid}.tfrecord"
        data = f"fake tfrecord {sid}".encode()
        (mirror / remote).write_bytes(data)
        files[remote] = hashlib.md5(data).hexdigest() if not corrupt or sid != "ab" else "f" * 32
    (mirror / "2_video_validate_download_plan.json").write_text(json.dumps({"files": files}))
    return mirror, files


def test_yt8m_fetch_from_mirror_with_plan(tmp_path, no_network):
    mirror, files = _yt8m_mirror(tmp_path)
    root = tmp_path / "yt"
    res = dl.fetch("youtube8m", root, mirror=mirror, partition="2/video/validate", allow_download=False)
    names = sorted(r.name for r in res.files)
    assert names == sorted(yt.local_name(n, "validate") for n in files)
    assert "validate0001.tfrecord" in names
    m = json.loads(res.manifest_path.read_text())
    assert m["partition"] == "2/video/validate" and m["shard"] == [1, 1]
    assert m["plan"]["sha256"] == _sha256(mirror / "2_video_validate_download_plan.json")
    assert (root / "2_video_validate_download_plan.json").is_file()
    assert all(f["verified_with"].startswith("md5:") for f in m["files"])
    # a fraction selects the official hash-based subset
    res2 = dl.fetch("youtube8m", tmp_path / "yt2", mirror=mirror, partition="2/video/validate",
                    allow_download=False, shard=(1, 2))
    assert sorted(r.name for r in res2.files) == sorted(
        yt.local_name(n, "validate") for n in files if yt.in_shard(n, 1, 2))


def test_yt8m_bad_shard_and_offline_errors(tmp_path, no_network):
    mirror, _ = _yt8m_mirror(tmp_path, corrupt=True)
    with pytest.raises(DatasetUnavailableError, match="failed verification"):
        dl.fetch("youtube8m", tmp_path / "yt", mirror=mirror, partition="2/video/validate", allow_download=False)
    with pytest.raises(DatasetUnavailableError) as ei:
        dl.fetch("youtube8m", tmp_path / "empty", partition="2/frame/train", allow_download=False)
    msg = str(ei.value)
    assert "http://data.yt8m.org/2/download_plans/frame_train.json" in msg
    assert "data.mirror" in msg and "2_frame_train_download_plan.json" in msg and "smoke" in msg


# ---------------------------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------------------------


def test_cli_main(tmp_path, source, capsys, no_network):
    spec = spec_for(source, name="tiny_cli", urls=False)
    reg.register(spec)
    try:
        assert dl.main(["tiny_cli", "--root", str(tmp_path / "r"), "--no-download", "-q"]) == 2
        err = capsys.readouterr().err
        assert "tiny_cli" in err and "train-images-idx3-ubyte.gz" in err and "data.mirror" in err
        assert dl.main(["tiny_cli", "--root", str(tmp_path / "r"), "--mirror", str(source), "-q"]) == 0
        assert (tmp_path / "r" / "MANIFEST.json").is_file()
    finally:
        reg.unregister("tiny_cli")
    assert dl.main(["svhn", "--root", str(tmp_path / "x"), "-q"]) == 1


def test_cli_module_entry_point(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    env.pop(dl.MIRROR_ENV, None)
    out = subprocess.run(
        [sys.executable, "-m", "toeplitznet.data.download", "mnist", "--root", str(tmp_path / "m"),
         "--no-download"], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 2
    assert "mnist" in out.stderr and "data.mirror" in out.stderr and "data.mnist.root" not in out.stderr and "train-images-idx3-ubyte.gz" in out.stderr
    assert "RuntimeWarning" not in out.stderr
