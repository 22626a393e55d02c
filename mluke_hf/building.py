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


# -- model weights and complete tiny checkpoints (core) ---------------------------------------------------------------

# The tiny sizes of `build_tiny_checkpoint`: small enough for tests on 2 CPU cores, every shape still distinct.
TINY_MODEL_SIZES = {
    "hidden_size": 32,
    "entity_emb_size": 16,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 37,
}

# Extra keys of the released config.json files, per variant (values as studio-ousia/mluke-base and -large-lite).
_RELEASED_CONFIG_EXTRAS = {
    "base": {"bert_model_name": "xlm-roberta-base", "transformers_version": "4.13.0.dev0"},
    "large-lite": {"bert_model_name": "xlm-roberta-large", "transformers_version": "4.15.0"},
}

LUKE_ARCHITECTURES = (
    "LukeModel",
    "LukeForMaskedLM",
    "LukeForEntityClassification",
    "LukeForEntityPairClassification",
    "LukeForEntitySpanClassification",
    "LukeForSequenceClassification",
    "LukeForTokenClassification",
    "LukeForQuestionAnswering",
    "LukeForMultipleChoice",
)


def released_config_dict(
    variant: str,
    vocab_size: int,
    entity_vocab_size: int,
    architecture: str = "LukeForMaskedLM",
    sizes: Mapping[str, int] | None = None,
) -> dict:
    """config.json of a released mLUKE checkpoint (model_type "luke", every extra key), with tiny sizes by default."""
    if variant not in _RELEASED_CONFIG_EXTRAS:
        raise ValueError(f"variant must be 'base' or 'large-lite', got {variant!r}")
    extras = _RELEASED_CONFIG_EXTRAS[variant]
    config = {
        "architectures": [architecture],
        "attention_probs_dropout_prob": 0.1,
        "bert_model_name": extras["bert_model_name"],
        "bos_token_id": 0,
        "cls_entity_prediction": False,
        "deepspeed_transformer_layer_args": {},
        "entity_vocab_size": entity_vocab_size,
        "eos_token_id": 2,
        "gradient_checkpointing": False,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "initializer_range": 0.02,
        "layer_norm_eps": 1e-05,
        "max_position_embeddings": 514,
        "model_type": "luke",
        "output_past": True,
        "pad_token_id": 1,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
        "transformers_version": extras["transformers_version"],
        "type_vocab_size": 1,
        "use_cache": True,
        "use_deepspeed_transformer_layer": False,
        "use_entity_aware_attention": False,
        "vocab_size": vocab_size,
    }
    config.update(TINY_MODEL_SIZES if sizes is None else sizes)
    return dict(sorted(config.items()))


def random_model_state_dict(config_dict: Mapping, architecture: str, seed: int = 0) -> dict:
    """Random weights of `architecture` for `config_dict`, built with mluke_hf's classes, as a name -> tensor dict.

    Every tensor is random (biases and the w2e/e2w/e2e queries included), so a weight that fails to load shows in
    the outputs. Tied decoder weights are included (as `pytorch_model.bin` files hold them).
    """
    import torch

    from .auto import model_class_for_config
    from .configuration_mluke import LukeFormatConfig

    config = LukeFormatConfig.from_dict(dict(config_dict))
    config.architectures = [architecture]
    model_class = model_class_for_config(config)
    torch.manual_seed(seed)
    model = model_class(config)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name.endswith("bias") or "_query." in name:
                parameter.normal_(0.0, config.initializer_range, generator=generator)
    return {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}


# Decoder weights that transformers 4.x tied to other weights and so left out of safetensors files.
TIED_WEIGHT_NAMES = ("lm_head.decoder.weight", "lm_head.decoder.bias", "entity_predictions.decoder.weight")


def write_model_weights(
    folder: str | os.PathLike, state_dict: Mapping, tie_saved_once: bool = True, pytorch_bin: bool = False
) -> Path:
    """Write `model.safetensors` as transformers 4.57.6 does: tied decoder weights stored once (`tie_saved_once`).

    `pytorch_bin=True` also writes `pytorch_model.bin` with every weight, tied copies included, as the released
    repositories carry.
    """
    import torch
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {
        name: tensor.contiguous()
        for name, tensor in state_dict.items()
        if not (tie_saved_once and name in TIED_WEIGHT_NAMES)
    }
    save_file(tensors, str(folder / "model.safetensors"), metadata={"format": "pt"})
    if pytorch_bin:
        torch.save(dict(state_dict), folder / "pytorch_model.bin")
    return folder / "model.safetensors"


def build_tiny_checkpoint(
    folder: str | os.PathLike,
    *,
    variant: str = "base",
    architecture: str = "LukeForMaskedLM",
    entities: Sequence[str | Mapping[str, str]] = (),
    texts: Iterable[str] | None = None,
    sentencepiece_model: str | os.PathLike | None = None,
    sentencepiece_vocab_size: int = 500,
    id2label: Mapping[int, str] | None = None,
    config_overrides: Mapping | None = None,
    seed: int = 0,
    tie_saved_once: bool = True,
    pytorch_bin: bool = False,
) -> Path:
    """Write a complete hub-layout mLUKE folder, exactly as a released checkpoint looks, with tiny random weights.

    Files: config.json (`model_type: "luke"`, `architectures: [architecture]`, every extra key of the released
    configs, `use_entity_aware_attention: false`), the tokenizer files of `write_released_tokenizer_files`, and
    model.safetensors with the released weight names (`luke.`-prefixed backbone for heads, the w2e/e2w/e2e query
    tensors present, tied decoder weights stored once as 4.57.6 saves them).

    Args:
        variant: "base" (full entity vocabulary built from `entities`, mluke-base's files) or "large-lite"
            (the four special entities only, mluke-large-lite's files; `entities` must be empty).
        architecture: one of `LUKE_ARCHITECTURES`.
        entities: entity titles or `{lang: title}` dicts for the "base" vocabulary.
        texts: lines to train the SentencePiece model on (default: the package's small multilingual corpus).
        sentencepiece_model: an existing SentencePiece model to reuse instead of training one (faster).
        id2label: labels of a classification head (default: two labels `LABEL_0`, `LABEL_1`; for
            LukeForEntitySpanClassification mluke-large-lite-finetuned-conll-2003's O/LOC/PER/ORG/MISC).
        config_overrides: config.json keys to set last (e.g. `{"use_entity_aware_attention": True}`, sizes).
        seed: weights are a function of the seed (and the config).
        tie_saved_once: leave the tied decoder weights out of model.safetensors, as 4.x saved them.
        pytorch_bin: also write pytorch_model.bin with every weight.
    """
    import tempfile

    if architecture not in LUKE_ARCHITECTURES:
        raise ValueError(f"architecture must be one of {LUKE_ARCHITECTURES}, got {architecture!r}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    shape = "lite" if variant == "large-lite" else "full"
    entity_vocab = build_entity_vocab(entities, shape=shape)

    with tempfile.TemporaryDirectory() as scratch:
        if sentencepiece_model is None:
            if texts is None:
                corpus = Path(__file__).with_name("data") / "corpus.txt"
                texts = corpus.read_text(encoding="utf-8").splitlines()
            sentencepiece_model = train_sentencepiece(
                texts, Path(scratch) / SENTENCEPIECE_FILE, vocab_size=sentencepiece_vocab_size
            )
        write_released_tokenizer_files(folder, sentencepiece_model, entity_vocab, variant=variant)

    config = released_config_dict(
        variant,
        vocab_size=word_vocab_size(sentencepiece_size(folder / SENTENCEPIECE_FILE)),
        entity_vocab_size=entity_vocab_size(entity_vocab),
        architecture=architecture,
    )
    if architecture not in ("LukeModel", "LukeForMaskedLM"):
        if id2label is None:
            id2label = (
                {0: "O", 1: "LOC", 2: "PER", 3: "ORG", 4: "MISC"}
                if architecture == "LukeForEntitySpanClassification"
                else {0: "LABEL_0", 1: "LABEL_1"}
            )
        config["id2label"] = {str(index): label for index, label in id2label.items()}
        config["label2id"] = {label: int(index) for index, label in id2label.items()}
    config.update(config_overrides or {})
    (folder / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")

    state_dict = random_model_state_dict(config, architecture, seed=seed)
    write_model_weights(folder, state_dict, tie_saved_once=tie_saved_once, pytorch_bin=pytorch_bin)
    return folder
