"""What the tests of the heads' features and of the heads share: items with chosen
choices and a fixed unit vector per text (no encoder loaded)."""

from __future__ import annotations

import zlib

import numpy as np

from audiorouter.contracts import AudioQAItem


def choice_item(item_id: str, choices: list[str], answer: int) -> AudioQAItem:
    return AudioQAItem(id=item_id, question="How long is the sound?", choices=choices, answer=choices[answer],
                       task="syn", category="test", sub_category="test", difficulty="easy", source="test")


def text_vector(text: str) -> np.ndarray:
    """A unit vector fixed by the text, as an encoder would give one."""
    v = np.random.default_rng(zlib.crc32(text.encode())).normal(size=384).astype(np.float32)
    return v / np.linalg.norm(v)
