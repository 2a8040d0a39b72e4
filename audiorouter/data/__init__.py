"""Audio-QA data: the stored items (``items``: Parquet shards per split, the reject log),
audio decoding (``audio_io``), the built-in perception suite (``synth/``), importers of
public benchmarks and the write-back of predictions for their scripts (``importers/``).

Imports ``config``, ``contracts`` and ``validation`` only.
"""
