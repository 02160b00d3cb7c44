"""Helpers of the YouTube-8M ingestion tests: a TensorFlow subprocess runner (pytest's process has torch,
and the two never share a process), the hand-made record contents both sides share, and a small GAP@k
(the starter code's definition, research note). Imports neither torch nor TensorFlow: the TF subprocess
imports it too."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
HAS_TF = importlib.util.find_spec("tensorflow") is not None


def run_tf(script: str, *args: str, timeout: float = 120) -> dict:
    """Run ``script`` (Python source) in a fresh interpreter with TensorFlow available; it must print one
    JSON object as its last stdout line, which is returned."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), OMP_WAIT_POLICY="PASSIVE", TF_CPP_MIN_LOG_LEVEL="2",
               CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, env=env,
                          timeout=timeout, cwd=ROOT)
    assert proc.returncode == 0, (f"TF subprocess failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n"
                                  f"{proc.stderr[-5000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def gap(scores: np.ndarray, labels: np.ndarray, k: int = 20) -> float:
    """Global average precision over the pooled top-k predictions of every video; the denominator is the
    number of ALL positives (``eval_util.py`` / ``average_precision_calculator.py`` of the starter code)."""
    k = min(k, scores.shape[1])
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    s = np.take_along_axis(scores, top, 1).ravel()
    y = np.take_along_axis(labels, top, 1).ravel()
    order = np.argsort(-s, kind="stable")
    y = y[order]
    total = labels.sum()
    if total == 0:
        return 0.0
    hits = np.cumsum(y)
    return float((hits / np.arange(1, y.size + 1))[y > 0].sum() / total)


# --------------------------------------------------------------------------- hand-made records
def known_rgb(n: int, seed: int) -> np.ndarray:
    """uint8 [n, 1024] frames with known values."""
    return ((np.arange(n)[:, None] * 7 + np.arange(1024)[None] + seed) % 256).astype(np.uint8)


def known_audio(n: int, seed: int) -> np.ndarray:
    """uint8 [n, 128] frames with known values."""
    return ((255 - np.arange(n)[:, None] * 3 - np.arange(128)[None] - seed) % 256).astype(np.uint8)


MEAN_RGB = np.linspace(-1.5, 1.5, 1024, dtype=np.float32)
MEAN_AUDIO = (np.arange(128, dtype=np.float32) / 64 - 1).astype(np.float32)
#: (id, labels, frames) of the hand-made frame-level shard; record k uses known_*(frames, k)
FRAME_RECORDS = [("abcd", [3, 17], 2), ("Zz09", [], 5), ("q", [3861], 1), ("long", [0], 300)]
#: (id, labels, shift) of the hand-made video-level shard: mean_rgb = MEAN_RGB + shift, audio * (shift + 1)
VIDEO_RECORDS = [("abcd", [3, 17], 0), ("Zz09", [], 1), ("q", [3861, 5, 2], 2)]
#: synthetic world of the TFRecord tests
SYN = dict(n_classes=40, min_frames=2, max_frames=12)
