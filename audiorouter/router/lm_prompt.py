"""What the LM router reads, and the text of each subset it scores.

The prompt gives the tools (one line each: name and registry description), the coarse
clip description the cascade reasoner hears (``router.lm_describe_audio``), the question
and its choices, and asks which tools to call. Each allowed subset is a continuation
after the prompt::

    ...which tools should be called?<|im_end|>
    <|im_start|>assistant
    tools: none
    tools: pitch, tempo

Every continuation ends with the end-of-turn token (``end_of_turn_ids``), so "tools: pitch" is a whole answer
and not only the start of "tools: pitch, tempo". A subset lists its tools in the action
space's order, the order the tool lines give them.
"""

from __future__ import annotations

from collections.abc import Sequence

from audiorouter.reasoner.prompting import chat_prompt, question_block

ROUTER_PROMPT_VERSION = "1"  # bump whenever the text below changes: decisions depend on it
ROUTER_SYSTEM = ("You route audio questions to measurement tools. A language model will answer the question from "
                 "a coarse description of the clip and the results of the tools you choose. Choose the tools whose "
                 "measurements decide the answer, or none when the question needs no measurement.")
ASK = "Which tools should be called? Reply as 'tools: none' or 'tools: <name>, <name>'."
# with a rationale (router.rationale_tokens > 0; router/lm_rationale.py): the reply starts with it
ASK_REASONING = ("Which tools should be called? First reason in one short line as 'reasoning: ...', then reply "
                 "on the next line as 'tools: none' or 'tools: <name>, <name>'.")
REASONING_START = "reasoning:"


def tool_lines(tools: Sequence[dict[str, str]]) -> str:
    """One line per tool: ``- name: description`` (``describe_tools``' dicts)."""
    return "\n".join(f"- {tool['name']}: {tool['description']}" for tool in tools)


def routing_user_message(question: str, choices: list[str], tools: Sequence[dict[str, str]], audio_note: str,
                         reasoning: bool = False) -> str:
    parts = ["Tools:", tool_lines(tools)]
    if audio_note:
        parts.append(audio_note)
    parts += [question_block(question, choices), ASK_REASONING if reasoning else ASK]
    return "\n".join(parts)


def routing_prompt(tokenizer, question: str, choices: list[str], tools: Sequence[dict[str, str]],
                   audio_note: str = "", reasoning: bool = False) -> str:
    """The whole prompt, in the model's chat format, ending where its reply starts (with
    ``reasoning``: after ``reasoning:``, where the rationale starts)."""
    prompt = chat_prompt(tokenizer, ROUTER_SYSTEM, routing_user_message(question, choices, tools, audio_note, reasoning))
    return prompt + REASONING_START if reasoning else prompt


def subset_text(subset: Sequence[str]) -> str:
    """The reply that names ``subset``: ``tools: none`` or ``tools: pitch, tempo``."""
    return "tools: " + (", ".join(subset) if subset else "none")


def end_of_turn_ids(tokenizer) -> list[int]:
    """The token that closes a reply: ChatML's ``<|im_end|>`` where the vocabulary has it
    (a Qwen base model's EOS token is ``<|endoftext|>``, which ends documents, not turns),
    otherwise the EOS token."""
    turn_end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    if isinstance(turn_end, int) and turn_end != tokenizer.unk_token_id:
        return [turn_end]
    if tokenizer.eos_token_id is None:
        raise ValueError("the router LM's tokenizer has no end-of-turn (EOS) token to close a subset's reply")
    return [int(tokenizer.eos_token_id)]


def subset_token_ids(tokenizer, subsets: Sequence[Sequence[str]]) -> list[list[int]]:
    """Each subset's reply as tokens, closed by the end-of-turn token."""
    end = end_of_turn_ids(tokenizer)
    return [tokenizer.encode(subset_text(subset), add_special_tokens=False) + end for subset in subsets]
