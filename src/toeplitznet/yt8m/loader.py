"""Torch datasets and loaders over converted YouTube-8M shards (torch only; never TensorFlow).

Batches have a fixed layout that the models rely on (they dequantise on the device themselves):

* frame level: ``((frames uint8 [B, T, 1152] zero-padded, n_frames int64 [B]), labels float32 [B, C])``
  with ``T = max_frames`` (300), or ``ceil(max_frames / 2)`` (150) with ``split_halves``;
* video level: ``(x float32 [B, 1152], labels float32 [B, C])`` (mean_rgb then mean_audio);

``labels`` is multi-hot over ``n_classes``. Shards are memory-mapped (:func:`~.shards.load_shard`), so
workers share the page cache and a batch costs one contiguous copy per example.

Appendix B's augmentation (``split_halves``, training only; ``youtube8m-circulant`` README flags): each
video, truncated to ``max_frames``, is split at ``ceil(n/2)`` into two examples, frames
``[0, ceil(n/2))`` and ``[ceil(n/2), n)``, each with the video's labels. A one-frame video gives one
example (its empty second half is dropped), a video without frames one empty example.
"""

from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np
import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler

from .schema import FEATURE_DIM, MAX_FRAMES, ShardFormatError, check_level
from .shards import Shard, load_shard

__all__ = ["YT8MDataset", "collate", "make_loader"]


class YT8MDataset(Dataset):
    """Examples of converted shards ``prefixes`` (see the module docstring for the layout).

    ``dataset[i]`` is one example; ``dataset[list_of_indices]`` a whole batch, gathered without a
    Python loop over frames (what :func:`make_loader` uses). Shards are opened lazily in each process,
    so the dataset pickles cheaply to DataLoader workers.
    """

    def __init__(self, prefixes: Sequence[str | os.PathLike], level: str, n_classes: int, *,
                 split_halves: bool = False, max_frames: int = MAX_FRAMES, verify: bool = True) -> None:
        self.level = check_level(level)
        if split_halves and level != "frame":
            raise ValueError("split_halves is a frame-level augmentation")
        if max_frames < 1:
            raise ValueError(f"max_frames must be >= 1, got {max_frames}")
        self.prefixes = [os.fspath(p) for p in prefixes]
        self.n_classes, self.split_halves, self.max_frames = int(n_classes), bool(split_halves), int(max_frames)
        self.width = (max_frames + 1) // 2 if split_halves else max_frames
        shards = [load_shard(p, verify=verify, level=level) for p in self.prefixes]
        self._shards: list[Shard] | None = shards
        label_counts, labels, ex, n_before = [], [], [], 0
        for s_idx, sh in enumerate(shards):
            if sh.labels.size and int(sh.labels.max()) >= n_classes:
                raise ShardFormatError(sh.prefix + ".json", f"label {int(sh.labels.max())} >= n_classes "
                                                             f"{n_classes}")
            label_counts.append(np.diff(sh.label_offsets))
            labels.append(sh.labels)
            ex.append(self._examples(s_idx, sh, n_before))
            n_before += len(sh)
        counts = np.concatenate(label_counts) if label_counts else np.zeros(0, np.int64)
        self._label_offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self._labels = np.concatenate(labels).astype(np.int64) if labels else np.zeros(0, np.int64)
        table = np.concatenate(ex, axis=1) if ex else np.zeros((4, 0), np.int64)
        # rows: shard index, global record index, first frame (absolute in the shard; row at video level), length
        self._shard_of, self._record_of, self._start, self._length = table

    def _examples(self, s_idx: int, sh: Shard, n_before: int) -> np.ndarray:
        n = len(sh)
        record = n_before + np.arange(n, dtype=np.int64)
        if self.level == "video":
            return np.stack([np.full(n, s_idx), record, np.arange(n), np.ones(n, np.int64)]).astype(np.int64)
        start = sh.frame_offsets[:-1]
        length = np.minimum(np.diff(sh.frame_offsets), self.max_frames)
        if not self.split_halves:
            return np.stack([np.full(n, s_idx), record, start, length]).astype(np.int64)
        first = (length + 1) // 2
        rows = np.stack([np.full(2 * n, s_idx), np.repeat(record, 2),
                         np.stack([start, start + first], 1).reshape(-1),
                         np.stack([first, length - first], 1).reshape(-1)]).astype(np.int64)
        keep = (rows[3] > 0) | (np.arange(2 * n) % 2 == 0)  # drop only empty second halves
        return rows[:, keep]

    # -- pickling: reopen the memory maps in each worker instead of copying them
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_shards"] = None
        return state

    @property
    def shards(self) -> list[Shard]:
        if self._shards is None:
            self._shards = [load_shard(p, verify=False, level=self.level) for p in self.prefixes]
        return self._shards

    def __len__(self) -> int:
        return int(self._record_of.shape[0])

    def __getitem__(self, index):
        if isinstance(index, (int, np.integer)):
            x, y = self.batch([int(index)])
            if self.level == "video":
                return x[0], y[0]
            return (x[0][0], x[1][0]), y[0]
        return self.batch(index)

    def multi_hot(self, records: np.ndarray) -> np.ndarray:
        """float32 [len(records), n_classes] multi-hot labels of global record indices."""
        lo = self._label_offsets[records]
        cnt = self._label_offsets[records + 1] - lo
        y = np.zeros((records.shape[0], self.n_classes), np.float32)
        total = int(cnt.sum())
        if total:
            rows = np.repeat(np.arange(records.shape[0]), cnt)
            pos = np.repeat(lo - (np.cumsum(cnt) - cnt), cnt) + np.arange(total)
            y[rows, self._labels[pos]] = 1.0
        return y

    def batch(self, indices: Sequence[int] | np.ndarray):
        """The batch of examples ``indices`` in the module's layout (torch tensors sharing numpy memory)."""
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        if idx.size and (idx.min() < -len(self) or idx.max() >= len(self)):
            raise IndexError(f"example index out of range for {len(self)} examples")
        shard_of, start, length = self._shard_of[idx], self._start[idx], self._length[idx]
        y = torch.from_numpy(self.multi_hot(self._record_of[idx]))
        shards = self.shards
        if self.level == "video":
            x = np.empty((idx.shape[0], FEATURE_DIM), np.float32)
            for s in np.unique(shard_of).tolist():
                sel = np.flatnonzero(shard_of == s)
                x[sel] = shards[s].data[start[sel]]
            return torch.from_numpy(x), y
        frames = np.zeros((idx.shape[0], self.width, FEATURE_DIM), np.uint8)
        for j, (s, a, n) in enumerate(zip(shard_of.tolist(), start.tolist(), length.tolist())):
            frames[j, :n] = shards[s].data[a:a + n]
        return (torch.from_numpy(frames), torch.from_numpy(length.copy())), y


def collate(examples: Sequence[Any]):
    """Stack single examples (``dataset[i]``) into a batch of the same layout as :meth:`YT8MDataset.batch`."""
    if isinstance(examples[0][0], tuple):
        return ((torch.stack([e[0][0] for e in examples]), torch.stack([e[0][1] for e in examples])),
                torch.stack([e[1] for e in examples]))
    return torch.stack([e[0] for e in examples]), torch.stack([e[1] for e in examples])


def make_loader(prefixes: Sequence[str | os.PathLike], level: str, n_classes: int, batch_size: int, *,
                shuffle: bool = False, seed: int = 0, split_halves: bool = False, max_frames: int = MAX_FRAMES,
                num_workers: int = 0, drop_last: bool = False, verify: bool = True) -> DataLoader:
    """A DataLoader of whole batches (:meth:`YT8MDataset.batch`); the order is a function of ``seed``."""
    ds = YT8MDataset(prefixes, level, n_classes, split_halves=split_halves, max_frames=max_frames, verify=verify)
    if shuffle:
        sampler = RandomSampler(ds, generator=torch.Generator().manual_seed(int(seed)))
    else:
        sampler = SequentialSampler(ds)
    return DataLoader(ds, sampler=BatchSampler(sampler, batch_size, drop_last), batch_size=None,
                      num_workers=num_workers, persistent_workers=num_workers > 0)
