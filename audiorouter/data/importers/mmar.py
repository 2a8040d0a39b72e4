"""MMAR (Ma et al., 2025): ``MMAR-meta.jsonl``, one record per line (earlier copies:
``MMAR-meta.json``, a JSON list; both are read), ``audio_path`` relative to the audio root.

    {"id": "...", "audio_path": "./audio/....wav", "question": "...", "choices": [...],
     "answer": "...", "modality": "mix-sound-music", "category": "Signal Layer",
     "sub-category": "...", "language": null, "source": "...", "url": "...",
     "timestamp": "...", "thinking": "...", "cue": [...], "rubric": [...]}

Keys the item does not use (``thinking``, ``cue``, ``rubric``, ...) stay in
``meta["original"]`` and are written back unchanged with the prediction.
"""

from __future__ import annotations

from audiorouter.data.importers.layout import Layout

MMAR = Layout(source="mmar", audio_key="audio_path", task_key="modality", difficulty_key=None)
import_mmar = MMAR.import_json
