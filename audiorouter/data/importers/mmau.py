"""MMAU (Sakshi et al., 2024): a JSON list of records, ``audio_id`` relative to the audio root.

    [{"id": "...", "audio_id": "./test-mini-audios/....wav", "question": "...",
      "choices": [...], "answer": "...", "dataset": "...", "task": "sound",
      "split": "test-mini", "category": "...", "sub-category": null, "difficulty": "easy"}]
"""

from __future__ import annotations

from audiorouter.data.importers.layout import Layout

MMAU = Layout(source="mmau", audio_key="audio_id", task_key="task", difficulty_key="difficulty")
import_mmau = MMAU.import_json
