"""TFRecord writing, strict parsing and conversion (toeplitznet.yt8m.tfrecords).

pytest's process imports torch, so all TensorFlow work runs in ONE subprocess (TF start-up costs
seconds): it hand-makes records of both levels with ``tf.train`` protos, writes broken shards, converts
them and reports the results as JSON; the tests compare the numpy outputs with the known values here."""

import json
import os
import struct
import subprocess
import sys

import numpy as np
import pytest
from yt8m_helpers import (FRAME_RECORDS, HAS_TF, MEAN_AUDIO, MEAN_RGB, ROOT, SYN, VIDEO_RECORDS, known_audio,
                          known_rgb, run_tf)

from toeplitznet.yt8m.loader import YT8MDataset
from toeplitznet.yt8m.shards import load_shard, write_videos
from toeplitznet.yt8m.synthetic import SyntheticConfig, generate

pytestmark = pytest.mark.skipif(not HAS_TF, reason="TensorFlow is not installed (requirements/tensorflow.txt)")


SCRIPT = r'''
import contextlib, io, json, os, struct, sys
from pathlib import Path
import numpy as np
import tensorflow as tf
sys.path.insert(0, os.path.join(os.getcwd(), "tests", "yt8m"))
from yt8m_helpers import known_rgb, known_audio, MEAN_RGB, MEAN_AUDIO, FRAME_RECORDS, VIDEO_RECORDS, SYN
from toeplitznet.yt8m import tfrecords as T
from toeplitznet.yt8m.synthetic import SyntheticConfig

d = Path(sys.argv[1]); res = {}
def b(x): return tf.train.Feature(bytes_list=tf.train.BytesList(value=x))
def i64(x): return tf.train.Feature(int64_list=tf.train.Int64List(value=x))
def fl(x): return tf.train.Feature(float_list=tf.train.FloatList(value=list(map(float, x))))
def vid(id_, labels, rgb=MEAN_RGB, audio=MEAN_AUDIO, drop=()):
    f = {"id": b([id_.encode()]), "labels": i64(labels), "mean_rgb": fl(rgb), "mean_audio": fl(audio)}
    for k in drop: del f[k]
    return tf.train.Example(features=tf.train.Features(feature=f)).SerializeToString()
def seq(id_, labels, rgb, audio):
    fr = lambda a: tf.train.FeatureList(feature=[b([row.tobytes()]) for row in a])
    return tf.train.SequenceExample(context=tf.train.Features(feature={"id": b([id_.encode()]), "labels": i64(labels)}),
        feature_lists=tf.train.FeatureLists(feature_list={"rgb": fr(rgb), "audio": fr(audio)})).SerializeToString()
def write(name, recs):
    with tf.io.TFRecordWriter(str(d / name)) as w:
        for r in recs: w.write(r)
    return d / name
def attempt(name, path, level, **kw):
    out = d / ("out_" + name); out.mkdir()
    try:
        res[name] = {"manifest": T.convert_shard(path, out / "s", level, **kw)}
    except T.IngestError as e:
        res[name] = {"error": str(e), "record": e.record, "path": e.path}
    res[name]["left"] = sorted(p.name for p in out.iterdir())

# hand-made records of both levels
frame_recs = [seq(i, l, known_rgb(n, k), known_audio(n, k)) for k, (i, l, n) in enumerate(FRAME_RECORDS)]
video_recs = [vid(i, l, MEAN_RGB + s, MEAN_AUDIO * (s + 1)) for i, l, s in VIDEO_RECORDS]
attempt("frame", write("validate0000.tfrecord", frame_recs), "frame", batch_size=3)
attempt("video", write("train0003.tfrecord", video_recs), "video", batch_size=2)
# schema mismatches, each in record 1 (batch size 2 -> in the first batch) or 2 (second batch)
good = seq("ok", [1], known_rgb(3, 0), known_audio(3, 0))
mismatch = seq("bad", [1], known_rgb(3, 0), known_audio(2, 0))
attempt("count_mismatch", write("cm.tfrecord", [good, mismatch, good]), "frame", batch_size=2)
short = seq("bad", [1], [known_rgb(3, 0)[0], np.zeros(1000, np.uint8), known_rgb(3, 0)[2]], known_audio(3, 0))
attempt("frame_bytes", write("fb.tfrecord", [good, good, short]), "frame", batch_size=2)
attempt("too_long", write("tl.tfrecord", [good, seq("bad", [2], known_rgb(301, 0), known_audio(301, 0))]), "frame")
attempt("truncate", d / "tl.tfrecord", "frame", truncate=True)
no_audio = tf.train.SequenceExample(
    context=tf.train.Features(feature={"id": b([b"x"])}),
    feature_lists=tf.train.FeatureLists(feature_list={"rgb": tf.train.FeatureList(feature=[b([bytes(1024)])])}))
attempt("missing_list", write("ml.tfrecord", [good, no_audio.SerializeToString()]), "frame")
# what the fast (ragged) parse cannot tell apart and the strict re-parse must: empty vs missing lists, frames
# with no or two strings (each in record 2, the second batch of two)
def seq_lists(lists):
    return tf.train.SequenceExample(context=tf.train.Features(feature={"id": b([b"odd"])}),
        feature_lists=tf.train.FeatureLists(feature_list={k: tf.train.FeatureList(feature=v)
                                                          for k, v in lists.items()})).SerializeToString()
r3, a3 = [b([r.tobytes()]) for r in known_rgb(3, 0)], [b([r.tobytes()]) for r in known_audio(3, 0)]
empty = seq("empty", [2], known_rgb(0, 0), known_audio(0, 0))  # both lists present, no frames: a valid record
attempt("zero_frames", write("zf.tfrecord", [good, empty, good, empty]), "frame", batch_size=2)
for name, lists in {"no_lists": {}, "no_rgb_empty_audio": {"audio": []}, "no_audio_empty_rgb": {"rgb": []},
                    "two_strings": {"rgb": r3[:1] + [b([bytes(1024), bytes(1024)])] + r3[2:], "audio": a3},
                    "no_string": {"rgb": r3, "audio": a3[:2] + [b([])]}}.items():
    attempt(name, write(name + ".tfrecord", [good, good, seq_lists(lists), good]), "frame", batch_size=2)
no_mean_audio = vid("c", [3], drop=["mean_audio"])
attempt("missing_key", write("mk.tfrecord", [vid("a", [1]), vid("b", [2]), no_mean_audio]), "video", batch_size=2)
attempt("short_rgb", write("sr.tfrecord", [vid("a", [1]), vid("b", [2], rgb=MEAN_RGB[:1000])]), "video")
attempt("bad_label", write("bl.tfrecord", [vid("a", [1]), vid("b", [3862])]), "video")
attempt("missing", d / "nope.tfrecord", "video")
# synthetic shards: CRC corruption and truncation
cfg = SyntheticConfig(**SYN)
res["synth"] = T.write_synthetic_shard(d / "train0001.tfrecord", "frame", 6, 7, config=cfg)
T.write_synthetic_shard(d / "train0002.tfrecord", "video", 6, 8, config=cfg)
attempt("synth_frame", d / "train0001.tfrecord", "frame", n_classes=40)
attempt("synth_video", d / "train0002.tfrecord", "video", n_classes=40)
raw = bytearray((d / "train0001.tfrecord").read_bytes()); offs = []; pos = 0
while pos < len(raw):
    n = struct.unpack("<Q", raw[pos:pos + 8])[0]; offs.append((pos, n)); pos += 16 + n
res["offsets"] = offs
p, n = offs[3]; cor = bytearray(raw); cor[p + 12 + n // 2] ^= 0x55
(d / "corrupt.tfrecord").write_bytes(bytes(cor))
attempt("corrupt", d / "corrupt.tfrecord", "frame", n_classes=40, batch_size=2)
p, n = offs[5]; (d / "truncated.tfrecord").write_bytes(bytes(raw[:p + 12 + n // 2]))
attempt("truncated", d / "truncated.tfrecord", "frame", n_classes=40)
# several shards through one pipeline: an empty shard in the middle; then a bad shard stops the run
T.write_records(d / "empty.tfrecord", [])
many = [d / "train0001.tfrecord", d / "empty.tfrecord", d / "validate0000.tfrecord"]
res["many"] = [m["n_records"] for m in T.convert_shards(many, [d / "many" / f"s{i}" for i in range(3)], "frame")]
try:
    T.convert_shards([d / "validate0000.tfrecord", d / "cm.tfrecord", d / "train0001.tfrecord"],
                     [d / "stop" / f"s{i}" for i in range(3)], "frame")
except T.IngestError as e:
    res["stop"] = {"error": str(e), "left": sorted(os.listdir(d / "stop"))}
# an interrupted conversion: in the first shard nothing is left; in the second, the first shard stays
for name, at in (("interrupt_first", 2), ("interrupt_second", 4)):
    calls, add = [0], T._ShardJob.add
    def interrupted(self, batch):
        calls[0] += 1
        if calls[0] == at:
            raise KeyboardInterrupt
        add(self, batch)
    T._ShardJob.add = interrupted
    try:
        T.convert_shards([d / "train0001.tfrecord", d / "validate0000.tfrecord"], [d / name / "s0", d / name / "s1"],
                         "frame", n_classes=40, batch_size=2)
    except KeyboardInterrupt:
        res[name] = sorted(os.listdir(d / name))
    finally:
        T._ShardJob.add = add
# the CLI: exit 1 with the message; the floor reader; tf_batches in the loader layout
err = io.StringIO()
with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
    rc = T.main(["convert", "--level", "frame", "--tfrecord", str(d / "corrupt.tfrecord"),
                 "--out-prefix", str(d / "cli" / "s")])
res["cli"] = {"rc": rc, "stderr": err.getvalue(), "made": (d / "cli").exists() and sorted(os.listdir(d / "cli"))}
res["floor"] = [T.read_floor([d / "train0001.tfrecord", d / "validate0000.tfrecord"], "frame")[0],
                T.read_floor([d / "train0002.tfrecord"], "video")[0]]
(f, n), y = next(iter(T.tf_batches([d / "train0001.tfrecord"], "frame", 40, 4)))
xv, yv = next(iter(T.tf_batches([d / "train0002.tfrecord"], "video", 40, 6)))
np.savez(d / "tf_batch.npz", frames=f.numpy(), n=n.numpy(), y=y.numpy(), xv=xv.numpy(), yv=yv.numpy())
print(json.dumps(res))
'''


@pytest.fixture(scope="module")
def tf_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("yt8m_tf")
    return d, run_tf(SCRIPT, str(d))


def test_hand_made_frame_records(tf_run):
    d, res = tf_run
    m = res["frame"]["manifest"]
    assert res["frame"]["left"] == ["s.frame.bin", "s.index.npz", "s.json"]
    assert m["level"] == "frame" and m["source"] == "validate0000.tfrecord" and m["n_records"] == 4
    assert m["n_frames"] == 308 and m["n_labels"] == 4 and m["max_label"] == 3861 and m["n_truncated"] == 0
    sh = load_shard(d / "out_frame" / "s")
    assert sh.ids.tolist() == [b"abcd", b"Zz09", b"q", b"long"]
    assert sh.frame_offsets.tolist() == [0, 2, 7, 8, 308] and sh.label_offsets.tolist() == [0, 2, 2, 3, 4]
    assert sh.labels.tolist() == [3, 17, 3861, 0]
    for k, (_, _, n) in enumerate(FRAME_RECORDS):
        assert np.array_equal(sh.frames_of(k), np.concatenate([known_rgb(n, k), known_audio(n, k)], 1))


def test_hand_made_video_records(tf_run):
    d, res = tf_run
    m = res["video"]["manifest"]
    assert m["level"] == "video" and m["n_records"] == 3 and m["n_labels"] == 5 and "n_frames" not in m
    sh = load_shard(d / "out_video" / "s")
    assert sh.ids.tolist() == [b"abcd", b"Zz09", b"q"] and sh.labels.tolist() == [3, 17, 3861, 5, 2]
    assert sh.label_offsets.tolist() == [0, 2, 2, 5] and sh.data.dtype == np.float32
    for k, (_, _, s) in enumerate(VIDEO_RECORDS):
        assert np.array_equal(sh.data[k], np.concatenate([MEAN_RGB + s, MEAN_AUDIO * (s + 1)]))
    assert m["source_sha256"] == __import__("hashlib").sha256((d / "train0003.tfrecord").read_bytes()).hexdigest()


@pytest.mark.parametrize("case, record, text", [
    ("count_mismatch", 1, "3 rgb frames but 2 audio frames"),
    ("frame_bytes", 2, "rgb frame 1 has 1000 bytes, expected 1024"),
    ("too_long", 1, "301 frames, more than 300"),
    ("missing_list", 1, "does not follow the schema"),
    ("missing_key", 2, "does not follow the schema"),
    ("short_rgb", 1, "does not follow the schema"),
    ("bad_label", 1, "label 3862 outside [0, 3862)"),
    ("corrupt", 3, "corrupt or truncated TFRecord data after 3 good records"),
    ("truncated", 5, "corrupt or truncated TFRecord data after 5 good records"),
    ("missing", None, "TFRecord shard not found"),
])
def test_bad_shards_are_rejected_and_write_nothing(tf_run, case, record, text):
    _, res = tf_run
    r = res[case]
    assert "error" in r, r
    assert r["record"] == record and text in r["error"], r
    assert r["error"].startswith(r["path"]) and r["path"].endswith(".tfrecord")
    if record is not None:
        assert f": record {record}: " in r["error"]
    assert r["left"] == [], r  # nothing half-written, no temporary folder


@pytest.mark.parametrize("case, text", [
    ("no_lists", "is required but could not be found"),
    ("no_rgb_empty_audio", "Feature list 'rgb' is required"),
    ("no_audio_empty_rgb", "Feature list 'audio' is required"),
    ("two_strings", "does not follow the schema"),
    ("no_string", "does not follow the schema"),
])
def test_strict_schema_of_frame_lists(tf_run, case, text):
    """A missing list is an error, unlike an empty one; every frame is exactly one string."""
    _, res = tf_run
    r = res[case]
    assert "error" in r and r["record"] == 2 and text in r["error"] and ": record 2: " in r["error"], r
    assert r["left"] == [], r


def test_records_without_frames(tf_run):
    d, res = tf_run
    m = res["zero_frames"]["manifest"]
    assert m["n_records"] == 4 and m["n_frames"] == 6
    sh = load_shard(d / "out_zero_frames" / "s")
    assert sh.frame_offsets.tolist() == [0, 3, 3, 6, 6] and sh.ids.tolist() == [b"ok", b"empty", b"ok", b"empty"]


def test_interrupted_conversion_leaves_no_shard(tf_run):
    d, res = tf_run
    assert res["interrupt_first"] == []  # no files, no temporary folder
    assert res["interrupt_second"] == ["s0.frame.bin", "s0.index.npz", "s0.json"]
    assert len(load_shard(d / "interrupt_second" / "s0")) == 6


def test_manifest_hashes_are_the_files_sha256(tf_run):
    """Hashes computed while writing equal hashlib over the published files (and the source's)."""
    import hashlib
    d, res = tf_run
    for case, source in (("frame", "validate0000.tfrecord"), ("video", "train0003.tfrecord"),
                         ("synth_frame", "train0001.tfrecord"), ("truncate", "tl.tfrecord")):
        m = res[case]["manifest"]
        assert m["source_sha256"] == hashlib.sha256((d / source).read_bytes()).hexdigest()
        for name, digest in m["files"].items():
            assert digest == hashlib.sha256((d / f"out_{case}" / name).read_bytes()).hexdigest(), (case, name)


def test_schema_errors_name_the_key(tf_run):
    _, res = tf_run
    assert "mean_audio" in res["missing_key"]["error"] and "mean_rgb" in res["short_rgb"]["error"]
    assert "audio" in res["missing_list"]["error"]


def test_truncate_option(tf_run):
    d, res = tf_run
    m = res["truncate"]["manifest"]
    assert m["n_truncated"] == 1 and m["n_frames"] == 3 + 300
    sh = load_shard(d / "out_truncate" / "s")
    assert np.array_equal(sh.frames_of(1), np.concatenate([known_rgb(300, 0), known_audio(300, 0)], 1))


def test_convert_many_shards(tf_run):
    d, res = tf_run
    assert res["many"] == [6, 0, 4]
    assert len(load_shard(d / "many" / "s1")) == 0 and len(load_shard(d / "many" / "s2")) == 4
    assert res["stop"]["error"].endswith("cm.tfrecord: record 1: 3 rgb frames but 2 audio frames")
    assert res["stop"]["left"] == ["s0.frame.bin", "s0.index.npz", "s0.json"]  # before the bad one only


def test_cli_reports_the_error(tf_run):
    _, res = tf_run
    assert res["cli"]["rc"] == 1 and res["cli"]["stderr"].startswith("error: ")
    assert "corrupt.tfrecord: record 3:" in res["cli"]["stderr"] and res["cli"]["made"] in (False, [])


def test_synthetic_tfrecords_convert_to_the_same_bytes(tf_run, tmp_path):
    """The TFRecord path and the direct numpy path write identical data and index files."""
    d, res = tf_run
    cfg = SyntheticConfig(**SYN)
    assert res["synth"]["n_records"] == 6
    for level, seed in (("frame", 7), ("video", 8)):
        m = res[f"synth_{level}"]["manifest"]
        direct = write_videos(tmp_path / level / "s", level, generate(6, seed, cfg), source="x", fsync=False)
        assert m["files"] == direct["files"] and m["n_records"] == 6
    assert res["floor"] == [6 + 4, 6]
    # offsets of the records really are where the corruption went: 16 bytes of framing per record
    offs = res["offsets"]
    assert len(offs) == 6 and offs[0][0] == 0 and all(a[0] + 16 + a[1] == b[0] for a, b in zip(offs, offs[1:]))
    assert struct.calcsize("<Q") == 8


def test_tf_batches_match_the_torch_loader(tf_run):
    d, res = tf_run
    z = np.load(d / "tf_batch.npz")
    ds = YT8MDataset([d / "out_synth_frame" / "s"], "frame", 40)
    (frames, n), y = ds.batch(range(4))
    assert np.array_equal(z["frames"], frames.numpy()) and np.array_equal(z["n"], n.numpy())
    assert np.array_equal(z["y"], y.numpy())
    xv, yv = YT8MDataset([d / "out_synth_video" / "s"], "video", 40).batch(range(6))
    assert np.array_equal(z["xv"], xv.numpy()) and np.array_equal(z["yv"], yv.numpy())
    assert json.dumps(res)  # results are plain JSON


def test_cli_module_exit_status(tf_run):
    """``python -m toeplitznet.yt8m.tfrecords convert`` exits non-zero with the message on a bad shard."""
    d, _ = tf_run
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), TF_CPP_MIN_LOG_LEVEL="2", OMP_WAIT_POLICY="PASSIVE")
    proc = subprocess.run([sys.executable, "-m", "toeplitznet.yt8m.tfrecords", "convert", "--level", "frame",
                           "--tfrecord", str(d / "cm.tfrecord"), "--out-prefix", str(d / "cli_m" / "s")],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.strip().endswith("cm.tfrecord: record 1: 3 rgb frames but 2 audio frames")
    assert not (d / "cli_m").exists() or not any((d / "cli_m").iterdir())
