"""MMAR (Ma et al., 2025): a JSON list of records, ``audio_path`` relative to the audio root.

    [{"id": "...", "audio_path": "./audio/....wav", "question": "...", "choices": [...],
      "answer": "...", "modality": "sound-music", "category": "Signal Layer",
      "sub-category": "...", "language": "en", "source": "...", "url": "...",
      "timestamp": "..."}]
"""

from __future__ import annotations

from audiorouter.data.importers.layout import Layout

MMAR = Layout(source="mmar", audio_key="audio_path", task_key="modality", difficulty_key=None)
import_mmar = MMAR.import_json
