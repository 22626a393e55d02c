"""The fairseq id layout of mLUKE's word vocabulary, its file names and special-token names, in one place.

XLM-R (and so mLUKE) numbers words as fairseq did: `<s>`=0, `<pad>`=1, `</s>`=2, `<unk>`=3, then SentencePiece piece
p at p + 1 (SentencePiece's own pieces 0-2, `<unk>`/`<s>`/`</s>`, sit under fairseq's specials), `<mask>` right
after the last piece, then the added entity markers `<ent>` and `<ent2>`.
"""

from __future__ import annotations

# SentencePiece's space symbol (U+2581), which also opens every word piece.
SPIECE_UNDERLINE = "\u2581"

FAIRSEQ_SPECIALS = ("<s>", "<pad>", "</s>", "<unk>")
FAIRSEQ_SPECIAL_IDS = {token: index for index, token in enumerate(FAIRSEQ_SPECIALS)}
FAIRSEQ_UNK_ID = FAIRSEQ_SPECIAL_IDS["<unk>"]
# Word id of SentencePiece piece p: p + FAIRSEQ_OFFSET.
FAIRSEQ_OFFSET = 1

MASK_TOKEN = "<mask>"
ENTITY_MARKERS = ("<ent>", "<ent2>")

SENTENCEPIECE_FILE = "sentencepiece.bpe.model"
ENTITY_VOCAB_FILE = "entity_vocab.json"
TOKENIZER_FILE = "tokenizer.json"
VOCAB_FILES_NAMES = {"vocab_file": SENTENCEPIECE_FILE, "entity_vocab_file": ENTITY_VOCAB_FILE}
FAST_VOCAB_FILES_NAMES = {**VOCAB_FILES_NAMES, "tokenizer_file": TOKENIZER_FILE}

# Constructor arguments naming special ENTITIES (not word tokens), with their defaults.
ENTITY_TOKEN_ARGUMENTS = ("entity_unk_token", "entity_pad_token", "entity_mask_token", "entity_mask2_token")


def mask_token_id(sentencepiece_pieces: int) -> int:
    """Word id of `<mask>` for a SentencePiece model of `sentencepiece_pieces` pieces."""
    return sentencepiece_pieces + FAIRSEQ_OFFSET
