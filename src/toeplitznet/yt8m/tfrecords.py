"""YouTube-8M TFRecord shards: writing, strict parsing with tf.data, conversion (TensorFlow only; never torch).

Schema of the 2018 release (starter code ``google/youtube-8m@4ca7736:readers.py``):

* video level, ``tf.train.Example``: ``id`` bytes, ``labels`` int64 list, ``mean_rgb`` float[1024],
  ``mean_audio`` float[128];
* frame level, ``tf.train.SequenceExample``: context ``id``, ``labels``; feature lists ``rgb`` (one
  1024-byte uint8 string per frame, 1 frame/s, at most 300) and ``audio`` (128 bytes).

Reading goes through ``tf.data.TFRecordDataset`` (which checks each record's CRCs) and the batched
``tf.io.parse_example`` / ``tf.io.parse_sequence_example``. Unlike the official reader, whose
rgb/audio frame-count assert is never wired into the graph, every record is checked: required keys
(``id``, ``mean_rgb``/``mean_audio`` or the ``rgb``/``audio`` lists; a missing ``labels`` list is an
unlabeled video, as in the test split), vector lengths, frame byte lengths, equal rgb and audio frame
counts, at most ``max_frames`` frames (or truncation when asked), labels in ``[0, n_classes)``. Any
failure raises :class:`IngestError` naming the shard and the record index, and
:func:`convert_shard` then publishes nothing (:class:`~.shards.ShardWriter`). :func:`convert_shards`
converts many shards through one tf.data pipeline (an iterator costs 0.1-0.4 s to create). The data file
is hashed while it is written (:class:`~.shards.ShardWriter`), the source TFRecord in a helper thread one
shard ahead of the parsing, and each shard is published (fsync, renames) in another helper thread while
the next one is parsed.

CLI: ``python -m toeplitznet.yt8m.tfrecords {synthesize,convert,floor} ...`` (``--help``); ``convert``
takes one or more ``--tfrecord`` with as many ``--out-prefix``.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from ..io import atomic_path, sha256_file  # noqa: E402
from .schema import (AUDIO_DIM, FEATURE_DIM, MAX_FRAMES, N_CLASSES, RGB_DIM, IngestError,  # noqa: E402
                     check_level)
from .shards import ShardWriter  # noqa: E402
from .synthetic import SyntheticConfig, generate  # noqa: E402

__all__ = ["IngestError", "video_example", "frame_example", "write_records", "write_synthetic_shard",
           "convert_shard", "convert_shards", "read_floor", "tf_batches", "main"]

VIDEO_FEATURES = {
    "id": tf.io.FixedLenFeature([], tf.string),
    "labels": tf.io.VarLenFeature(tf.int64),
    "mean_rgb": tf.io.FixedLenFeature([RGB_DIM], tf.float32),
    "mean_audio": tf.io.FixedLenFeature([AUDIO_DIM], tf.float32),
}
CONTEXT_FEATURES = {"id": tf.io.FixedLenFeature([], tf.string), "labels": tf.io.VarLenFeature(tf.int64)}
SEQUENCE_FEATURES = {"rgb": tf.io.FixedLenSequenceFeature([], tf.string),
                     "audio": tf.io.FixedLenSequenceFeature([], tf.string)}
RAGGED_SEQUENCE_FEATURES = {"rgb": tf.io.RaggedFeature(tf.string), "audio": tf.io.RaggedFeature(tf.string)}
DEFAULT_BATCH = 64


# --------------------------------------------------------------------------- writing
def _bytes(values: Iterable[bytes]) -> tf.train.Feature:
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=list(values)))


def _int64(values: Iterable[int]) -> tf.train.Feature:
    return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(v) for v in values]))


def _floats(values: np.ndarray) -> tf.train.Feature:
    return tf.train.Feature(float_list=tf.train.FloatList(value=np.asarray(values, np.float32).tolist()))


def _id(vid: str | bytes) -> bytes:
    return vid.encode("utf-8") if isinstance(vid, str) else bytes(vid)


def video_example(vid: str | bytes, labels: Iterable[int], mean_rgb: np.ndarray, mean_audio: np.ndarray
                  ) -> tf.train.Example:
    """A video-level record (no length checks: tests use it to make bad records too)."""
    return tf.train.Example(features=tf.train.Features(feature={
        "id": _bytes([_id(vid)]), "labels": _int64(labels), "mean_rgb": _floats(mean_rgb),
        "mean_audio": _floats(mean_audio)}))


def frame_example(vid: str | bytes, labels: Iterable[int], rgb: np.ndarray, audio: np.ndarray
                  ) -> tf.train.SequenceExample:
    """A frame-level record from uint8 ``rgb`` [n, 1024] and ``audio`` [n, 128] (one bytes string per row)."""
    def flist(frames: np.ndarray) -> tf.train.FeatureList:
        return tf.train.FeatureList(feature=[_bytes([row.tobytes()]) for row in np.asarray(frames, np.uint8)])

    return tf.train.SequenceExample(
        context=tf.train.Features(feature={"id": _bytes([_id(vid)]), "labels": _int64(labels)}),
        feature_lists=tf.train.FeatureLists(feature_list={"rgb": flist(rgb), "audio": flist(audio)}))


def write_records(path: str | os.PathLike, records: Iterable[bytes | Any], *, fsync: bool = True) -> int:
    """Write serialized records (or protos) to the TFRecord file ``path`` atomically; returns the count."""
    n = 0
    with atomic_path(path, fsync=fsync) as tmp:
        with tf.io.TFRecordWriter(str(tmp)) as w:
            for r in records:
                w.write(r if isinstance(r, bytes) else r.SerializeToString())
                n += 1
    return n


def write_synthetic_shard(path: str | os.PathLike, level: str, n_videos: int, seed: int,
                          n_classes: int = 100, *, config: SyntheticConfig | None = None,
                          fsync: bool = True) -> dict[str, Any]:
    """Write ``n_videos`` synthetic videos (:mod:`.synthetic`; ``config`` overrides ``n_classes``) as a
    TFRecord shard of the official schema, atomically; returns ``{path, level, n_records, n_frames}``."""
    check_level(level)
    cfg = config or SyntheticConfig(n_classes=n_classes)
    frames = 0

    def records() -> Iterator[Any]:
        nonlocal frames
        for v in generate(n_videos, seed, cfg):
            frames += v.n_frames
            if level == "video":
                yield video_example(v.id, v.labels, v.mean_rgb, v.mean_audio)
            else:
                yield frame_example(v.id, v.labels, v.rgb, v.audio)

    n = write_records(path, records(), fsync=fsync)
    return {"path": str(path), "level": level, "n_records": n, "n_frames": frames}


# --------------------------------------------------------------------------- parsing
def _ragged_labels(sp: tf.SparseTensor) -> tuple[tf.Tensor, tf.Tensor]:
    r = tf.RaggedTensor.from_sparse(sp)
    return r.values, r.row_lengths()


def _parse_video(serialized: tf.Tensor) -> dict[str, tf.Tensor]:
    f = tf.io.parse_example(serialized, VIDEO_FEATURES)
    values, counts = _ragged_labels(f["labels"])
    return {"id": f["id"], "label_values": values, "label_counts": counts,
            "features": tf.concat([f["mean_rgb"], f["mean_audio"]], axis=1)}


def _parse_frames(serialized: tf.Tensor, keep_max: int | None) -> dict[str, tf.Tensor]:
    """Batched frame-level parse that never fails on frame contents: it returns the frame counts and the
    byte length of every frame (checked in numpy), and decodes the kept frames (the first ``keep_max`` of
    each record) to uint8 [F, 1152] only when all lengths are right (else an empty array).

    The feature lists are parsed as ragged tensors, which yields every record's frames back to back
    without the padded [B, max_frames] string tensor and its masking (a quarter of the parsing time). A
    ragged parse takes a missing list for an empty one and a frame of zero or several strings for
    frames, so ``one_each`` (every frame of the batch is one string) is returned too, and the converter
    parses the records that may not follow the schema (an empty list; all records of a batch without
    ``one_each``) again with the strict ``FixedLenSequenceFeature`` schema (:meth:`_ShardJob.check_strictly`),
    which fails on them as the one-pass strict parse did."""
    ctx, seq, _ = tf.io.parse_sequence_example(
        serialized, context_features=CONTEXT_FEATURES, sequence_features=RAGGED_SEQUENCE_FEATURES)
    values, counts = _ragged_labels(ctx["labels"])
    out = {"id": ctx["id"], "label_values": values, "label_counts": counts}
    one_each = tf.constant(True)
    for key in ("rgb", "audio"):
        one_each = tf.logical_and(one_each, tf.reduce_all(tf.equal(seq[key].values.row_lengths(), 1)))
        out[f"n_{key}"] = seq[key].row_lengths()
    out["one_each"] = one_each
    ok = tf.logical_and(one_each, tf.reduce_all(tf.equal(out["n_rgb"], out["n_audio"])))
    kept = {}
    for key, dim in (("rgb", RGB_DIM), ("audio", AUDIO_DIM)):
        out[f"len_{key}"] = tf.strings.length(seq[key].flat_values)
        ok = tf.logical_and(ok, tf.reduce_all(tf.equal(out[f"len_{key}"], dim)))
        kept[key] = seq[key].flat_values if keep_max is None else seq[key][:, :keep_max].flat_values

    def decode() -> tf.Tensor:
        return tf.concat([tf.io.decode_raw(kept["rgb"], tf.uint8), tf.io.decode_raw(kept["audio"], tf.uint8)], 1)

    out["frames"] = tf.cond(ok, decode, lambda: tf.zeros([0, FEATURE_DIM], tf.uint8))
    return out


@functools.lru_cache(maxsize=None)
def _parser(level: str, keep_max: int | None = None) -> Any:
    """The parse function of ``level``, traced once per process (not once per shard)."""
    spec = tf.TensorSpec([None], tf.string)
    if level == "video":
        return tf.function(_parse_video, input_signature=[spec])
    return tf.function(lambda s: _parse_frames(s, keep_max), input_signature=[spec])


def _dataset(paths: Sequence[str], parse, batch_size: int) -> tf.data.Dataset:
    return (tf.data.TFRecordDataset(list(paths)).batch(batch_size)
            .map(parse, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE))


def _first_line(exc: BaseException) -> str:
    """TF's message without its ``{{function_node ...}}`` prefix and ``[Op:...]`` suffix."""
    msg = getattr(exc, "message", None) or str(exc)
    msg = re.sub(r"\{\{function_node [^}]*\}\}\s*", "", msg.strip().splitlines()[0] if msg.strip() else "")
    msg = re.sub(r"\s*\[Op:[^\]]*\].*$", "", msg)
    return msg.replace("Name: <unknown>, ", "").strip()[:500]


def _strict_frames(serialized: tf.Tensor) -> Any:
    """The strict frame-level schema (fails on a missing list and on a frame that is not one string)."""
    return tf.io.parse_sequence_example(serialized, context_features=CONTEXT_FEATURES,
                                        sequence_features=SEQUENCE_FEATURES)


def _diagnose(path: Path, level: str) -> IngestError | None:
    """Find the record behind a TF error by re-reading ``path`` one record at a time (None: it is fine).
    Records are parsed eagerly with the strict schema (not by the traced function) so that TF's message
    is the op's own."""
    parse = _parse_video if level == "video" else _strict_frames
    i = 0
    it = iter(tf.data.TFRecordDataset([str(path)]))
    while True:
        try:
            rec = next(it)
        except StopIteration:
            return None
        except tf.errors.OpError as e:
            return IngestError(path, f"corrupt or truncated TFRecord data after {i} good records "
                                     f"(CRC or length check failed): {_first_line(e)}", record=i)
        try:
            parse(tf.expand_dims(rec, 0))
        except tf.errors.OpError as e:
            return IngestError(path, f"record does not follow the schema: {_first_line(e)}", record=i)
        i += 1


def _check_labels(path: Path, base: int, values: np.ndarray, counts: np.ndarray, n_classes: int) -> None:
    bad = np.flatnonzero((values < 0) | (values >= n_classes))
    if bad.size:
        rec = int(np.searchsorted(np.cumsum(counts), bad[0], side="right"))
        raise IngestError(path, f"label {int(values[bad[0]])} outside [0, {n_classes})", record=base + rec)


def _check_frames(path: Path, base: int, b: dict[str, np.ndarray], max_frames: int, truncate: bool) -> np.ndarray:
    """Frame counts (after truncation) of a checked batch."""
    n_rgb, n_audio = b["n_rgb"], b["n_audio"]
    bad = np.flatnonzero(n_rgb != n_audio)
    if bad.size:
        j = int(bad[0])
        raise IngestError(path, f"{int(n_rgb[j])} rgb frames but {int(n_audio[j])} audio frames", record=base + j)
    if not truncate:
        bad = np.flatnonzero(n_rgb > max_frames)
        if bad.size:
            j = int(bad[0])
            raise IngestError(path, f"{int(n_rgb[j])} frames, more than {max_frames}", record=base + j)
    for key, dim in (("rgb", RGB_DIM), ("audio", AUDIO_DIM)):
        bad = np.flatnonzero(b[f"len_{key}"] != dim)
        if bad.size:
            f = int(bad[0])
            ends = np.cumsum(b[f"n_{key}"])
            j = int(np.searchsorted(ends, f, side="right"))
            t = f - (int(ends[j - 1]) if j else 0)
            raise IngestError(path, f"{key} frame {t} has {int(b[f'len_{key}'][f])} bytes, expected {dim}",
                              record=base + j)
    return np.minimum(n_rgb, max_frames)


def _shard_batches(paths: Sequence[str], parse, batch_size: int) -> tf.data.Dataset:
    """``(shard index, parsed batch)`` over several shards through ONE pipeline (creating a tf.data
    iterator costs about 0.1-0.4 s, as much as parsing a small shard); batches never span two shards.
    One shard (an ingest job's case) gets the plain read-batch-parse pipeline, whose iterator starts
    ~0.03 s sooner than the per-shard ``flat_map``."""
    if len(paths) == 1:
        tagged = tf.data.TFRecordDataset(list(paths)).batch(batch_size).map(lambda s: (tf.constant(0, tf.int64), s))
    else:
        tagged = (tf.data.Dataset.from_tensor_slices((tf.range(len(paths), dtype=tf.int64), list(paths)))
                  .flat_map(lambda i, p: tf.data.TFRecordDataset(p).batch(batch_size).map(lambda s: (i, s))))
    return tagged.map(lambda i, s: (i, parse(s)), num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def _numpy(t: tf.Tensor) -> np.ndarray:
    """A tensor's values without a copy (a read-only view that keeps the tensor alive; ``.numpy()``
    copies), strings as an object array."""
    return t.numpy() if t.dtype == tf.string else np.asarray(memoryview(t))


class _ShardJob:
    """The conversion state of one shard: its writer and checks of each parsed batch."""

    def __init__(self, path: Path, prefix: str | os.PathLike, level: str, n_classes: int, max_frames: int,
                 truncate: bool, fsync: bool, source_sha256: Future) -> None:
        self.path, self.level, self.n_classes = path, level, n_classes
        self.max_frames, self.truncate = max_frames, truncate
        self.base = self.n_truncated = 0
        self.source_sha256 = source_sha256
        self.writer = ShardWriter(prefix, level, source=path.name, fsync=fsync)
        self._strict: Iterator[tf.Tensor] | None = None  # records of the shard, read again for check_strictly
        self._strict_next = 0  # index of the record self._strict yields next

    def check_strictly(self, rows: np.ndarray) -> None:
        """Parse records ``base + rows`` (increasing) again with the strict schema (see :func:`_parse_frames`).
        Rare (records without frames; a malformed frame), so they are read again from the shard, one
        iterator per shard that only moves forward: at most one extra read of the shard."""
        if self._strict is None:
            self._strict = iter(tf.data.TFRecordDataset([str(self.path)]))
        for j in rows:
            i = self.base + int(j)
            while self._strict_next <= i:
                rec = next(self._strict)
                self._strict_next += 1
            try:
                _strict_frames(tf.expand_dims(rec, 0))
            except tf.errors.OpError as e:
                raise IngestError(self.path, f"record does not follow the schema: {_first_line(e)}", record=i) from None

    def add(self, b: dict[str, np.ndarray]) -> None:
        ids, values, counts = b["id"].tolist(), b["label_values"], b["label_counts"]
        _check_labels(self.path, self.base, values, counts, self.n_classes)
        if self.level == "video":
            bad = np.flatnonzero(~np.isfinite(b["features"]).all(axis=1))
            if bad.size:
                raise IngestError(self.path, "mean_rgb/mean_audio has a NaN or infinite value",
                                  record=self.base + int(bad[0]))
            self.writer.add(ids, values, counts, b["features"])
        else:
            doubt = (b["n_rgb"] == 0) | (b["n_audio"] == 0) | ~b["one_each"]
            if doubt.any():
                self.check_strictly(np.flatnonzero(doubt))
            kept = _check_frames(self.path, self.base, b, self.max_frames, self.truncate)
            self.n_truncated += int(np.count_nonzero(b["n_rgb"] > self.max_frames))
            self.writer.add(ids, values, counts, b["frames"], kept)
        self.base += len(ids)

    def commit(self) -> dict[str, Any]:
        self.writer.source_sha256 = self.source_sha256.result()
        return self.writer.commit({"n_truncated": self.n_truncated} if self.level == "frame" else None)


def convert_shards(tfrecord_paths: Sequence[str | os.PathLike], out_prefixes: Sequence[str | os.PathLike],
                   level: str, *, n_classes: int = N_CLASSES, max_frames: int = MAX_FRAMES, truncate: bool = False,
                   batch_size: int = DEFAULT_BATCH, fsync: bool = True) -> list[dict[str, Any]]:
    """Convert TFRecord shards to the torch-side format (see :mod:`.schema`), ``tfrecord_paths[i]`` to
    ``out_prefixes[i]``, in order and through one tf.data pipeline; returns the shard manifests.

    Frame level keeps the frames quantised (uint8, rgb then audio); a record with more than
    ``max_frames`` frames is an error unless ``truncate`` (then its first ``max_frames`` are kept and the
    manifest's ``n_truncated`` counts such records). Each shard is published atomically; at the first
    :class:`IngestError` (naming the shard and record) the bad shard leaves no output, the shards before
    it stay converted and the ones after it are not started.
    """
    check_level(level)
    paths = [Path(p) for p in tfrecord_paths]
    if len(paths) != len(out_prefixes):
        raise ValueError(f"{len(paths)} TFRecord shards but {len(out_prefixes)} output prefixes")
    for p in paths:
        if not p.is_file():
            raise IngestError(p, "TFRecord shard not found")
    parse = _parser(level, max_frames if truncate and level == "frame" else None)
    published: list[Future] = []  # commits (fsync, renames) run beside the parsing of the next shard
    job: _ShardJob | None = None
    opened = -1  # index of the shard ``job`` converts
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="yt8m-publish")
    # sha256 of the sources, in order and one shard ahead of the parsing (hashlib releases the GIL); a
    # shard the download verified is not read again: its digest is in the hash cache (io.remember_sha256)
    hasher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="yt8m-source-sha256")
    source_sha256: list[Future] = []

    def advance(to: int) -> _ShardJob:
        """Publish the open shard and open the next ones up to ``to`` (shards without records included)."""
        nonlocal job, opened
        while opened < to:
            if job is not None:
                published.append(pool.submit(job.commit))
                job = None
            for f in published:
                if f.done() and f.exception() is not None:
                    raise f.exception()
            opened += 1
            while len(source_sha256) < min(opened + 2, len(paths)):
                source_sha256.append(hasher.submit(sha256_file, paths[len(source_sha256)], cache=True))
            job = _ShardJob(paths[opened], out_prefixes[opened], level, n_classes, max_frames, truncate, fsync,
                            source_sha256[opened])
        return job

    it = iter(_shard_batches([str(p) for p in paths], parse, batch_size))
    try:
        while True:
            try:
                k, out = next(it)
            except StopIteration:
                break
            except tf.errors.OpError as exc:
                for p in paths[max(opened, 0):]:
                    err = _diagnose(p, level)
                    if err is not None:
                        raise err from None
                raise IngestError(paths[max(opened, 0)], f"TensorFlow error while reading: {_first_line(exc)}") \
                    from None
            advance(int(k)).add({name: _numpy(v) for name, v in out.items()})
        if paths:
            advance(len(paths) - 1)
            published.append(pool.submit(job.commit))
            job = None
        return [f.result() for f in published]
    finally:
        if job is not None:
            job.writer.abort()
        pool.shutdown(wait=True)  # earlier shards finish publishing (with their sources' hashes) whatever happens later
        hasher.shutdown(wait=True, cancel_futures=True)  # then no hashing of shards not converted


def convert_shard(tfrecord_path: str | os.PathLike, out_prefix: str | os.PathLike, level: str, **options: Any
                  ) -> dict[str, Any]:
    """Convert one TFRecord shard (:func:`convert_shards` with one shard; same options); returns its
    manifest. On :class:`IngestError` (naming the shard and record) nothing is written."""
    return convert_shards([tfrecord_path], [out_prefix], level, **options)[0]


# --------------------------------------------------------------------------- throughput references
@functools.lru_cache(maxsize=None)
def _floor_parse(level: str):
    """The floor's parse function, traced once per process like the converter's (:func:`_parser`)."""
    spec = tf.TensorSpec([None], tf.string)
    if level == "video":
        return tf.function(_parse_video, input_signature=[spec])

    def parse(serialized: tf.Tensor) -> dict[str, tf.Tensor]:
        ctx, seq, lengths = tf.io.parse_sequence_example(
            serialized, context_features=CONTEXT_FEATURES, sequence_features=SEQUENCE_FEATURES)
        out = {"id": ctx["id"], "labels": ctx["labels"].values}
        for key in ("rgb", "audio"):
            mask = tf.sequence_mask(lengths[key], tf.shape(seq[key])[1])
            out[key] = tf.io.decode_raw(tf.boolean_mask(seq[key], mask), tf.uint8)
        return out
    return tf.function(parse, input_signature=[spec])


def read_floor(paths: Sequence[str | os.PathLike], level: str, batch_size: int = DEFAULT_BATCH
               ) -> tuple[int, float]:
    """``(n_records, seconds)`` of tf.data merely reading and parsing the shards into uint8/float tensors
    (no checks, no output): the floor any TF-based converter can reach."""
    check_level(level)
    t0 = time.perf_counter()
    n = 0
    for out in _dataset([str(p) for p in paths], _floor_parse(level), batch_size):
        n += int(out["id"].shape[0])
    return n, time.perf_counter() - t0


def tf_batches(paths: Sequence[str | os.PathLike], level: str, n_classes: int, batch_size: int,
               max_frames: int = MAX_FRAMES) -> tf.data.Dataset:
    """tf.data batches in the torch loader's layout, for comparison: frame level
    ``((uint8 [B, max_frames, 1152] zero-padded, int64 n_frames [B]), float32 multi-hot [B, C])``,
    video level ``(float32 [B, 1152], multi-hot)``; like the official reader, but without dequantising."""
    check_level(level)

    def multi_hot(sp: tf.SparseTensor) -> tf.Tensor:
        return tf.cast(tf.sparse.to_indicator(sp, n_classes), tf.float32)

    def parse(serialized: tf.Tensor):
        if level == "video":
            f = tf.io.parse_example(serialized, VIDEO_FEATURES)
            return tf.concat([f["mean_rgb"], f["mean_audio"]], axis=1), multi_hot(f["labels"])
        ctx, seq, lengths = tf.io.parse_sequence_example(
            serialized, context_features=CONTEXT_FEATURES, sequence_features=SEQUENCE_FEATURES)
        parts = []
        for key, dim in (("rgb", RGB_DIM), ("audio", AUDIO_DIM)):
            x = tf.io.decode_raw(seq[key][:, :max_frames], tf.uint8, fixed_length=dim)
            parts.append(tf.pad(x, [[0, 0], [0, max_frames - tf.shape(x)[1]], [0, 0]]))
        n = tf.minimum(lengths["rgb"], max_frames)
        return (tf.concat(parts, axis=2), n), multi_hot(ctx["labels"])

    return _dataset([str(p) for p in paths], parse, batch_size)


# --------------------------------------------------------------------------- CLI
def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m toeplitznet.yt8m.tfrecords", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("synthesize", help="write a synthetic TFRecord shard of the official schema")
    s.add_argument("--level", choices=["video", "frame"], required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--n-videos", type=int, required=True)
    s.add_argument("--seed", type=int, required=True)
    s.add_argument("--n-classes", type=int, default=100)
    s.add_argument("--prototype-seed", type=int, default=0, help="seed of the class prototypes (shared by shards)")
    s.add_argument("--min-frames", type=int, default=SyntheticConfig.min_frames)
    s.add_argument("--max-frames", type=int, default=SyntheticConfig.max_frames)
    c = sub.add_parser("convert", help="convert TFRecord shards to the torch-side numpy format (one pipeline)")
    c.add_argument("--level", choices=["video", "frame"], required=True)
    c.add_argument("--tfrecord", nargs="+", required=True, help="shard(s) to convert, in order")
    c.add_argument("--out-prefix", nargs="+", required=True, help="one output prefix per shard")
    c.add_argument("--n-classes", type=int, default=N_CLASSES)
    c.add_argument("--max-frames", type=int, default=MAX_FRAMES)
    c.add_argument("--truncate", action="store_true", help="keep the first --max-frames frames of longer videos")
    c.add_argument("--batch-size", type=int, default=DEFAULT_BATCH)
    f = sub.add_parser("floor", help="time tf.data merely reading and parsing shards")
    f.add_argument("--level", choices=["video", "frame"], required=True)
    f.add_argument("--batch-size", type=int, default=DEFAULT_BATCH)
    f.add_argument("paths", nargs="+")
    args = ap.parse_args(argv)
    try:
        if args.cmd == "synthesize":
            cfg = SyntheticConfig(n_classes=args.n_classes, prototype_seed=args.prototype_seed,
                                  min_frames=args.min_frames, max_frames=args.max_frames)
            result = write_synthetic_shard(args.out, args.level, args.n_videos, args.seed, config=cfg)
        elif args.cmd == "convert":
            if len(args.tfrecord) != len(args.out_prefix):
                ap.error(f"{len(args.tfrecord)} --tfrecord shards but {len(args.out_prefix)} --out-prefix")
            result = convert_shards(args.tfrecord, args.out_prefix, args.level, n_classes=args.n_classes,
                                    max_frames=args.max_frames, truncate=args.truncate, batch_size=args.batch_size)
            result = result[0] if len(result) == 1 else result
        else:
            n, secs = read_floor(args.paths, args.level, args.batch_size)
            result = {"n_records": n, "seconds": secs, "records_per_s": n / secs if secs > 0 else None}
    except IngestError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
