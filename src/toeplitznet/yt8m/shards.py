"""Converted YouTube-8M shards: atomic writing, loading with verification, dataset manifests (numpy only).

The on-disk layout is described in :mod:`.schema`. :class:`ShardWriter` streams the raw data file (so
a shard is never held twice in memory) into a private temporary folder beside the destination, hashing
each batch as it writes it (the file is never read back), and publishes the shard with renames, the
manifest last: a failed or interrupted conversion leaves no output, and a shard without its ``.json`` is
not a shard. :func:`load_shard` memory-maps a shard and checks it (sha256 of every whole file against the
manifest, file size, shapes, dtypes, offsets), raising :class:`~.schema.ShardFormatError` naming the file.
:func:`merge_manifests` gathers shard manifests into a dataset manifest with Appendix B's split
(:class:`SplitRule`).
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import io
import os
import re
import shutil
import tempfile
import zipfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from ..io import DirectAppender, dump_json, fsync_dir, read_json, remember_sha256, sha256_file
from .schema import (AUDIO_DIM, FEATURE_DIM, FORMAT_VERSION, MAX_FRAMES, RGB_DIM, ShardFormatError,
                     check_level, shard_paths)

__all__ = ["ShardWriter", "write_videos", "Shard", "load_shard", "SplitRule", "merge_manifests"]

_DTYPE = {"frame": np.dtype(np.uint8), "video": np.dtype("<f4")}
_INDEX_KEYS = {"frame": {"frame_offsets", "label_offsets", "labels", "ids"},
               "video": {"label_offsets", "labels", "ids"}}


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _DataStream:
    """Append rows to a raw data file (C order, no header: the manifest records dtype and shape), hashing
    them as they are written, so the file's sha256 is known when it is closed without reading it back.

    Hashing and writing run in two helper threads (hashlib and file writes release the GIL), each taking
    the batches in order, while the caller prepares the next rows; up to ``depth`` batches may wait, so
    that neither the caller nor the two threads stall on each other's slowest batch. The caller must not
    modify a batch it handed over (the converter hands over arrays that TensorFlow made for this batch).
    The file is written past the page cache (:class:`~toeplitznet.io.DirectAppender`, O_DIRECT where the
    file system has it): a converted dataset is not read back soon, and filling the cache with it cost the
    converter a third more CPU on the reference machine (docs/youtube8m.md, Benchmarks)."""

    def __init__(self, path: Path, dtype: np.dtype, width: int, depth: int = 4, fsync: bool = True) -> None:
        self.path, self.dtype, self.width, self.depth, self.fsync = path, np.dtype(dtype), width, depth, fsync
        self.rows = self.nbytes = 0
        self._fh = open(path, "xb", buffering=0)
        self._out = DirectAppender(self._fh.fileno())
        self._sha256 = hashlib.sha256()
        self._hasher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="shard-sha256")
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="shard-writer")
        self._pending: collections.deque[Future] = collections.deque()  # hash and write of each batch

    def _wait(self, keep: int = 0) -> None:
        """Wait until at most ``keep`` batches are in flight (the first error is raised)."""
        while len(self._pending) > 2 * keep:
            self._pending.popleft().result()

    def _put(self, buf: memoryview) -> None:
        self._out.write(buf)

    def write(self, rows: np.ndarray) -> None:
        if rows.dtype != self.dtype or rows.ndim != 2 or rows.shape[1] != self.width:
            raise ValueError(f"{self.path}: expected {self.dtype} rows of width {self.width}, "
                             f"got {rows.dtype} {rows.shape}")
        if rows.shape[0] == 0:
            return
        self._wait(self.depth - 1)
        buf = memoryview(np.ascontiguousarray(rows)).cast("B")
        self._pending.append(self._hasher.submit(self._sha256.update, buf))
        self._pending.append(self._writer.submit(self._put, buf))
        self.rows += rows.shape[0]
        self.nbytes += buf.nbytes

    def _stop(self) -> None:
        self._hasher.shutdown()
        self._writer.shutdown()

    def close(self) -> str:
        """Finish the writes (and fsync unless made with ``fsync=False``); returns the sha256 of the file."""
        try:
            self._wait()
        finally:
            self._stop()
        self._out.finish()
        if self.fsync:
            os.fsync(self._fh.fileno())
        self._fh.close()
        return self._sha256.hexdigest()

    def discard(self) -> None:
        self._pending.clear()
        self._stop()  # waits for the batches already started; the staged tail is dropped with the file
        self._fh.close()


class ShardWriter:
    """Write one converted shard ``prefix`` of ``level`` atomically.

    Call :meth:`add` with consecutive batches of records, then :meth:`commit` (returns the manifest);
    as a context manager, an exception aborts (the temporary folder is removed, nothing is published).
    Labels come flat (``label_values``, int) with one count per record; at frame level ``data`` holds
    the records' frames back to back (uint8 [sum n_frames, 1152]) and ``n_frames`` their counts; at video
    level ``data`` is float32 [n, 1152]. Checking labels against the vocabulary is the caller's job.
    """

    def __init__(self, prefix: str | os.PathLike, level: str, *, source: str, source_sha256: str | None = None,
                 fsync: bool = True) -> None:
        self.level = check_level(level)
        self.paths = shard_paths(prefix, level)
        self.source, self.source_sha256, self.fsync = source, source_sha256, fsync
        parent = self.paths["manifest"].parent
        parent.mkdir(parents=True, exist_ok=True)
        self._tmp = Path(tempfile.mkdtemp(prefix=f".{self.paths['manifest'].stem}.", suffix=".tmp", dir=parent))
        self._data = _DataStream(self._tmp / self.paths["data"].name, _DTYPE[level], FEATURE_DIM, fsync=fsync)
        self._ids: list[bytes] = []
        self._labels: list[np.ndarray] = []
        self._label_counts: list[np.ndarray] = []
        self._frame_counts: list[np.ndarray] = []
        self._done = False

    def __enter__(self) -> "ShardWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None or not self._done:
            self.abort()

    def add(self, ids: Sequence[bytes | str], label_values: np.ndarray, label_counts: np.ndarray,
            data: np.ndarray, n_frames: np.ndarray | None = None) -> None:
        """Append ``len(ids)`` records (see the class docstring for the layout)."""
        n = len(ids)
        counts = np.asarray(label_counts, dtype=np.int64).reshape(-1)
        values = np.asarray(label_values).reshape(-1)
        if counts.shape[0] != n or int(counts.sum()) != values.shape[0]:
            raise ValueError(f"{n} records but {counts.shape[0]} label counts summing to {int(counts.sum())} "
                             f"for {values.shape[0]} labels")
        if self.level == "frame":
            if n_frames is None:
                raise ValueError("frame level needs n_frames")
            nf = np.asarray(n_frames, dtype=np.int64).reshape(-1)
            if nf.shape[0] != n or int(nf.sum()) != data.shape[0]:
                raise ValueError(f"{n} records with {int(nf.sum())} frames but {data.shape[0]} rows of data")
            self._frame_counts.append(nf)
        elif data.shape[0] != n:
            raise ValueError(f"{n} records but {data.shape[0]} rows of data")
        self._data.write(data)
        self._ids.extend(i.encode("utf-8") if isinstance(i, str) else bytes(i) for i in ids)
        self._labels.append(values.astype(np.int32))
        self._label_counts.append(counts)

    def commit(self, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Close the files, write the manifest (with the sha256 of each file, computed while writing it)
        and publish the shard; returns the manifest."""
        try:
            data_sha256 = self._data.close()
            data_stat = os.stat(self._data.path)
            labels = np.concatenate(self._labels) if self._labels else np.zeros(0, np.int32)
            index = {"label_offsets": _offsets(self._label_counts), "labels": labels,
                     "ids": np.array(self._ids, dtype=f"S{max([1, *map(len, self._ids)])}")}
            if self.level == "frame":
                index["frame_offsets"] = _offsets(self._frame_counts)
            index_bytes = _npz_bytes(index)
            (self._tmp / self.paths["index"].name).write_bytes(index_bytes)
            manifest: dict[str, Any] = {
                "format_version": FORMAT_VERSION, "level": self.level, "source": self.source,
                "source_sha256": self.source_sha256, "n_records": len(self._ids)}
            if self.level == "frame":
                manifest["n_frames"] = self._data.rows
            manifest["n_labels"] = int(labels.shape[0])
            manifest["max_label"] = int(labels.max()) if labels.size else None
            manifest.update(extra or {})
            manifest["data"] = {"dtype": np.lib.format.dtype_to_descr(self._data.dtype),
                                "shape": [self._data.rows, self._data.width]}
            manifest["files"] = {self.paths["data"].name: data_sha256,
                                 self.paths["index"].name: hashlib.sha256(index_bytes).hexdigest()}
            (self._tmp / self.paths["manifest"].name).write_text(dump_json(manifest))
            if self.fsync:
                for k in ("index", "manifest"):
                    _fsync_file(self._tmp / self.paths[k].name)
            self.paths["manifest"].unlink(missing_ok=True)  # an old shard stops being one first
            for k in ("data", "index", "manifest"):
                os.replace(self._tmp / self.paths[k].name, self.paths[k])
            if self.fsync:
                fsync_dir(self.paths["manifest"].parent)
            # the provenance sidecar and load_shard(verify=True) then take the digest from the hash cache
            remember_sha256(self.paths["data"], data_sha256, before=data_stat)
        except BaseException:
            self.abort()
            raise
        self._done = True
        shutil.rmtree(self._tmp, ignore_errors=True)
        return manifest

    def abort(self) -> None:
        """Drop everything written so far (published files of an earlier shard are left alone)."""
        with contextlib.suppress(OSError):
            self._data.discard()
        shutil.rmtree(self._tmp, ignore_errors=True)


def _npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    """``np.savez``'s layout (one stored ``<name>.npy`` member per array) with a fixed member timestamp:
    equal arrays give equal bytes (``np.savez`` stamps members with the current time)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name in sorted(arrays):
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            with zf.open(info, "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, np.asarray(arrays[name]), allow_pickle=False)
    return buf.getvalue()


def _offsets(counts: list[np.ndarray]) -> np.ndarray:
    out = np.zeros(1 + sum(c.shape[0] for c in counts), dtype=np.int64)
    if counts:
        np.cumsum(np.concatenate(counts), out=out[1:])
    return out


def write_videos(prefix: str | os.PathLike, level: str, videos: Iterable[Any], *, source: str,
                 source_sha256: str | None = None, batch: int = 256, fsync: bool = True) -> dict[str, Any]:
    """Write videos (objects with ``id``, ``labels``, ``rgb``/``audio`` uint8 frames, ``mean_rgb``/
    ``mean_audio``, e.g. :class:`~.synthetic.SyntheticVideo`) directly as a converted shard, without
    TFRecords; the same bytes :func:`~.tfrecords.convert_shard` writes for the same videos."""
    with ShardWriter(prefix, level, source=source, source_sha256=source_sha256, fsync=fsync) as w:
        chunk: list[Any] = []
        for v in videos:
            chunk.append(v)
            if len(chunk) == batch:
                _add_videos(w, chunk)
                chunk = []
        if chunk:
            _add_videos(w, chunk)
        return w.commit({"n_truncated": 0} if level == "frame" else None)


def _add_videos(w: ShardWriter, videos: list[Any]) -> None:
    ids = [v.id for v in videos]
    labels = [np.asarray(v.labels, dtype=np.int64) for v in videos]
    values = np.concatenate(labels) if labels else np.zeros(0, np.int64)
    counts = np.array([len(x) for x in labels], dtype=np.int64)
    if w.level == "video":
        data = np.concatenate([np.concatenate([v.mean_rgb, v.mean_audio])[None] for v in videos]).astype("<f4")
        w.add(ids, values, counts, data)
    else:
        for v in videos:
            if not v.rgb.shape[0] == v.audio.shape[0] <= MAX_FRAMES:
                raise ValueError(f"video {v.id}: {v.rgb.shape[0]} rgb and {v.audio.shape[0]} audio frames "
                                 f"(need equal counts <= {MAX_FRAMES})")
        frames = np.concatenate([np.concatenate([v.rgb, v.audio], axis=1) for v in videos])
        w.add(ids, values, counts, frames, np.array([v.rgb.shape[0] for v in videos], dtype=np.int64))


# --------------------------------------------------------------------------- reading
@dataclass(frozen=True)
class Shard:
    """A loaded converted shard: ``data`` (memory-mapped uint8 frames or float32 video features), the
    sparse ``labels`` with ``label_offsets``, ``ids`` and, at frame level, ``frame_offsets``."""

    prefix: str
    level: str
    manifest: dict[str, Any]
    data: np.ndarray
    label_offsets: np.ndarray
    labels: np.ndarray
    ids: np.ndarray
    frame_offsets: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def labels_of(self, i: int) -> np.ndarray:
        return self.labels[self.label_offsets[i]:self.label_offsets[i + 1]]

    def frames_of(self, i: int) -> np.ndarray:
        """uint8 [n_i, 1152] frames of record ``i`` (frame level)."""
        if self.frame_offsets is None:
            raise ValueError(f"{self.prefix}: a video-level shard has no frames")
        return self.data[self.frame_offsets[i]:self.frame_offsets[i + 1]]


def _load_manifest(path: Path) -> dict[str, Any]:
    try:
        m = read_json(path)
    except FileNotFoundError:
        raise ShardFormatError(path, "shard manifest is missing (conversion not finished?)") from None
    except (OSError, ValueError) as exc:
        raise ShardFormatError(path, f"unreadable shard manifest ({exc})") from None
    if not isinstance(m, dict):
        raise ShardFormatError(path, "shard manifest is not a JSON object")
    if m.get("format_version") != FORMAT_VERSION:
        raise ShardFormatError(path, f"format_version {m.get('format_version')!r}, expected {FORMAT_VERSION}")
    for key in ("level", "n_records", "n_labels", "files"):
        if key not in m:
            raise ShardFormatError(path, f"shard manifest has no {key!r}")
    return m


def load_shard(prefix: str | os.PathLike, verify: bool = True, level: str | None = None) -> Shard:
    """Open the converted shard ``prefix`` (data memory-mapped read-only).

    Always checks structure (files present, the data file's dtype, shape and size, offsets, counts
    against the manifest); with ``verify`` also the sha256 of each whole file against the manifest (the
    digest ``sha256sum`` prints). Raises :class:`ShardFormatError`.
    """
    prefix = os.fspath(prefix)
    mpath = Path(prefix + ".json")
    m = _load_manifest(mpath)
    if m["level"] not in _DTYPE or (level is not None and m["level"] != level):
        raise ShardFormatError(mpath, f"level {m['level']!r}" + (f", expected {level!r}" if level else ""))
    lvl = m["level"]
    paths = shard_paths(prefix, lvl)
    expected = {paths["data"].name, paths["index"].name}
    if set(m["files"]) != expected:
        raise ShardFormatError(mpath, f"manifest lists files {sorted(m['files'])}, expected {sorted(expected)}")
    for k in ("data", "index"):
        p = paths[k]
        if not p.is_file():
            raise ShardFormatError(p, "file is missing")
        if verify and sha256_file(p) != m["files"][p.name]:
            raise ShardFormatError(p, f"sha256 differs from the one in {mpath.name} (file modified or damaged)")
    data = _open_data(paths["data"], lvl, m)
    try:
        with np.load(paths["index"], allow_pickle=False) as z:
            index = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
        raise ShardFormatError(paths["index"], f"not a readable .npz archive ({exc})") from None
    _check(paths, lvl, m, data, index)
    return Shard(prefix=prefix, level=lvl, manifest=m, data=data, label_offsets=index["label_offsets"],
                 labels=index["labels"], ids=index["ids"], frame_offsets=index.get("frame_offsets"))


def _open_data(path: Path, level: str, m: dict) -> np.ndarray:
    """Memory-map the raw data file after checking its layout in the manifest and its size."""
    dtype = _DTYPE[level]
    rows = int(m["n_frames"]) if level == "frame" else int(m["n_records"])
    want = {"dtype": np.lib.format.dtype_to_descr(dtype), "shape": [rows, FEATURE_DIM]}
    expected = f"expected {dtype} [{rows}, {FEATURE_DIM}] (= {RGB_DIM} rgb + {AUDIO_DIM} audio)"
    if m.get("data") != want:
        raise ShardFormatError(path, f"{expected}, the manifest's data layout is {m.get('data')!r}")
    size, want_size = path.stat().st_size, rows * FEATURE_DIM * dtype.itemsize
    if size != want_size:
        raise ShardFormatError(path, f"{expected} = {want_size} bytes, the file has {size}")
    if rows == 0:  # an empty file cannot be mapped
        data = np.zeros((0, FEATURE_DIM), dtype)
        data.flags.writeable = False
        return data
    try:
        return np.memmap(path, dtype=dtype, mode="r", shape=(rows, FEATURE_DIM))
    except (OSError, ValueError) as exc:
        raise ShardFormatError(path, f"cannot memory-map the data file ({exc})") from None


def _check_offsets(path: Path, name: str, off: np.ndarray, n: int, total: int) -> None:
    if off.dtype != np.int64 or off.shape != (n + 1,):
        raise ShardFormatError(path, f"{name} must be int64 [{n + 1}], got {off.dtype} {list(off.shape)}")
    if off[0] != 0 or off[-1] != total or np.any(np.diff(off) < 0):
        raise ShardFormatError(path, f"{name} must rise from 0 to {total}")


def _check(paths: dict[str, Path], level: str, m: dict, data: np.ndarray, index: dict[str, np.ndarray]) -> None:
    ipath = paths["index"]
    if set(index) != _INDEX_KEYS[level]:
        raise ShardFormatError(ipath, f"arrays {sorted(index)}, expected {sorted(_INDEX_KEYS[level])}")
    n = int(m["n_records"])
    ids, labels = index["ids"], index["labels"]
    if ids.dtype.kind != "S" or ids.shape != (n,):
        raise ShardFormatError(ipath, f"ids must be fixed-width bytes [{n}], got {ids.dtype} {list(ids.shape)}")
    if labels.dtype != np.int32 or labels.ndim != 1 or labels.shape[0] != m["n_labels"]:
        raise ShardFormatError(ipath, f"labels must be int32 [{m['n_labels']}], got {labels.dtype} "
                                      f"{list(labels.shape)}")
    _check_offsets(ipath, "label_offsets", index["label_offsets"], n, labels.shape[0])
    if labels.size and (labels.min() < 0 or labels.max() != m.get("max_label")):
        raise ShardFormatError(ipath, f"labels span [{labels.min()}, {labels.max()}], manifest says max_label "
                                      f"{m.get('max_label')}")
    if level == "frame":  # the data's dtype and shape were checked by _open_data
        _check_offsets(ipath, "frame_offsets", index["frame_offsets"], n, data.shape[0])


# --------------------------------------------------------------------------- dataset manifest
_SOURCE_RE = re.compile(r"(train|validate|test)(\d{4})(\..*)?")


@dataclass(frozen=True)
class SplitRule:
    """Which partition a shard belongs to, from its source name ``{split}{0000..3843}.tfrecord``.

    Appendix B trains on all of ``train`` plus part of ``validate`` and evaluates on the rest. The thesis
    says "70 % of the validation set", but its training-set size 4,822,555 = 3,888,919 (train) + 933,636,
    i.e. 83.9 % of validate's 1,112,356 = 52/62 of its shards: the files matched by the author's README
    glob ``validate[A-Za-z]*``, which after the local renaming (``validateXY`` -> index of XY in
    ``a-z A-Z 0-9``) are ``validate0000``..``validate3223``. We follow the count, not the sentence:
    by default validate shards with index < ``validate_train_shards`` = 3224 go to ``"train"`` and
    ``validate3224``..``3843`` (about 178.7K videos) to ``"heldout"``; ``test`` shards go to ``"test"``.
    """

    validate_train_shards: int = 3224

    def partition(self, source: str) -> str:
        m = _SOURCE_RE.fullmatch(Path(source).name)
        if not m:
            raise ValueError(f"{source}: shard source name must look like train0000.tfrecord / "
                             "validate0123.tfrecord / test0042.tfrecord")
        split, idx = m.group(1), int(m.group(2))
        if split == "validate":
            return "train" if idx < self.validate_train_shards else "heldout"
        return split


def merge_manifests(shard_jsons: Iterable[str | os.PathLike], split_rule: SplitRule | int | None = None
                    ) -> dict[str, Any]:
    """Dataset manifest of converted shards (their ``.json`` paths): per-shard counts and hashes, the
    partition of each (:class:`SplitRule`, or its ``validate_train_shards`` as an int) and per-partition
    totals. All shards must share one level; a source may appear once."""
    rule = SplitRule(split_rule) if isinstance(split_rule, int) else (split_rule or SplitRule())
    shards, levels, seen = [], set(), {}
    for jp in shard_jsons:
        jp = Path(jp)
        m = _load_manifest(jp)
        levels.add(m["level"])
        if m.get("source") in seen:
            raise ValueError(f"{jp}: source {m.get('source')!r} already converted in {seen[m.get('source')]}")
        seen[m.get("source")] = jp
        try:
            part = rule.partition(str(m.get("source")))
        except ValueError as exc:
            raise ShardFormatError(jp, str(exc)) from None
        shards.append({"manifest": str(jp), "manifest_sha256": sha256_file(jp, cache=False),
                       "prefix": str(jp)[:-len(".json")], "source": m.get("source"),
                       "source_sha256": m.get("source_sha256"), "partition": part,
                       "n_records": m["n_records"], "n_frames": m.get("n_frames"), "n_labels": m["n_labels"],
                       "max_label": m.get("max_label"), "files": m["files"]})
    if len(levels) > 1:
        raise ValueError(f"shards of several levels: {sorted(levels)}")
    shards.sort(key=lambda s: str(s["source"]))
    parts: dict[str, dict[str, Any]] = {}
    for s in shards:
        p = parts.setdefault(s["partition"], {"n_shards": 0, "n_records": 0, "n_frames": 0, "n_labels": 0})
        p["n_shards"] += 1
        for k in ("n_records", "n_frames", "n_labels"):
            p[k] += s[k] or 0
    labels = [s["max_label"] for s in shards if s["max_label"] is not None]
    return {"format_version": FORMAT_VERSION, "level": levels.pop() if levels else None,
            "split_rule": {"validate_train_shards": rule.validate_train_shards},
            "n_shards": len(shards), "n_records": sum(s["n_records"] for s in shards),
            "max_label": max(labels) if labels else None, "partitions": parts, "shards": shards}
