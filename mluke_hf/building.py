"""Build small mLUKE tokenizer files from scratch, in the exact layout of the released checkpoints.

No machine here reaches the model hub, so the test suite, the demo and the benchmarks build their own small
checkpoints: a SentencePiece model trained on a few hundred lines, an entity vocabulary in one of the two released
shapes, and the small JSON files (`tokenizer_config.json`, `special_tokens_map.json`, `added_tokens.json`) written
exactly as studio-ousia/mluke-base and studio-ousia/mluke-large-lite have them, with ids adapted to the small vocabulary.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

SENTENCEPIECE_FILE = "sentencepiece.bpe.model"
ENTITY_VOCAB_FILE = "entity_vocab.json"

# Special entities of the two released vocabulary shapes. Full vocabularies (mluke-base, mluke-large) start with
# [PAD], [UNK], [MASK]; lite ones (mluke-*-lite) hold only the four specials in this other order.
FULL_ENTITY_SPECIALS = ("[PAD]", "[UNK]", "[MASK]")
LITE_ENTITY_VOCAB = {"[MASK]": 0, "[UNK]": 1, "[PAD]": 2, "[MASK2]": 3}

# fairseq layout of XLM-R: 4 specials before SentencePiece's pieces, every piece id shifted by one.
FAIRSEQ_OFFSET = 1


def train_sentencepiece(
    texts: Iterable[str],
    output_path: str | os.PathLike,
    vocab_size: int = 1000,
    model_type: str = "unigram",
    character_coverage: float = 1.0,
) -> Path:
    """Train a SentencePiece model the way XLM-R's was set up (nmt_nfkc, dummy prefix, `<unk>`=0, `<s>`=1, `</s>`=2).

    Training is deterministic for the same texts and arguments (one thread, no sampling), so tests can rebuild the
    same model every run. `vocab_size` is a soft limit: small corpora may yield fewer pieces.
    """
    import sentencepiece as spm

    if model_type not in ("unigram", "bpe"):
        raise ValueError(f"model_type must be 'unigram' or 'bpe', got {model_type!r}")
    lines = [line for line in texts if line.strip()]
    if not lines:
        raise ValueError("texts is empty: train_sentencepiece needs at least one non-blank line of text")
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_writer=model,
        vocab_size=vocab_size,
        model_type=model_type,
        character_coverage=character_coverage,
        normalization_rule_name="nmt_nfkc",
        add_dummy_prefix=True,
        remove_extra_whitespaces=True,
        unk_id=0,
        bos_id=1,
        eos_id=2,
        pad_id=-1,
        hard_vocab_limit=False,
        num_threads=1,
        shuffle_input_sentence=False,
        minloglevel=2,
    )
    output_path = Path(output_path)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    output_path.write_bytes(model.getvalue())
    return output_path


def sentencepiece_size(model_path: str | os.PathLike) -> int:
    """Number of pieces in a SentencePiece model file."""
    import sentencepiece as spm

    processor = spm.SentencePieceProcessor()
    processor.Load(str(model_path))
    return processor.GetPieceSize()


def build_entity_vocab(entities: Sequence[str | Mapping[str, str]] = (), shape: str = "full") -> dict[str, int]:
    """An entity vocabulary in one of the released shapes, as a `name -> id` dict.

    shape="full": `[PAD]`=0, `[UNK]`=1, `[MASK]`=2, then one id per entity (a `str` title, or a `{lang: title}` dict
    whose `"lang:title"` keys all share one id, as in mluke-base), then `[MASK2]`.
    shape="lite": exactly the four specials of mluke-*-lite (`[MASK]`=0, `[UNK]`=1, `[PAD]`=2, `[MASK2]`=3);
    `entities` must be empty.
    """
    if shape == "lite":
        if entities:
            raise ValueError("shape='lite' vocabularies hold only the four special entities; pass entities=()")
        return dict(LITE_ENTITY_VOCAB)
    if shape != "full":
        raise ValueError(f"shape must be 'full' or 'lite', got {shape!r}")
    vocab = {name: index for index, name in enumerate(FULL_ENTITY_SPECIALS)}
    for entity in entities:
        index = len(set(vocab.values()))
        names = [entity] if isinstance(entity, str) else [f"{lang}:{title}" for lang, title in entity.items()]
        for name in names:
            if name in vocab:
                raise ValueError(f"entity name {name!r} appears twice in entities")
            vocab[name] = index
    vocab["[MASK2]"] = len(set(vocab.values()))
    return vocab


def entity_vocab_size(vocab: Mapping[str, int]) -> int:
    """Number of distinct entity ids (several `lang:title` names may share one id)."""
    return max(vocab.values()) + 1


def write_entity_vocab(folder: str | os.PathLike, vocab: Mapping[str, int]) -> Path:
    """Write `entity_vocab.json` as the released checkpoints have it (one JSON object, name -> id)."""
    path = Path(folder) / ENTITY_VOCAB_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dict(vocab), ensure_ascii=False), encoding="utf-8")
    return path


_MASK_TOKEN = {"content": "<mask>", "single_word": False, "lstrip": True, "rstrip": False, "normalized": True}
_ENT_TOKEN = {"single_word": False, "lstrip": False, "rstrip": False, "normalized": True}


def _special_tokens_map() -> dict:
    return {
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "sep_token": "</s>",
        "pad_token": "<pad>",
        "cls_token": "<s>",
        "mask_token": dict(_MASK_TOKEN),
        "additional_special_tokens": [{"content": "<ent>", **_ENT_TOKEN}, {"content": "<ent2>", **_ENT_TOKEN}],
    }


def _tokenizer_config(variant: str) -> dict:
    """tokenizer_config.json of mluke-base ("base", minimal) or mluke-large-lite ("large-lite", full)."""
    mask = {**_MASK_TOKEN, "__type": "AddedToken"}
    base = {
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "sep_token": "</s>",
        "cls_token": "<s>",
        "pad_token": "<pad>",
        "mask_token": mask,
        "sp_model_kwargs": {},
    }
    if variant == "base":
        return {
            **base,
            "model_max_length": 512,
            "special_tokens_map_file": None,
            "name_or_path": "xlm-roberta-base",
            "tokenizer_class": "MLukeTokenizer",
        }
    if variant == "large-lite":
        ent1 = {"content": "<ent>", **_ENT_TOKEN, "__type": "AddedToken"}
        ent2 = {"content": "<ent2>", **_ENT_TOKEN, "__type": "AddedToken"}
        return {
            **base,
            "task": None,
            "max_entity_length": 32,
            "max_mention_length": 30,
            "entity_token_1": ent1,
            "entity_token_2": ent2,
            "entity_unk_token": "[UNK]",
            "entity_pad_token": "[PAD]",
            "entity_mask_token": "[MASK]",
            "entity_mask2_token": "[MASK2]",
            "additional_special_tokens": [ent1, ent2],
            "tokenizer_file": None,
            "name_or_path": "studio-ousia/mluke-large",
            "model_max_length": 512,
            "special_tokens_map_file": None,
            "tokenizer_class": "MLukeTokenizer",
        }
    raise ValueError(f"variant must be 'base' or 'large-lite', got {variant!r}")


def word_vocab_size(sentencepiece_pieces: int) -> int:
    """Model vocab_size for a SentencePiece model of that many pieces: fairseq specials, `<mask>`, `<ent>`, `<ent2>`."""
    return sentencepiece_pieces + FAIRSEQ_OFFSET + 1 + 2


def write_released_tokenizer_files(
    folder: str | os.PathLike,
    sentencepiece_model: str | os.PathLike,
    entity_vocab: Mapping[str, int],
    variant: str = "base",
) -> Path:
    """Write the tokenizer files of a released mLUKE checkpoint (no tokenizer.json), as transformers 4.x saved them.

    variant="base" copies mluke-base's minimal tokenizer_config.json, variant="large-lite" mluke-large-lite's full one.
    `added_tokens.json` gives `<ent>`/`<ent2>` the ids after `<mask>`, as 250002/250003 do for the real vocabulary.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    data = Path(sentencepiece_model).read_bytes()
    (folder / SENTENCEPIECE_FILE).write_bytes(data)
    pieces = sentencepiece_size(folder / SENTENCEPIECE_FILE)
    mask_id = pieces + FAIRSEQ_OFFSET
    (folder / "added_tokens.json").write_text(json.dumps({"<ent>": mask_id + 1, "<ent2>": mask_id + 2}))
    (folder / "special_tokens_map.json").write_text(json.dumps(_special_tokens_map()))
    (folder / "tokenizer_config.json").write_text(json.dumps(_tokenizer_config(variant)))
    write_entity_vocab(folder, entity_vocab)
    return folder
