"""Candidate boundaries: where an entity may start and end, in every script mLUKE covers.

A text is cut into *units*; candidate spans are runs of whole units, so units are the smallest things an entity can
be made of, and `max_mention_length` counts them.

- Units never split an extended grapheme cluster (Unicode's `\\X`: a letter with its combining marks, an Indic
  conjunct, an emoji ZWJ sequence or flag).
- In scripts written with spaces between words (Latin, Cyrillic, Greek, Devanagari, ...), a unit is a run of letters,
  digits and marks (a word), or one other grapheme (punctuation, a symbol, an emoji): `l'Espagne` gives `l`, `'`,
  `Espagne`. This is `split_words`, which needs no tokenizer.
- Scripts written without spaces (Han, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar, Tibetan), and scripts whose
  space-separated tokens carry attached particles or clitics (Hangul: `서울에서` = `서울` + `에서`; Arabic, Hebrew:
  `وباريس` = `و` + `باريس`) are cut further, at the model's own SentencePiece piece boundaries (moved to the nearest
  grapheme boundary, never inside one): `candidate_units`. A change of script inside a token is a boundary too
  (`2015年`, `Google社`, and `東京で` between Han and Hiragana, which SentencePiece keeps in one piece).

Piece boundaries rather than a dictionary word segmenter: they serve every one of these scripts with one rule and no
extra dependency, and they are where the model's own token representations start and end: the span classifier reads
an entity from its first and last token, so a boundary inside a piece could not be represented faithfully anyway.
The price: an entity glued to its neighbour inside one piece (a rare merge such as a name and a particle learnt as one
piece) cannot be a candidate; training data readers report such entities (with their line).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

import regex

# Scripts whose letter runs are cut at piece boundaries: written without spaces, or with attached particles/clitics.
PIECE_SCRIPTS = (
    "Han", "Hiragana", "Katakana", "Thai", "Lao", "Khmer", "Myanmar", "Tibetan", "Hangul", "Arabic", "Hebrew",
)  # fmt: skip
# One match per unit: a run of word clusters in one piece script, a run of other word clusters, or one other
# cluster. Script_Extensions, so that marks shared by scripts (the prolonged sound mark `ー`) join their run.
_WORD_CHAR = r"[\p{L}\p{N}\p{M}_]"
_PIECE_CHAR = "[" + "".join(rf"\p{{scx={script}}}" for script in PIECE_SCRIPTS) + "]"
UNIT_PATTERN = regex.compile(
    "|".join(rf"(?P<{script}>(?:(?={_WORD_CHAR})(?=\p{{scx={script}}})\X)+)" for script in PIECE_SCRIPTS)
    + rf"|(?P<word>(?:(?={_WORD_CHAR})(?!{_PIECE_CHAR})\X)+)"
    + r"|(?P<symbol>(?!\s)\X)"
)
GRAPHEME_PATTERN = regex.compile(r"\X")
# Below U+0300 (Latin, Latin-1, Latin Extended, IPA) no character combines, joins or belongs to a piece script,
# so the plain pattern gives the same units, several times faster.
_SIMPLE_LIMIT = "\u0300"
_SIMPLE_UNIT_PATTERN = re.compile(r"\w+|[^\w\s]")
_WHOLE_UNITS = ("word", "symbol")
# Scripts written without spaces between words; Chinese and Japanese mix the first three in one run.
_SPACELESS_GROUPS = [
    regex.compile("[" + "".join(rf"\p{{scx={script}}}" for script in group) + "]")
    for group in (("Han", "Hiragana", "Katakana"), ("Thai",), ("Lao",), ("Khmer",), ("Myanmar",), ("Tibetan",))
]


def coarse_units(text: str) -> list[tuple[int, int, bool]]:
    """`(start, end, cut_further)` of the words and single graphemes of `text` (no tokenizer needed); runs of a piece
    script are to be cut further, at piece boundaries."""
    if not text or max(text) < _SIMPLE_LIMIT:
        return [(*match.span(), False) for match in _SIMPLE_UNIT_PATTERN.finditer(text)]
    return [(*match.span(), match.lastgroup not in _WHOLE_UNITS) for match in UNIT_PATTERN.finditer(text)]


def split_words(text: str) -> list[tuple[int, int]]:
    """Character offsets `(start, end)` of the words and single graphemes of `text`, without a tokenizer.

    This is `candidate_units` before the piece-level cut of spaceless and clitic scripts: the whole units of
    space-separated text, and whole runs (a clause of Chinese, `서울에서`) of the others.
    """
    return [(start, end) for start, end, _ in coarse_units(text)]


def grapheme_starts(text: str) -> set[int]:
    """Offsets where an extended grapheme cluster of `text` starts (and `len(text)`)."""
    return {match.start() for match in GRAPHEME_PATTERN.finditer(text)} | {len(text)}


def _grapheme_lengths(text: str) -> list[int]:
    return [match.end() - match.start() for match in GRAPHEME_PATTERN.finditer(text)]


def piece_lengths(tokenizer, texts: Sequence[str]) -> list[list[int]]:
    """Per text, the character lengths of its SentencePiece pieces (without sampling), in one batched call.

    Uses the tokenizer's SentencePiece model when it has one (both mLUKE tokenizers do when loaded from a folder
    with `sentencepiece.bpe.model`), else the offsets of its Rust backend.
    """
    if not texts:
        return []
    sp_model = getattr(tokenizer, "sp_model", None)
    if sp_model is not None:
        try:
            protos = sp_model.encode(list(texts), return_type="proto", enable_sampling=False)
        except (TypeError, ValueError):  # sentencepiece < 0.2.1
            protos = sp_model.encode(list(texts), out_type="immutable_proto", enable_sampling=False)
        unknown = sp_model.unk_id()
        # Piece surfaces partition the input (a leading `▁` has an empty surface). A run of characters the
        # vocabulary lacks comes back as one unknown piece: it has no inner structure, so each grapheme counts.
        return [
            [
                length
                for piece in proto.pieces
                if piece.surface
                for length in (_grapheme_lengths(piece.surface) if piece.id == unknown else (len(piece.surface),))
            ]
            for proto in protos
        ]
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise TypeError(f"{type(tokenizer).__name__} has neither a SentencePiece model nor a Rust backend to cut text")
    lengths = []
    for text, encoding in zip(texts, backend.encode_batch(list(texts), add_special_tokens=False)):
        starts = sorted({start for start, end in encoding.offsets if end > start} | {0, len(text)})
        lengths.append([end - start for start, end in itertools.pairwise(starts)])
    return lengths


def cut_at_pieces(text: str, lengths: Sequence[int]) -> list[tuple[int, int]]:
    """`text` cut at the piece boundaries given by `lengths` that fall between grapheme clusters."""
    allowed = grapheme_starts(text)
    cuts, position = [0], 0
    for length in lengths:
        position += length
        if 0 < position < len(text) and position in allowed:
            cuts.append(position)
    cuts.append(len(text))
    return list(itertools.pairwise(cuts))


def candidate_units_batch(tokenizer, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
    """`candidate_units` of several texts, with one tokenizer call for all their piece-script runs."""
    coarse = [coarse_units(text) for text in texts]
    runs = list(dict.fromkeys(text[start:end] for text, units in zip(texts, coarse) for start, end, piece in units
                              if piece))  # fmt: skip
    cut = dict(zip(runs, (cut_at_pieces(run, lengths) for run, lengths in zip(runs, piece_lengths(tokenizer, runs)))))
    result = []
    for text, units in zip(texts, coarse):
        offsets = []
        for start, end, piece in units:
            if piece:
                offsets.extend((start + left, start + right) for left, right in cut[text[start:end]])
            else:
                offsets.append((start, end))
        result.append(offsets)
    return result


def candidate_units(tokenizer, text: str) -> list[tuple[int, int]]:
    """Character offsets `(start, end)` of the units of `text` that candidate spans are made of (module docstring).

    The same function serves training (`mluke_hf.tasks.training.ner_features`) and the pipeline, so both see the
    same candidates for the same text and tokenizer.
    """
    return candidate_units_batch(tokenizer, [text])[0]


def joins_without_space(left: str, right: str) -> bool:
    """Whether two pre-split tokens (CoNLL words) sit side by side in raw text: both in the same script written
    without spaces (`東京` + `で`), so joining them with a space would change how the model's tokenizer reads them."""
    return any(group.match(left[-1]) and group.match(right[0]) for group in _SPACELESS_GROUPS)


def words_from_tokens(words: Sequence[str]) -> tuple[str, list[tuple[int, int]]]:
    """Join pre-split words (a CoNLL sentence) into raw text; return the text and each word's offsets.

    Words are joined with single spaces, except between two words of a spaceless script (Chinese, Japanese, Thai,
    ...), which are joined directly, as the text would be written (and as the pipeline will later see it).
    """
    parts, offsets, position = [], [], 0
    for index, word in enumerate(words):
        if not word or any(character.isspace() for character in word):
            raise ValueError(f"words must be non-empty and contain no whitespace, got {word!r}")
        if index and not joins_without_space(words[index - 1], word):
            parts.append(" ")
            position += 1
        offsets.append((position, position + len(word)))
        parts.append(word)
        position += len(word)
    return "".join(parts), offsets
