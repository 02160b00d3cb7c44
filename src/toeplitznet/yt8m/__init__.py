"""YouTube-8M (2018 release) ingestion: TFRecord shards -> memory-mappable numpy shards -> torch batches.

TensorFlow and torch never share a process (``tests/test_envs.py``): only :mod:`.tfrecords` imports
TensorFlow, only :mod:`.loader` imports torch, and importing this package imports neither.

- :mod:`.schema`     constants of the official schema (3862 classes, 1024 rgb + 128 audio, 300 frames),
  8-bit (de)quantisation, the converted-shard file layout, :class:`~.schema.ShardFormatError` and
  :class:`~.schema.IngestError` (numpy only)
- :mod:`.synthetic`  seeded synthetic videos in the real schema with learnable label structure (numpy only)
- :mod:`.shards`     write, load and verify converted shards; merge shard manifests into a dataset manifest
  with Appendix B's train / held-out split (numpy only)
- :mod:`.tfrecords`  TFRecord writing, strict parsing with tf.data, :func:`~.tfrecords.convert_shard`,
  :func:`~.tfrecords.read_floor` and the CLI ``python -m toeplitznet.yt8m.tfrecords`` (TensorFlow only)
- :mod:`.loader`     memory-mapped torch dataset and :func:`~.loader.make_loader`, with Appendix B's
  split-halves augmentation (torch only)
"""
