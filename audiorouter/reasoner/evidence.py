"""The one evidence renderer: ToolResults -> the text block every reasoner reads.

Format (one line per result, results sorted by tool name then version, so the block
does not depend on the order a router or an executor produced them)::

    Tool evidence:
    - loudness: integrated -23.1 LUFS; first half -20.0 LUFS, second half -26.2 LUFS
    - pitch: ERROR: timed out after 60 s
    [evidence truncated: 1 of 3 tool results cut or left out to fit 64 tokens]

* An ``ok`` result shows its ``summary`` (whitespace collapsed to single spaces; an
  empty summary reads ``(no summary)``); a failed one shows ``ERROR: <error>``.
* The block has a token budget, counted with ``count_tokens`` (words, numbers and
  punctuation marks each count one, a tokenizer-free stand-in for BPE tokens so every
  back-end sees the same block). Results that do not fit are cut at a token boundary
  (the cut line ends in ``[...]``) or left out, and the marker line says how many,
  never silently. The marker is inside the budget.
* No evidence renders as the empty string.

``evidence_fingerprint`` names a rendered block in memo keys: it is a hash of exactly
the text the reasoner reads, so timing fields and result order never split the memo.
"""

from __future__ import annotations

import hashlib
import re

from audiorouter.contracts import ToolResult

HEADER = "Tool evidence:"
CUT_MARK = "[...]"
NO_EVIDENCE = "none"
MIN_CUT_TOKENS = 4  # a cut line keeps at least this many tokens, else it is left out
_TOKEN = re.compile(r"\w+|[^\w\s]")


def count_tokens(text: str) -> int:
    """Tokens of ``text`` as the budget counts them (words, numbers, punctuation)."""
    return len(_TOKEN.findall(text))


def result_line(result: ToolResult) -> str:
    """The line one result contributes, before any budget cut."""
    if result.ok:
        body = " ".join(result.summary.split()) or "(no summary)"
    else:
        body = "ERROR: " + (" ".join((result.error or "unknown error").split()))
    return f"- {result.tool}: {body}"


def truncation_marker(cut: int, total: int, budget: int) -> str:
    return f"[evidence truncated: {cut} of {total} tool results cut or left out to fit {budget} tokens]"


def render_evidence(results: list[ToolResult], token_budget: int) -> str:
    """The evidence block for ``results`` within ``token_budget`` tokens ("" for none)."""
    if not results:
        return ""
    ordered = sorted(results, key=lambda r: (r.tool, r.version))
    lines = [result_line(r) for r in ordered]
    full = "\n".join([HEADER, *lines])
    if count_tokens(full) <= token_budget:
        return full
    total = len(lines)
    room = token_budget - count_tokens(HEADER) - count_tokens(truncation_marker(total, total, token_budget))
    kept: list[str] = []
    for line in lines:
        need = count_tokens(line)
        if need <= room:
            kept.append(line)
            room -= need
            continue
        if room - count_tokens(CUT_MARK) >= MIN_CUT_TOKENS:
            kept.append(cut_to_tokens(line, room - count_tokens(CUT_MARK)) + " " + CUT_MARK)
        break
    whole = sum(1 for line in kept if not line.endswith(CUT_MARK))
    return "\n".join([HEADER, *kept, truncation_marker(total - whole, total, token_budget)])


def cut_to_tokens(text: str, n_tokens: int) -> str:
    """The start of ``text`` holding its first ``n_tokens`` tokens."""
    matches = list(_TOKEN.finditer(text))
    if n_tokens >= len(matches):
        return text
    return text[: matches[n_tokens - 1].end()] if n_tokens > 0 else ""


def evidence_fingerprint(evidence_text: str) -> str:
    """Stable short name of a rendered evidence block ("none" for no evidence)."""
    if not evidence_text:
        return NO_EVIDENCE
    return hashlib.sha256(evidence_text.encode("utf-8")).hexdigest()[:32]
