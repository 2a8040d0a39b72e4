"""MMAU (Sakshi et al., 2024): a JSON list of records (``mmau-test-mini.json``; JSON lines
in a ``.jsonl`` file are read too), ``audio_id`` relative to the audio root.

    [{"id": "...", "audio_id": "./test-mini-audios/....wav", "question": "...",
      "choices": [...], "answer": "...", "dataset": "...", "task": "sound",
      "split": "test-mini", "category": "Reasoning", "sub-category": null,
      "difficulty": "easy"}]

13 test-mini records give ``category`` as a one-element list (``["Reasoning"]``): the item
takes the string and ``meta["normalised"]`` keeps the list.
"""

from __future__ import annotations

from audiorouter.data.importers.layout import Layout

MMAU = Layout(source="mmau", audio_key="audio_id", task_key="task", difficulty_key="difficulty")
import_mmau = MMAU.import_json
