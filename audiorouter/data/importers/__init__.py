"""Importers for local copies of public audio-QA benchmarks (MMAU, MMAR); unusable records
go, with the reason, to ``OUT/rejects.jsonl`` (``common.import_records``).
"""

from audiorouter.data.importers.common import (
    Candidate,
    ImportReport,
    NothingValidError,
    RecordError,
    import_records,
)
from audiorouter.data.importers.mmar import import_mmar
from audiorouter.data.importers.mmau import import_mmau

__all__ = [
    "Candidate",
    "ImportReport",
    "NothingValidError",
    "RecordError",
    "import_mmar",
    "import_mmau",
    "import_records",
]
