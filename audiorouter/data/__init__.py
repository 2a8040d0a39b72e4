"""Audio-QA data: stored items (``items``), audio decoding (``audio_io``), the built-in
suite (``synth``), importers of public benchmarks (``importers``), training-item selection.
Imports ``config``, ``contracts`` and ``validation`` only.
"""
