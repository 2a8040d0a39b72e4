"""``FeatureSpec``: which per-item features to compute, and how.

The defaults are the router's: the question's sentence embedding and log-mel statistics
(per band mean, std and mean |delta|, then log(1 + duration)). ``HEAD_SPEC`` is what the
internalisation heads read: the statistics at 128 mels with a 64 ms window (bands about
a semitone apart at middle C), YAMNet embeddings, a log-mel matrix and the embeddings of
the choices too. A spec is part of every cache key and of a saved router policy.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

QUESTION_DIM = 384  # all-MiniLM-L6-v2
YAMNET_DIM = 1024  # the YAMNet graph's pooled layer before its classifier


@dataclass(frozen=True)
class FeatureSpec:
    n_mels: int = 32  # log-mel statistics
    n_fft: int = 400  # 25 ms at 16 kHz
    hop_length: int = 160  # 10 ms
    version: int = 1  # bump when the computation changes
    embedding: bool = False  # YAMNet mean and std over its 0.96 s patches
    matrix_mels: int = 0  # > 0: the log-mel matrix, matrix_mels x matrix_frames ...
    matrix_frames: int = 256  # ... of matrix_pool 10 ms hops each (256 x 40 ms = 10.24 s)
    matrix_pool: int = 4
    profile_mels: int = 16  # the profile pools the matrix into profile_mels x profile_steps
    profile_steps: int = 32
    choices: bool = False  # the choices' embeddings too (one encoder call over a chunk's texts)

    @property
    def audio_dim(self) -> int:
        """Length of the log-mel statistics."""
        return 3 * self.n_mels + 1

    @property
    def dim(self) -> int:
        """Length of a router feature vector: the question, then the statistics."""
        return QUESTION_DIM + self.audio_dim

    @property
    def head_audio_dim(self) -> int:
        """Length of a head's frozen audio input: YAMNet mean and std, statistics, profile."""
        return 2 * YAMNET_DIM + self.audio_dim + self.profile_mels * self.profile_steps

    @property
    def key(self) -> str:
        key = f"minilm-l6-mel{self.n_mels}-fft{self.n_fft}-hop{self.hop_length}-v{self.version}"
        if self.embedding:
            key = f"yamnet-emb-{key}"
        if self.matrix_mels:
            key += f"-mat{self.matrix_mels}x{self.matrix_frames}p{self.matrix_pool}"
        return key + ("-choices" if self.choices else "")

    def to_dict(self) -> dict[str, int | bool]:
        return asdict(self)


HEAD_SPEC = FeatureSpec(n_mels=128, n_fft=1024, hop_length=160, embedding=True, matrix_mels=64, choices=True)
