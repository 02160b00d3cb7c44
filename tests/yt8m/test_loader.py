"""Converted YouTube-8M shards (writing, verification, dataset manifest) and the torch loader over them.

Shards are written from synthetic videos by :func:`toeplitznet.yt8m.shards.write_videos` (no TensorFlow;
tests/yt8m/test_tfrecords.py checks that the TFRecord converter writes the same bytes)."""

import json
import os

import numpy as np
import pytest
import torch

from toeplitznet.yt8m.loader import YT8MDataset, collate, make_loader
from toeplitznet.yt8m.schema import ShardFormatError
from toeplitznet.yt8m.shards import ShardWriter, SplitRule, load_shard, merge_manifests, write_videos
from toeplitznet.yt8m.synthetic import SyntheticConfig, generate

N_CLASSES = 25
CFG = SyntheticConfig(n_classes=N_CLASSES, min_frames=1, max_frames=30)


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    """Two frame-level and two video-level shards of the same synthetic videos (13 + 9)."""
    root = tmp_path_factory.mktemp("yt8m")
    videos = [list(generate(13, 1, CFG)), list(generate(9, 2, CFG))]
    out = {"videos": videos[0] + videos[1], "frame": [], "video": [], "root": root}
    for i, vs in enumerate(videos):
        for level in ("frame", "video"):
            prefix = root / level / f"train{i:04d}"
            m = write_videos(prefix, level, vs, source=f"train{i:04d}.tfrecord", fsync=False)
            assert m["n_records"] == len(vs)
            out[level].append(prefix)
    return out


def _multi_hot(videos):
    y = np.zeros((len(videos), N_CLASSES), np.float32)
    for i, v in enumerate(videos):
        y[i, v.labels] = 1
    return y


def test_shard_files_and_manifest(shards):
    v = shards["videos"][:13]
    sh = load_shard(shards["frame"][0])
    m = json.loads((shards["root"] / "frame" / "train0000.json").read_text())
    assert m["format_version"] == 2 and m["level"] == "frame" and m["source"] == "train0000.tfrecord"
    assert m["n_records"] == 13 and m["n_frames"] == sum(x.n_frames for x in v) == sh.data.shape[0]
    assert m["n_labels"] == sum(len(x.labels) for x in v) and m["max_label"] == max(x.labels.max() for x in v)
    assert sorted(m["files"]) == ["train0000.frame.bin", "train0000.index.npz"]
    assert isinstance(sh.data, np.memmap) and sh.data.dtype == np.uint8 and sh.data.shape[1] == 1152
    assert sh.frame_offsets.dtype == np.int64 and sh.labels.dtype == np.int32 and sh.ids.dtype.kind == "S"
    for i, x in enumerate(v):
        assert sh.ids[i] == x.id.encode()
        assert np.array_equal(sh.labels_of(i), x.labels)
        assert np.array_equal(sh.frames_of(i), np.concatenate([x.rgb, x.audio], 1))
    vs = load_shard(shards["video"][0])
    assert vs.data.dtype == np.float32 and vs.frame_offsets is None
    assert np.array_equal(vs.data[3], np.concatenate([v[3].mean_rgb, v[3].mean_audio]))
    assert not any(p.name.startswith(".") for p in (shards["root"] / "frame").iterdir())  # no temp left


def test_verification_catches_a_modified_file(shards, tmp_path):
    prefix = tmp_path / "train0000"
    write_videos(prefix, "frame", shards["videos"][:5], source="train0000.tfrecord", fsync=False)
    data = tmp_path / "train0000.frame.bin"
    raw = bytearray(data.read_bytes())
    raw[200] ^= 0xFF
    data.write_bytes(bytes(raw))
    with pytest.raises(ShardFormatError, match=r"train0000\.frame\.bin: sha256 differs"):
        load_shard(prefix)
    load_shard(prefix, verify=False)  # the structure is still sound
    index = tmp_path / "train0000.index.npz"
    index.write_bytes(index.read_bytes()[:-20])
    with pytest.raises(ShardFormatError, match=r"train0000\.index\.npz"):
        load_shard(prefix, verify=False)
    (tmp_path / "train0000.json").unlink()
    with pytest.raises(ShardFormatError, match=r"train0000\.json: shard manifest is missing"):
        load_shard(prefix)


def test_files_are_raw_and_hashed_whole(shards):
    """The manifest's sha256 are those of the whole files (hashlib here, not the writer's running hash), and
    the data file is the raw rows in C order, nothing else."""
    import hashlib

    for level in ("frame", "video"):
        prefix = str(shards[level][0])
        m = json.loads(open(prefix + ".json").read())
        data, index = f"{prefix}.{level}.bin", prefix + ".index.npz"
        for path in (data, index):
            assert m["files"][os.path.basename(path)] == hashlib.sha256(open(path, "rb").read()).hexdigest()
        rows = m["n_frames"] if level == "frame" else m["n_records"]
        dtype = {"frame": "|u1", "video": "<f4"}[level]
        assert m["data"] == {"dtype": dtype, "shape": [rows, 1152]}
        raw = np.frombuffer(open(data, "rb").read(), dtype=dtype).reshape(rows, 1152)
        v = shards["videos"][:13]
        expect = (np.concatenate([np.concatenate([x.rgb, x.audio], 1) for x in v]) if level == "frame" else
                  np.stack([np.concatenate([x.mean_rgb, x.mean_audio]) for x in v]))
        assert np.array_equal(raw, expect)


def test_published_data_file_digest_is_in_the_hash_cache(tmp_path, monkeypatch):
    """The writer's running sha256 of the data file goes to the hash cache, so the ingest job's provenance
    sidecar does not read the file again; it is hashlib's digest of the whole published file."""
    import hashlib

    from toeplitznet import io as tio

    monkeypatch.setenv("TOEPLITZNET_HASH_CACHE", str(tmp_path / "hash-cache.json"))
    write_videos(tmp_path / "s", "frame", list(generate(5, 3, CFG)), source="s.tfrecord", fsync=False)
    data = tmp_path / "s.frame.bin"
    truth = hashlib.sha256(data.read_bytes()).hexdigest()
    monkeypatch.setattr(tio, "_sha256_file_uncached", lambda q: pytest.fail(f"{q} was read again"))
    assert tio.sha256_file(data, cache=True) == truth


@pytest.mark.parametrize("damage", ["truncate", "append", "flip_last"])
def test_damaged_data_file_never_verifies(shards, tmp_path, damage):
    prefix = tmp_path / "train0000"
    write_videos(prefix, "frame", shards["videos"][:5], source="train0000.tfrecord", fsync=False)
    data = tmp_path / "train0000.frame.bin"
    raw = bytearray(data.read_bytes())
    if damage == "truncate":
        raw = raw[:-1152]  # one whole row short: still a multiple of the row size
    elif damage == "append":
        raw += bytes(1152)
    else:
        raw[-1] ^= 0x01
    data.write_bytes(bytes(raw))
    with pytest.raises(ShardFormatError, match=r"train0000\.frame\.bin: "):
        load_shard(prefix)
    if damage != "flip_last":  # the size check catches it without hashing
        with pytest.raises(ShardFormatError, match=r"train0000\.frame\.bin: expected uint8 \[\d+, 1152\]"):
            load_shard(prefix, verify=False)


def test_format_1_shards_are_refused(shards, tmp_path):
    prefix = tmp_path / "old"
    write_videos(prefix, "video", shards["videos"][:2], source="train0000.tfrecord", fsync=False)
    m = json.loads((tmp_path / "old.json").read_text())
    m["format_version"] = 1
    (tmp_path / "old.json").write_text(json.dumps(m))
    with pytest.raises(ShardFormatError, match=r"old\.json: format_version 1, expected 2"):
        load_shard(prefix)


def test_empty_shard_round_trip(tmp_path):
    m = write_videos(tmp_path / "e", "frame", [], source="train0000.tfrecord", fsync=True)
    assert m["n_frames"] == 0 and m["data"]["shape"] == [0, 1152] and (tmp_path / "e.frame.bin").stat().st_size == 0
    import hashlib
    assert m["files"]["e.frame.bin"] == hashlib.sha256(b"").hexdigest()
    sh = load_shard(tmp_path / "e")
    assert len(sh) == 0 and sh.data.shape == (0, 1152) and sh.data.dtype == np.uint8


def test_failed_write_leaves_nothing(tmp_path, monkeypatch):
    """A write that fails in the writer's helper thread (disk full, ...) surfaces and publishes nothing."""
    from toeplitznet.yt8m import shards as S

    def fail(self, buf):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(S._DataStream, "_put", fail)
    with pytest.raises(OSError, match="No space left"):
        with ShardWriter(tmp_path / "s", "frame", source="train0000.tfrecord", fsync=False) as w:
            for _ in range(3):
                w.add(["a"], np.array([1]), np.array([1]), np.zeros((2, 1152), np.uint8), np.array([2]))
            w.commit()
    assert list(tmp_path.iterdir()) == []


def test_many_batches_in_flight_keep_their_order(tmp_path):
    """Hashing and writing run in two threads with several batches queued: the file holds the batches in the
    order given and its manifest digest is hashlib's over the whole file (60 batches of 1-40 frames)."""
    import hashlib

    rng = np.random.default_rng(5)
    sizes = rng.integers(1, 41, size=60)
    batches = [rng.integers(0, 256, size=(int(n), 1152), dtype=np.uint8) for n in sizes]
    with ShardWriter(tmp_path / "s", "frame", source="train0000.tfrecord", fsync=False) as w:
        for k, b in enumerate(batches):
            w.add([f"v{k}"], np.array([k % 7]), np.array([1]), b, np.array([len(b)]))
        m = w.commit()
    raw = (tmp_path / "s.frame.bin").read_bytes()
    assert raw == np.concatenate(batches).tobytes()
    assert m["files"]["s.frame.bin"] == hashlib.sha256(raw).hexdigest()
    assert len(load_shard(tmp_path / "s")) == 60


def test_structure_check_without_hashes(shards, tmp_path):
    prefix = tmp_path / "x"
    write_videos(prefix, "frame", shards["videos"][:4], source="train0007.tfrecord", fsync=False)
    m = json.loads((tmp_path / "x.json").read_text())
    m["n_frames"] += 1
    (tmp_path / "x.json").write_text(json.dumps(m))
    with pytest.raises(ShardFormatError, match=r"x\.frame\.bin: expected uint8"):
        load_shard(prefix, verify=False)


def test_writer_failure_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError):
        with ShardWriter(tmp_path / "s", "video", source="train0000.tfrecord", fsync=False) as w:
            w.add(["abcd"], np.array([1]), np.array([1]), np.zeros((1, 1152), np.float32))
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    with ShardWriter(tmp_path / "s", "video", source="train0000.tfrecord", fsync=False) as w:
        with pytest.raises(ValueError, match="rows"):
            w.add(["abcd", "efgh"], np.array([1]), np.array([1, 0]), np.zeros((1, 1152), np.float32))
        m = w.commit()
    assert m["n_records"] == 0 and m["max_label"] is None
    assert len(YT8MDataset([tmp_path / "s"], "video", 5)) == 0


def test_merge_manifests_split(tmp_path):
    names = ["train0000", "validate0000", "validate3223", "validate3224", "validate3843", "test0001"]
    jsons = []
    for i, name in enumerate(names):
        write_videos(tmp_path / name, "video", list(generate(2 + i, i, CFG)), source=f"{name}.tfrecord", fsync=False)
        jsons.append(tmp_path / f"{name}.json")
    d = merge_manifests(jsons)
    part = {s["source"]: s["partition"] for s in d["shards"]}
    assert part == {"train0000.tfrecord": "train", "validate0000.tfrecord": "train",
                    "validate3223.tfrecord": "train", "validate3224.tfrecord": "heldout",
                    "validate3843.tfrecord": "heldout", "test0001.tfrecord": "test"}
    assert d["partitions"]["train"] == {"n_shards": 3, "n_records": 2 + 3 + 4, "n_frames": 0,
                                        "n_labels": d["partitions"]["train"]["n_labels"]}
    assert d["partitions"]["heldout"]["n_records"] == 5 + 6 and d["n_records"] == sum(range(2, 8))
    assert d["split_rule"] == {"validate_train_shards": 3224} and d["level"] == "video"
    assert all(len(s["manifest_sha256"]) == 64 for s in d["shards"])
    assert SplitRule(100).partition("validate0100.tfrecord") == "heldout"
    assert merge_manifests(jsons, 0)["partitions"]["heldout"]["n_shards"] == 4
    with pytest.raises(ValueError, match="already converted"):
        merge_manifests(jsons + jsons[:1])
    write_videos(tmp_path / "odd", "video", [], source="something.tfrecord", fsync=False)
    with pytest.raises(ShardFormatError, match=r"odd\.json: something\.tfrecord"):
        merge_manifests([tmp_path / "odd.json"])


def test_video_batches(shards):
    videos = shards["videos"]
    ds = YT8MDataset(shards["video"], "video", N_CLASSES)
    assert len(ds) == 22
    x, y = ds.batch(np.arange(22)[::-1])
    assert x.dtype == torch.float32 and x.shape == (22, 1152) and y.shape == (22, N_CLASSES)
    expect = np.stack([np.concatenate([v.mean_rgb, v.mean_audio]) for v in videos])[::-1]
    assert np.array_equal(x.numpy(), expect) and np.array_equal(y.numpy(), _multi_hot(videos)[::-1])
    x0, y0 = ds[14]
    assert torch.equal(x0, x[7]) and torch.equal(y0, y[7])


def test_frame_batches(shards):
    videos = shards["videos"]
    ds = YT8MDataset(shards["frame"], "frame", N_CLASSES, max_frames=20)
    assert len(ds) == 22 and ds.width == 20
    idx = [21, 0, 5, 13, 12]
    (frames, n), y = ds.batch(idx)
    assert frames.dtype == torch.uint8 and frames.shape == (5, 20, 1152)
    assert n.dtype == torch.int64 and y.dtype == torch.float32 and y.shape == (5, N_CLASSES)
    for j, i in enumerate(idx):
        v = videos[i]
        k = min(v.n_frames, 20)  # truncated to max_frames
        assert n[j] == k
        assert np.array_equal(frames[j, :k].numpy(), np.concatenate([v.rgb, v.audio], 1)[:k])
        assert not frames[j, k:].any()
        assert np.array_equal(y[j].numpy(), _multi_hot([v])[0])
    (f1, n1), y1 = ds[5]
    assert torch.equal(f1, frames[2]) and n1 == n[2] and torch.equal(y1, y[2])
    (fc, nc), yc = collate([ds[i] for i in idx])
    assert torch.equal(fc, frames) and torch.equal(nc, n) and torch.equal(yc, y)


def test_split_halves(shards):
    videos = shards["videos"]
    ds = YT8MDataset(shards["frame"], "frame", N_CLASSES, split_halves=True)  # max_frames 300 -> width 150
    assert ds.width == 150
    ones = sum(v.n_frames == 1 for v in videos)
    assert len(ds) == 2 * len(videos) - ones
    (frames, n), y = ds.batch(np.arange(len(ds)))
    assert frames.shape == (len(ds), 150, 1152)
    j = 0
    for v in videos:
        full = np.concatenate([v.rgb, v.audio], 1)
        h = -(-v.n_frames // 2)  # ceil(n/2)
        halves = [full[:h], full[h:]] if v.n_frames > 1 else [full]
        for part in halves:
            assert n[j] == len(part) and np.array_equal(frames[j, :len(part)].numpy(), part)
            assert not frames[j, len(part):].any()
            assert np.array_equal(y[j].numpy(), _multi_hot([v])[0])
            j += 1
    assert j == len(ds)
    with pytest.raises(ValueError, match="frame-level"):
        YT8MDataset(shards["video"], "video", N_CLASSES, split_halves=True)


def test_make_loader_order_and_workers(shards):
    def ids(loader):
        return [tuple(map(tuple, b[1].numpy().astype(int))) + tuple(b[0][1].tolist()) for b in loader]

    kw = dict(level="frame", n_classes=N_CLASSES, batch_size=4, max_frames=300)
    seq = list(make_loader(shards["frame"], **kw))
    assert [b[1].shape[0] for b in seq] == [4, 4, 4, 4, 4, 2]
    assert torch.cat([b[0][1] for b in seq]).tolist() == [v.n_frames for v in shards["videos"]]
    a = ids(make_loader(shards["frame"], shuffle=True, seed=3, **kw))
    assert a == ids(make_loader(shards["frame"], shuffle=True, seed=3, **kw))
    assert a != ids(make_loader(shards["frame"], shuffle=True, seed=4, **kw))
    w = ids(make_loader(shards["frame"], shuffle=True, seed=3, num_workers=1, **kw))
    assert w == a


def test_label_outside_vocabulary(shards):
    with pytest.raises(ShardFormatError, match=r"train0000\.json: label \d+ >= n_classes 3"):
        YT8MDataset(shards["video"], "video", 3)
