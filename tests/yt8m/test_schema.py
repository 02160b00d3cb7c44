"""YouTube-8M schema constants, 8-bit (de)quantisation and the synthetic generator (numpy only)."""

import numpy as np
import pytest
from yt8m_helpers import gap

from toeplitznet.yt8m import schema
from toeplitznet.yt8m.schema import dequantize, quantize
from toeplitznet.yt8m.synthetic import SyntheticConfig, class_frequencies, generate


def test_constants():
    assert (schema.N_CLASSES, schema.RGB_DIM, schema.AUDIO_DIM, schema.FEATURE_DIM, schema.MAX_FRAMES) == \
        (3862, 1024, 128, 1152, 300)
    assert (schema.QUANT_MIN, schema.QUANT_MAX) == (-2.0, 2.0)


def test_dequantize_by_hand():
    # x = q * 4/255 + 4/512 - 2: bias 4/512 - 2 = -1.9921875; q = 255 -> 4 - 1.9921875 = 2.0078125
    x = dequantize(np.array([0, 1, 128, 255], np.uint8))
    assert x.dtype == np.float32
    np.testing.assert_allclose(x, [-1.9921875, 4 / 255 - 1.9921875, 128 * 4 / 255 - 1.9921875, 2.0078125],
                               rtol=0, atol=1e-6)
    assert x[0] == np.float32(-1.9921875) and x[-1] == np.float32(2.0078125)


def test_quantize_clips_and_rounds():
    q = quantize(np.array([-5.0, -2.0, 0.0, 2.0, 7.0, -2 + 4 / 255 * 0.49, -2 + 4 / 255 * 0.51]))
    assert q.dtype == np.uint8
    assert q.tolist() == [0, 0, 128, 255, 255, 0, 1]  # 0 -> round(127.5) = 128 (half to even)


def test_round_trip():
    q = np.arange(256, dtype=np.uint8)
    assert np.array_equal(quantize(dequantize(q)), q)
    x = np.random.default_rng(0).uniform(-2, 2, 10000)
    assert np.abs(dequantize(quantize(x)) - x).max() <= 2 / 255 + 4 / 512 + 1e-6


def test_errors_name_the_file():
    e = schema.ShardFormatError("/a/b.npy", "sha256 differs")
    assert isinstance(e, ValueError) and str(e) == "/a/b.npy: sha256 differs"
    e = schema.IngestError("train0001.tfrecord", "bad", record=7)
    assert str(e) == "train0001.tfrecord: record 7: bad" and e.record == 7
    assert schema.shard_paths("out/x.y", "frame")["data"].name == "x.y.frame.bin"


def test_synthetic_schema_and_determinism():
    cfg = SyntheticConfig(n_classes=20, min_frames=3, max_frames=12)
    a, b = list(generate(30, 5, cfg)), list(generate(30, 5, cfg))
    c = list(generate(30, 6, cfg))
    assert [v.id for v in a] == [v.id for v in b] and [v.id for v in a] != [v.id for v in c]
    assert len({v.id for v in a}) == 30
    for v, w in zip(a, b):
        assert len(v.id) == 4 and v.id.isalnum()
        assert np.array_equal(v.rgb, w.rgb) and np.array_equal(v.labels, w.labels)
        assert v.rgb.dtype == np.uint8 and v.rgb.shape == (v.n_frames, 1024) and v.audio.shape == (v.n_frames, 128)
        assert 3 <= v.n_frames <= 12 and 1 <= len(v.labels) <= 4 and len(set(v.labels.tolist())) == len(v.labels)
        assert v.labels.min() >= 0 and v.labels.max() < 20
        np.testing.assert_allclose(v.mean_rgb, dequantize(v.rgb).mean(0), atol=1e-6)
        assert v.mean_rgb.dtype == np.float32 and v.mean_audio.shape == (128,)
    p = class_frequencies(100)
    assert p.sum() == pytest.approx(1) and p[0] / p[9] == pytest.approx(10)


def _centroid_scores(x_tr, y_tr, x_te):
    m = x_tr.mean(0)
    mu = (y_tr.T @ (x_tr - m)) / np.maximum(y_tr.sum(0), 1)[:, None]
    mu /= np.linalg.norm(mu, axis=1, keepdims=True) + 1e-9
    return (x_te - m) @ mu.T


def test_synthetic_labels_are_learnable():
    cfg = SyntheticConfig(n_classes=30, min_frames=5, max_frames=20)
    videos = list(generate(900, 1, cfg))
    x = np.stack([np.concatenate([v.mean_rgb, v.mean_audio]) for v in videos])
    y = np.zeros((len(videos), 30), np.float32)
    for i, v in enumerate(videos):
        y[i, v.labels] = 1
    tr, te = slice(0, 600), slice(600, None)
    learned = gap(_centroid_scores(x[tr], y[tr], x[te]), y[te])
    shuffled = gap(_centroid_scores(x[tr], y[tr][np.random.default_rng(0).permutation(600)], x[te]), y[te])
    assert learned > 0.8, learned
    assert shuffled < 0.5 and learned > shuffled + 0.4, (learned, shuffled)
    # shards drawn with another seed share the prototypes: a model learnt on seed 1 transfers to seed 2
    other = list(generate(200, 2, cfg))
    x2 = np.stack([np.concatenate([v.mean_rgb, v.mean_audio]) for v in other])
    y2 = np.zeros((200, 30), np.float32)
    for i, v in enumerate(other):
        y2[i, v.labels] = 1
    assert gap(_centroid_scores(x[tr], y[tr], x2), y2) > 0.8


def test_gap_worked_example():
    # research note: A [0.9, 0.6, 0.1] / [1, 0, 1], B [0.8, 0.7, 0.3] / [0, 1, 0]
    s = np.array([[0.9, 0.6, 0.1], [0.8, 0.7, 0.3]])
    y = np.array([[1, 0, 1], [0, 1, 0]])
    assert gap(s, y) == pytest.approx(13 / 18) and gap(s, y, k=2) == pytest.approx(5 / 9)
