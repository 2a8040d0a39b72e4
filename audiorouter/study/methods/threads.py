"""One CPU thread for a block of torch work: study trials share the machine's cores,
and single-threaded CPU training is what makes a fit repeat exactly. Shared by the
methods that train with torch (supervised_router, internalise, lora).

Imports: torch only."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
