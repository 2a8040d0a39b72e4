"""The reworded split: the same families and audio, asked in words no training item uses.

Every generated item's question comes from its family's ``templates``; a policy (or a
reasoner, or a head) can learn those exact sentences. A reworded item keeps the clip,
the truth and the meaning of the question, and changes its surface:

* the question is one of at least five held-out paraphrases per family and sense
  (``QUESTIONS``), with other word order and vocabulary than every template;
* each choice is restyled (``restyle_choice``): units spelled out ("120 beats per
  minute", "2.1 seconds"), counts as words ("seven"), note names spelled ("G-sharp,
  octave 4"), the interval's size first ("7 semitones, a perfect fifth"), comparisons
  as "the earlier one" / "the later one";
* the choices come in another order (a seeded permutation, never the original one
  when there is any other).

    item = reword(make_item("tempo", 3, seed=102), seed=102)

The sense of a question is its family, except where one family asks two things
(``interval``: direction or size, its ``sub_category``).

Imports: contracts, data.synth.sound.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import replace

import numpy as np

from audiorouter.contracts import AudioQAItem
from audiorouter.data.synth.sound import HIT_NAMES

SUFFIX = "-rw"  # reworded items' ids: the original id plus this

QUESTIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "note_name": {"": (
        "The instrument sustains a single pitch. What is it called?",
        "Tell me which pitch, letter and octave, this tone sits on.",
        "In scientific notation, what pitch does this recording hold?",
        "Listening to the steady tone, which note would you write down?",
        "This clip holds one tone. Its note name is?",
    )},
    "interval": {
        "direction": (
            "From the first tone to the second, does the line climb or drop?",
            "Going from note one to note two: upward step or downward step?",
            "The two tones form a step. Which way does that step go?",
            "Compared with where it starts, does the second pitch end up above or below?",
            "Two pitches follow each other. Is the motion up or down?",
        ),
        "size": (
            "Measured in semitones, how wide is the step between the two tones?",
            "Two pitches sound one after another. Which interval do they span?",
            "The distance from the first pitch to the second is which interval?",
            "What is the size of the leap between these two tones?",
            "Between tone one and tone two, how big is the pitch distance?",
        ),
    },
    "note_count": {"": (
        "The phrase is made of separate tones. What is their number?",
        "Tally the pitched notes the player produces here.",
        "Altogether, the melody consists of how many tones?",
        "If you counted each struck note of this line, what total would you get?",
        "What number of distinct tones make up this passage?",
    )},
    "tempo": {"": (
        "The pulse of this pattern runs at what speed?",
        "Counting beats over a minute, what speed is this groove?",
        "What metronome marking matches this rhythm?",
        "Per minute, how many pulses does this loop have?",
        "Set a metronome to this beat: which setting would you choose?",
    )},
    "chord_quality": {"": (
        "Bright or dark: which quality does this triad have?",
        "The notes sounding together form which kind of triad?",
        "Classify the harmony you hear by its third.",
        "Which mode does the sounding chord belong to?",
        "Heard as a whole, is the triad of the major or the minor kind?",
    )},
    "event_count": {"": (
        "The {hit} sound repeats. In total, how often?",
        "Tally every {hit} in the clip: what is the total?",
        "What number of {hits} does the recording contain?",
        "Listening from start to end, you hear the {hit} how many times?",
        "Each {hit} counts once. What is the count?",
    )},
    "duration": {"": (
        "From its onset to its end, the sound lasts how long?",
        "What length of time does the tone or noise occupy?",
        "Time the sound from start to finish. What do you get?",
        "The audible part of this clip spans how much time?",
        "Stopwatch in hand, how long would you say the sound runs?",
    )},
    "loudness_compare": {"": (
        "Two sounds play in turn. Which one has more volume?",
        "Of the pair you hear, which carries the greater level?",
        "Comparing the two events, which sounds stronger in volume?",
        "One of the two sounds is played more loudly. Which?",
        "Which member of the pair would a level meter show as higher?",
    )},
    "brightness_compare": {"": (
        "Two sounds play in turn. Which one has the more treble-heavy colour?",
        "Of the pair, which tone has more high-frequency energy?",
        "Which of the two timbres sounds thinner and more piercing?",
        "Comparing tone colour, which sound is the sharper one?",
        "One of the two has a brighter spectrum. Which one?",
    )},
    "sweep_direction": {"": (
        "Over its length, does this glide's pitch climb or drop?",
        "Which way does the frequency of the sweep move?",
        "The tone slides. Toward higher or lower pitch?",
        "Following the glide from start to end, is it heading up or down?",
        "Is this a sweep that ascends or one that descends?",
    )},
    "gap_position": {"": (
        "The sound is interrupted once. Where in time does the silence start?",
        "A brief dropout occurs. At which moment does it begin?",
        "Find the short break in the sound: when does it start?",
        "How far into the clip does the sound first cut out?",
        "The tone pauses for a moment. What is the start time of that pause?",
    )},
    "word_count": {"": (
        "The talker utters a short phrase. How many words long is it?",
        "Tally what the voice says, word by word: the total is?",
        "Counting every spoken word, what number do you reach?",
        "What is the length of the utterance, in words?",
        "If you wrote down what is said, how many words would you write?",
    )},
}

_NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
                 "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty")
_WORDS = {"ascending": "it goes up", "descending": "it goes down", "rising": "upward", "falling": "downward",
          "major": "a major triad", "minor": "a minor triad",
          "the first sound": "the earlier one", "the second sound": "the later one"}
_NOTE = re.compile(r"^([A-G])(#?)(-?\d+)$")
_INTERVAL = re.compile(r"^(.+) \((\d+) semitones?\)$")


def sense_of(item: AudioQAItem) -> str:
    """Which of a family's paraphrase sets fits ``item``'s question."""
    return item.sub_category if item.task == "interval" else ""


def restyle_choice(family: str, text: str) -> str:
    """One choice in the reworded style (the same meaning; see the module docstring)."""
    if text in _WORDS:
        return _WORDS[text]
    if family in ("note_count", "event_count", "word_count") and text.isdigit():
        return _NUMBER_WORDS[int(text)] if int(text) < len(_NUMBER_WORDS) else text
    if family == "tempo" and text.endswith(" BPM"):
        return text[: -len(" BPM")] + " beats per minute"
    if family in ("duration", "gap_position") and text.endswith(" s"):
        value = text[: -len(" s")]
        return f"{value} seconds" if family == "duration" else f"at {value} seconds"
    if family == "note_name" and (match := _NOTE.match(text)):
        letter, sharp, octave = match.groups()
        return f"{letter}{'-sharp' if sharp else ''}, octave {octave}"
    if family == "interval" and (match := _INTERVAL.match(text)):
        name, size = match.groups()
        return f"{size} semitone{'s' if size != '1' else ''}, a {name}"
    raise ValueError(f"{family}: no reworded style for the choice {text!r}")


def reword(item: AudioQAItem, seed: int) -> AudioQAItem:
    """``item`` asked with a held-out paraphrase and restyled, reordered choices."""
    senses = QUESTIONS.get(item.task)
    if senses is None or sense_of(item) not in senses:
        raise ValueError(f"item {item.id}: no reworded questions for family {item.task!r}")
    rng = np.random.default_rng([seed, zlib.crc32(item.id.encode())])
    hit = HIT_NAMES.get(item.meta.get("kind", ""), "") if item.task == "event_count" else ""
    question = str(rng.choice(senses[sense_of(item)])).format(hit=hit, hits=hit + "s")
    styled = [restyle_choice(item.task, choice) for choice in item.choices]
    if len(set(styled)) != len(styled):
        raise ValueError(f"item {item.id}: restyled choices collide: {styled}")
    order = list(range(len(styled)))
    while len(order) > 1 and order == list(range(len(styled))):  # another order than the original
        order = rng.permutation(len(styled)).tolist()
    return replace(item, id=item.id + SUFFIX, question=question, choices=[styled[k] for k in order],
                   answer=restyle_choice(item.task, item.answer), meta={**item.meta, "reworded_from": item.id})
