"""Importers for local copies of public audio-QA benchmarks (MMAU, MMAR).

Each writes ``OUT/<split>/part-*.parquet`` and logs unusable records, with the reason,
to ``OUT/rejects.jsonl``; see ``common.import_records`` for the shared core.
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
