"""Write the golden tokenizer cases of transformers 4.57.6's MLukeTokenizer to tests/data/tokenizer/golden.json.

Run in the side environment that has transformers==4.57.6 (never imported by the package itself):

    /work/venv-ref/bin/python scripts/make_tokenizer_golden.py [--main-python .venv/bin/python]

It trains (or reuses) a unigram and a BPE SentencePiece model on tests/data/tokenizer/corpus.txt with
`mluke_hf.building.train_sentencepiece` (loaded by file path: building.py needs only sentencepiece), writes hub-layout
tokenizer folders in both entity-vocabulary shapes and both released tokenizer_config.json variants, and records the
reference's output (or exception type) for every case. Then it asks the main environment (`--main-python`) to save each
folder with mluke_hf's MLukeTokenizer, loads those saved folders here with 4.57.6 and records a second set of cases on
them ("saved:<variant>"), so the suite checks that our saved files load identically under 4.57.6.

Inputs in the JSON keep tuples as {"__tuple__": [...]}; tests/test_tokenization_mluke_golden.py replays every case.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data" / "tokenizer"
CORPUS = DATA / "corpus.txt"
GOLDEN = DATA / "golden.json"

# Entities of the full vocabulary: dicts give several `lang:title` names sharing one id, as in mluke-base.
FULL_ENTITIES = [
    {"en": "Japan", "ja": "日本"},
    {"en": "Tokyo", "ja": "東京"},
    {"en": "Germany", "de": "Deutschland"},
    {"en": "Paris", "fr": "Paris"},
    {"en": "Moscow", "ru": "Москва"},
    {"en": "Beijing", "zh": "北京"},
    {"en": "Cairo", "ar": "القاهرة"},
    "en:Barack Obama",
    "en:Iran",
]

# (folder name, SentencePiece model, entity vocabulary shape, tokenizer_config.json variant)
VARIANTS = [
    ("unigram-full-base", "unigram", "full", "base"),
    ("unigram-lite-largelite", "unigram", "lite", "large-lite"),
    ("bpe-full-largelite", "bpe", "full", "large-lite"),
    ("bpe-lite-base", "bpe", "lite", "base"),
]


def load_building():
    spec = importlib.util.spec_from_file_location("mluke_building", REPO / "mluke_hf" / "building.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_corpus() -> list[str]:
    return [line for line in CORPUS.read_text(encoding="utf-8").split("\n") if line]


def prepare_models(building) -> dict[str, Path]:
    lines = read_corpus()
    models = {}
    for model_type in ("unigram", "bpe"):
        path = DATA / f"sentencepiece_{model_type}.model"
        if not path.exists():
            building.train_sentencepiece(lines, path, vocab_size=1000, model_type=model_type)
        models[model_type] = path
    return models


def write_folders(building, models, root: Path) -> dict[str, Path]:
    folders = {}
    for name, model_type, shape, variant in VARIANTS:
        vocab = building.build_entity_vocab(FULL_ENTITIES if shape == "full" else (), shape=shape)
        folders[name] = building.write_released_tokenizer_files(
            root / name, models[model_type], vocab, variant=variant
        )
    return folders


# -- JSON encoding of inputs and outputs ------------------------------------------------------------------------------


def encode_value(value):
    if isinstance(value, tuple):
        return {"__tuple__": [encode_value(item) for item in value]}
    if isinstance(value, list):
        return [encode_value(item) for item in value]
    if isinstance(value, dict):
        return {key: encode_value(item) for key, item in value.items()}
    return value


def to_plain(value):
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [to_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: to_plain(item) for key, item in value.items()}
    return value


def describe_output(output):
    if isinstance(output, dict) or hasattr(output, "data"):
        data = dict(output.items())
        tensor = None
        for value in data.values():
            kind = type(value).__module__.split(".")[0]
            if kind in ("torch", "numpy"):
                tensor = "pt" if kind == "torch" else "np"
                break
        return {"kind": "encoding", "tensor": tensor, "data": to_plain(data)}
    return {"kind": "value", "value": to_plain(output)}


# -- cases -------------------------------------------------------------------------------------------------------------


def word_spans(text: str) -> list[tuple[int, int]]:
    spans = [(m.start(), m.end()) for m in re.finditer(r"[^\s,.!?:;、。，]+", text)]
    if len(spans) <= 1:
        # Text without spaces (CJK, Thai): spans of two characters every three.
        spans = [(start, min(start + 2, len(text))) for start in range(0, len(text) - 1, 3)]
    return spans


def build_cases(texts: list[str]) -> list[dict]:
    cases: list[dict] = []

    def add(name, tokenizer, method, args=None, init=None, pad_args=None):
        cases.append(
            {
                "name": name,
                "tokenizer": tokenizer,
                "init": init or {},
                "method": method,
                "args": args or {},
                "pad_args": pad_args,
            }  # fmt: skip
        )

    main_variants = [name for name, *_ in VARIANTS]
    for variant in main_variants:
        for index, text in enumerate(texts):
            add(f"plain/{variant}/{index}", variant, "__call__", {"text": text})
        add(f"len/{variant}", variant, "len")
        add(f"vocab_size/{variant}", variant, "vocab_size")
        add(f"special_ids/{variant}", variant, "special_ids")

    variant, other = "unigram-full-base", "bpe-full-largelite"
    for tok in (variant, other):
        for index, text in enumerate(texts):
            spans = word_spans(text)
            if not spans:
                continue
            first = spans[:3]
            add(f"spans/{tok}/{index}", tok, "__call__", {"text": text, "entity_spans": first})
            names = ["en:Japan", "ja:日本", "en:Nowhere", "[MASK]", "[UNK]"]
            add(
                f"entities/{tok}/{index}",
                tok,
                "__call__",
                {"text": text, "entity_spans": first, "entities": [names[i % len(names)] for i in range(len(first))]},
            )
            add(f"tokenize/{tok}/{index}", tok, "tokenize", {"text": text})
            add(f"decode/{tok}/{index}", tok, "decode_of", {"text": text, "skip_special_tokens": False})
            add(f"decode_skip/{tok}/{index}", tok, "decode_of", {"text": text, "skip_special_tokens": True})
            add(f"ids_to_tokens/{tok}/{index}", tok, "ids_to_tokens_of", {"text": text})
            # Task modes.
            add(f"task_ec/{tok}/{index}", tok, "__call__", {"text": text, "entity_spans": spans[:1]},
                init={"task": "entity_classification"})  # fmt: skip
            if len(spans) >= 2:
                add(f"task_epc/{tok}/{index}", tok, "__call__", {"text": text, "entity_spans": spans[:2]},
                    init={"task": "entity_pair_classification"})  # fmt: skip
                add(f"task_epc_rev/{tok}/{index}", tok, "__call__",
                    {"text": text, "entity_spans": [spans[1], spans[0]]},
                    init={"task": "entity_pair_classification"})  # fmt: skip
            ngrams = [(spans[i][0], spans[j][1]) for i in range(len(spans)) for j in range(i, min(i + 3, len(spans)))]
            add(f"task_esc/{tok}/{index}", tok, "__call__", {"text": text, "entity_spans": ngrams},
                init={"task": "entity_span_classification"})  # fmt: skip

    # Pairs, with and without entity spans on either side.
    for index in range(0, len(texts) - 1, 3):
        text, text_pair = texts[index], texts[index + 1]
        spans, pair_spans = word_spans(text)[:2], word_spans(text_pair)[:2]
        add(f"pair/{index}", variant, "__call__", {"text": text, "text_pair": text_pair})
        add(f"pair_spans/{index}", variant, "__call__",
            {"text": text, "text_pair": text_pair, "entity_spans": spans, "entity_spans_pair": pair_spans,
             "entities": ["en:Tokyo"] * len(spans), "entities_pair": ["de:Deutschland"] * len(pair_spans)})  # fmt: skip
        add(f"pair_only_second_spans/{index}", other, "__call__",
            {"text": text, "text_pair": text_pair, "entity_spans_pair": pair_spans})  # fmt: skip
        add(f"pair_return_flags/{index}", variant, "__call__",
            {"text": text, "text_pair": text_pair, "entity_spans": spans, "return_token_type_ids": True,
             "return_special_tokens_mask": True, "return_length": True})  # fmt: skip

    # Truncation strategies and max lengths, with entities falling outside the kept tokens.
    long_text = texts[1]
    long_spans = word_spans(long_text)
    short_text = texts[0]
    for strategy in (True, "longest_first", "only_first", "only_second", False):
        for max_length in (8, 12, 20, 64):
            add(
                f"trunc_single/{strategy}/{max_length}",
                variant,
                "__call__",
                {"text": long_text, "entity_spans": long_spans, "truncation": strategy, "max_length": max_length},
            )
            add(
                f"trunc_pair/{strategy}/{max_length}",
                variant,
                "__call__",
                {
                    "text": long_text,
                    "text_pair": short_text,
                    "entity_spans": long_spans[:6],
                    "entity_spans_pair": word_spans(short_text)[:4],
                    "truncation": strategy,
                    "max_length": max_length,
                },
            )
    for side in ("left", "right"):
        add(f"trunc_side/{side}", variant, "__call__",
            {"text": long_text, "entity_spans": long_spans[:4], "truncation": True, "max_length": 10},
            init={"truncation_side": side})  # fmt: skip
    for max_entity_length in (2, 5, 40):
        for truncation in (True, False):
            add(f"max_entity_length/{max_entity_length}/{truncation}", variant, "__call__",
                {"text": long_text, "entity_spans": long_spans, "max_entity_length": max_entity_length,
                 "truncation": truncation})  # fmt: skip
    add("max_entity_length_init", variant, "__call__", {"text": long_text, "entity_spans": long_spans,
        "truncation": True}, init={"max_entity_length": 3})  # fmt: skip
    add(
        "max_mention_length",
        variant,
        "__call__",
        {"text": long_text, "entity_spans": [(0, len(long_text) - 1)]},
        init={"max_mention_length": 5},
    )
    add("long_mention_default", variant, "__call__", {"text": " ".join(texts[:4]), "entity_spans": [(0, 200)]})
    add("overflow_single", variant, "__call__",
        {"text": long_text, "entity_spans": long_spans, "truncation": True, "max_length": 12, "stride": 2,
         "return_overflowing_tokens": True, "max_entity_length": 2})  # fmt: skip
    add("overflow_pair_only_first", variant, "__call__",
        {"text": long_text, "text_pair": short_text, "truncation": "only_first", "max_length": 16,
         "return_overflowing_tokens": True})  # fmt: skip
    add(
        "overflow_plain_truncated",
        variant,
        "__call__",
        {"text": long_text, "truncation": True, "max_length": 10, "return_overflowing_tokens": True},
    )

    # Padding.
    batch = texts[:5]
    batch_spans = [word_spans(text)[: 1 + i] for i, text in enumerate(batch)]
    for side in ("right", "left"):
        for padding in (True, "longest", "max_length", False):
            for multiple in (None, 8):
                args = {
                    "text": batch,
                    "entity_spans": batch_spans,
                    "padding": padding,
                    "padding_side": side,
                    "max_length": 48 if padding == "max_length" else None,
                    "pad_to_multiple_of": multiple,
                }
                add(f"pad_batch/{side}/{padding}/{multiple}", variant, "__call__", args)
                add(
                    f"pad_single/{side}/{padding}/{multiple}",
                    other,
                    "__call__",
                    {**args, "text": batch[1], "entity_spans": batch_spans[1]},
                )
        add(f"pad_init_side/{side}", variant, "__call__", {"text": batch, "entity_spans": batch_spans,
            "padding": True}, init={"padding_side": side})  # fmt: skip
        add(f"pad_esc/{side}", variant, "__call__",
            {"text": batch, "entity_spans": batch_spans, "padding": "max_length", "max_length": 64,
             "padding_side": side, "max_entity_length": 8, "truncation": True},
            init={"task": "entity_span_classification"})  # fmt: skip
    add("pad_max_length_truncate", variant, "__call__",
        {"text": batch, "entity_spans": batch_spans, "padding": "max_length", "truncation": True, "max_length": 16,
         "max_entity_length": 2})  # fmt: skip
    add(
        "pad_default_max_entity",
        variant,
        "__call__",
        {"text": batch[0], "entity_spans": batch_spans[0], "padding": "max_length", "max_length": 32},
    )
    # pad() on lists of encodings (a DataLoader collate_fn).
    for side in ("right", "left"):
        for padding in (True, "max_length"):
            add(f"pad_list/{side}/{padding}", variant, "pad_list",
                {"texts": batch, "entity_spans": batch_spans},
                pad_args={"padding": padding, "padding_side": side,
                          "max_length": 40 if padding == "max_length" else None,
                          "max_entity_length": 6 if padding == "max_length" else None})  # fmt: skip
    add(
        "pad_list_esc",
        variant,
        "pad_list",
        {"texts": batch, "entity_spans": batch_spans},
        init={"task": "entity_span_classification"},
        pad_args={"padding": True, "pad_to_multiple_of": 4},
    )
    add(
        "pad_list_tensors",
        variant,
        "pad_list",
        {"texts": batch, "entity_spans": batch_spans},
        pad_args={"padding": True, "return_tensors": "pt"},
    )
    add("pad_list_plain", variant, "pad_list", {"texts": batch}, pad_args={"padding": True})

    # Batches, return_tensors and return_* flags.
    add("batch_plain", variant, "__call__", {"text": texts[:8]})
    add("batch_pairs", variant, "__call__", {"text": texts[:4], "text_pair": texts[4:8], "padding": True})
    add("batch_pairs_spans", variant, "__call__",
        {"text": texts[:3], "text_pair": texts[3:6], "entity_spans": [word_spans(t)[:2] for t in texts[:3]],
         "entity_spans_pair": [word_spans(t)[:1] for t in texts[3:6]], "padding": True})  # fmt: skip
    add("batch_entities", variant, "__call__",
        {"text": texts[:3], "entity_spans": [word_spans(t)[:2] for t in texts[:3]],
         "entities": [["en:Japan", "nobody"], ["ja:東京", "[MASK]"], ["en:Iran", "en:Paris"]]})  # fmt: skip
    for tensor in ("pt", "np"):
        add(f"tensors/{tensor}", variant, "__call__",
            {"text": texts[:4], "entity_spans": [word_spans(t)[:2] for t in texts[:4]], "padding": True,
             "return_tensors": tensor})  # fmt: skip
        add(
            f"tensors_single/{tensor}",
            variant,
            "__call__",
            {"text": texts[0], "entity_spans": word_spans(texts[0])[:2], "return_tensors": tensor},
        )
    add("flags_all", variant, "__call__",
        {"text": texts[:3], "entity_spans": [word_spans(t)[:2] for t in texts[:3]], "return_token_type_ids": True,
         "return_special_tokens_mask": True, "return_length": True, "return_attention_mask": False,
         "padding": True})  # fmt: skip
    add("no_special_tokens", variant, "__call__",
        {"text": texts[0], "text_pair": texts[1], "entity_spans": word_spans(texts[0])[:2],
         "entity_spans_pair": word_spans(texts[1])[:2], "add_special_tokens": False,
         "return_special_tokens_mask": True})  # fmt: skip
    add("encode", variant, "encode", {"text": texts[2], "text_pair": texts[3]})
    add("encode_trunc", variant, "encode", {"text": texts[2], "max_length": 6, "truncation": True})
    add("batch_decode", variant, "batch_decode_of", {"texts": texts[:6]})
    add(
        "tokens_to_ids",
        variant,
        "convert_tokens_to_ids",
        {"tokens": ["▁Tokyo", "<mask>", "<ent>", "<ent2>", "<s>", "<pad>", "</s>", "<unk>", "never-a-piece", "▁"]},
    )
    add("ids_to_tokens_range", variant, "convert_ids_to_tokens", {"ids": list(range(0, 40))})
    add("ids_to_tokens_skip", variant, "convert_ids_to_tokens",
        {"ids": [0, 5, 1, 2, 3, 20, 1000], "skip_special_tokens": True})  # fmt: skip
    add("decode_markers", variant, "decode_of", {"text": texts[0], "skip_special_tokens": False, "entity_spans":
        word_spans(texts[0])[:1]}, init={"task": "entity_classification"})  # fmt: skip
    add("decode_markers_skip", variant, "decode_of", {"text": texts[0], "skip_special_tokens": True, "entity_spans":
        word_spans(texts[0])[:1]}, init={"task": "entity_classification"})  # fmt: skip

    # Spans at awkward places: after spaces, at the text edges, adjacent and nested, CJK without spaces.
    edge_text = "Tabs\tbetween\t\twords and   repeated    spaces  here."
    add("edge/after_spaces", variant, "__call__", {"text": edge_text, "entity_spans": [(22, 30), (21, 30), (35, 41)]})
    add("edge/whole", variant, "__call__", {"text": edge_text, "entity_spans": [(0, len(edge_text))]})
    add("edge/adjacent", variant, "__call__", {"text": edge_text, "entity_spans": [(0, 4), (4, 5), (5, 12)]})
    add("edge/nested", variant, "__call__", {"text": edge_text, "entity_spans": [(0, 12), (5, 12), (0, 4)]})
    add("edge/overlapping", variant, "__call__", {"text": edge_text, "entity_spans": [(0, 8), (5, 12)]})
    add("edge/duplicate", variant, "__call__", {"text": edge_text, "entity_spans": [(0, 4), (0, 4)]})
    add("edge/space_only", variant, "__call__", {"text": edge_text, "entity_spans": [(20, 22)]})
    add("edge/empty_list", variant, "__call__", {"text": edge_text, "entity_spans": []})
    cjk = "東京タワーは港区にある電波塔で、高さは333メートルです。"
    add("edge/cjk", other, "__call__", {"text": cjk, "entity_spans": [(0, 2), (0, 5), (6, 8), (19, 25)]})
    add(
        "edge/mask_in_span",
        variant,
        "__call__",
        {"text": "Mixed <mask> token and <s> markers </s> in text.", "entity_spans": [(6, 12), (23, 26)]},
    )
    add("edge/pair_overlap_task", variant, "__call__", {"text": edge_text, "entity_spans": [(0, 12), (5, 12)]},
        init={"task": "entity_pair_classification"})  # fmt: skip
    add("edge/empty_text", variant, "__call__", {"text": ""})
    add("edge/space_text", variant, "__call__", {"text": "   "})
    add("edge/empty_text_with_empty_spans", variant, "__call__", {"text": "", "entity_spans": []})
    add(
        "edge/many_spans_no_truncation",
        variant,
        "__call__",
        {"text": long_text, "entity_spans": [(s, e) for s, e in long_spans] * 3},
    )

    # Invalid input: the reference's exception type (or its output where it raises nothing).
    bad = texts[0]
    add("bad/spans_not_list", variant, "__call__", {"text": bad, "entity_spans": (0, 5)})
    add("bad/span_is_list", variant, "__call__", {"text": bad, "entity_spans": [[0, 5]]})
    add("bad/span_float", variant, "__call__", {"text": bad, "entity_spans": [(0.5, 5)]})
    add("bad/span_out_of_range", variant, "__call__", {"text": bad, "entity_spans": [(0, len(bad) + 5)]})
    add(
        "bad/span_start_out_of_range",
        variant,
        "__call__",
        {"text": bad, "entity_spans": [(len(bad) + 2, len(bad) + 5)]},
    )
    add("bad/span_reversed", variant, "__call__", {"text": bad, "entity_spans": [(5, 0)]})
    add("bad/span_empty", variant, "__call__", {"text": bad, "entity_spans": [(3, 3)]})
    add("bad/span_negative", variant, "__call__", {"text": bad, "entity_spans": [(-5, -1)]})
    add("bad/entities_not_list", variant, "__call__", {"text": bad, "entity_spans": [(0, 5)], "entities": "en:Japan"})
    add("bad/entities_not_str", variant, "__call__", {"text": bad, "entity_spans": [(0, 5)], "entities": [5]})
    add(
        "bad/entities_count",
        variant,
        "__call__",
        {"text": bad, "entity_spans": [(0, 5)], "entities": ["en:Japan", "en:Tokyo"]},
    )
    add("bad/text_int", variant, "__call__", {"text": 5})
    add("bad/text_pretokenized", variant, "__call__", {"text": [["a", "b"]]})
    add("bad/text_pair_int", variant, "__call__", {"text": bad, "text_pair": 7})
    add("bad/ec_two_spans", variant, "__call__", {"text": bad, "entity_spans": [(0, 5), (6, 8)]},
        init={"task": "entity_classification"})  # fmt: skip
    add("bad/ec_no_spans", variant, "__call__", {"text": bad}, init={"task": "entity_classification"})
    add("bad/epc_one_span", variant, "__call__", {"text": bad, "entity_spans": [(0, 5)]},
        init={"task": "entity_pair_classification"})  # fmt: skip
    add("bad/esc_empty", variant, "__call__", {"text": bad, "entity_spans": []},
        init={"task": "entity_span_classification"})  # fmt: skip
    add("bad/task_unknown", variant, "__call__", {"text": bad}, init={"task": "ner"})
    add(
        "bad/overflow_longest_first_pair",
        variant,
        "__call__",
        {"text": bad, "text_pair": bad, "truncation": True, "max_length": 8, "return_overflowing_tokens": True},
    )
    add(
        "bad/token_types_without_specials",
        variant,
        "__call__",
        {"text": bad, "add_special_tokens": False, "return_token_type_ids": True},
    )
    add("bad/split_into_words", variant, "__call__", {"text": bad, "is_split_into_words": True})
    add("bad/offsets", variant, "__call__", {"text": bad, "return_offsets_mapping": True})
    add("bad/pad_no_input_ids", variant, "pad_dict", {"encoded": {"attention_mask": [[1, 1]]}})
    add("bad/padding_side", variant, "__call__", {"text": [bad, texts[1]], "padding": True, "padding_side": "middle"})
    return cases + task_per_call_cases(texts)


def task_per_call_cases(texts: list[str]) -> list[dict]:
    """Task-mode cases recorded with the task set at load time; the tests replay every such case (these and the task
    cases above) on a tokenizer loaded without a task, passing `task=` with each call, and must get these outputs.

    They cover what a per-call task changes besides the markers: the entity budget of `padding="max_length"` and of
    truncation (1 / 2 for the classification tasks), batches, `pad()` of task features, tensors, `text_pair`.
    """
    cases: list[dict] = []
    texts = [text for text in texts if len(word_spans(text)) >= 3]
    batch = texts[:4]
    spans = {
        "entity_classification": [word_spans(text)[1:2] for text in batch],
        "entity_pair_classification": [[word_spans(text)[2], word_spans(text)[0]] for text in batch],
        "entity_span_classification": [word_spans(text)[:6] for text in batch],
    }
    short = {"entity_classification": "ec", "entity_pair_classification": "epc", "entity_span_classification": "esc"}
    for task, task_spans in spans.items():
        for tok in ("unigram-full-base", "bpe-lite-base"):
            name, init = f"per_call_task/{short[task]}/{tok}", {"task": task}
            cases.append(_case(f"{name}/batch", tok, "__call__", {"text": batch, "entity_spans": task_spans}, init))
            cases.append(_case(f"{name}/batch_padded", tok, "__call__",
                               {"text": batch, "entity_spans": task_spans, "padding": True}, init))  # fmt: skip
            cases.append(_case(f"{name}/max_length", tok, "__call__",
                               {"text": batch[0], "entity_spans": task_spans[0], "padding": "max_length",
                                "max_length": 48}, init))  # fmt: skip
            cases.append(_case(f"{name}/batch_max_length", tok, "__call__",
                               {"text": batch[:2], "entity_spans": task_spans[:2], "padding": "max_length",
                                "max_length": 48, "truncation": True}, init))  # fmt: skip
            cases.append(_case(f"{name}/truncated", tok, "__call__",
                               {"text": batch[1], "entity_spans": task_spans[1], "truncation": True, "max_length": 10},
                               init))  # fmt: skip
            cases.append(_case(f"{name}/tensors", tok, "__call__",
                               {"text": batch, "entity_spans": task_spans, "padding": True, "return_tensors": "pt",
                                "return_token_type_ids": True, "return_special_tokens_mask": True}, init))  # fmt: skip
            cases.append(
                _case(
                    f"{name}/text_pair",
                    tok,
                    "__call__",
                    {"text": batch[2], "text_pair": batch[3], "entity_spans": task_spans[2]},
                    init,
                )
            )
            cases.append(_case(f"{name}/pad_list", tok, "pad_list", {"texts": batch, "entity_spans": task_spans}, init,
                               pad_args={"padding": "max_length", "max_length": 64}))  # fmt: skip
            cases.append(_case(f"{name}/pad_list_longest", tok, "pad_list",
                               {"texts": batch, "entity_spans": task_spans}, init,
                               pad_args={"padding": True, "pad_to_multiple_of": 8, "padding_side": "left"}))  # fmt: skip
            cases.append(
                _case(
                    f"{name}/decode",
                    tok,
                    "decode_of",
                    {"text": batch[0], "entity_spans": task_spans[0], "skip_special_tokens": False},
                    init,
                )
            )
    return cases


def _case(name, tokenizer, method, args, init, pad_args=None) -> dict:
    return {"name": name, "tokenizer": tokenizer, "init": init, "method": method, "args": args, "pad_args": pad_args}


def saved_cases(texts: list[str]) -> list[dict]:
    """A smaller set replayed on folders saved by mluke_hf (tokenizer name "saved:<variant>")."""
    cases = []
    for name, *_ in VARIANTS:
        for index, text in enumerate(texts[::4]):
            spans = word_spans(text)[:3]
            cases.append({"name": f"saved/{name}/{index}", "tokenizer": f"saved:{name}", "init": {},
                          "method": "__call__", "args": {"text": text, "entity_spans": spans,
                                                          "entities": ["en:Japan"] * len(spans)},
                          "pad_args": None})  # fmt: skip
        cases.append({"name": f"saved/{name}/len", "tokenizer": f"saved:{name}", "init": {}, "method": "len",
                      "args": {}, "pad_args": None})  # fmt: skip
        cases.append({"name": f"saved/{name}/mask", "tokenizer": f"saved:{name}", "init": {}, "method": "__call__",
                      "args": {"text": "Paris is the <mask> of France."}, "pad_args": None})  # fmt: skip
        cases.append({"name": f"saved/{name}/special_ids", "tokenizer": f"saved:{name}", "init": {},
                      "method": "special_ids", "args": {}, "pad_args": None})  # fmt: skip
    return cases


def run_case(tokenizer, case: dict, task_per_call: dict | None = None):
    """Run one case on a tokenizer (the tests replay the cases through this function).

    `task_per_call` (`{"task": ...}`, mluke_hf only: 4.57.6 takes the task at load time) is passed to every encoding
    and padding call of the case.
    """
    method, args = case["method"], dict(case["args"])
    call = task_per_call or {}
    if method == "__call__":
        return tokenizer(**args, **call)
    if method == "encode":
        return tokenizer.encode(**args, **call)
    if method == "tokenize":
        return tokenizer.tokenize(args["text"])
    if method == "len":
        return len(tokenizer)
    if method == "vocab_size":
        return tokenizer.vocab_size
    if method == "special_ids":
        return {
            "entity_ids": [tokenizer.entity_pad_token_id, tokenizer.entity_unk_token_id,
                           tokenizer.entity_mask_token_id, tokenizer.entity_mask2_token_id],
            "mask": tokenizer.mask_token_id,
            "markers": tokenizer.convert_tokens_to_ids(["<ent>", "<ent2>"]),
            "all_special_ids": sorted(set(tokenizer.all_special_ids)),
        }  # fmt: skip
    if method == "decode_of":
        ids = tokenizer(args["text"], entity_spans=args.get("entity_spans"), **call)["input_ids"]
        return tokenizer.decode(ids, skip_special_tokens=args["skip_special_tokens"])
    if method == "ids_to_tokens_of":
        return tokenizer.convert_ids_to_tokens(tokenizer(args["text"])["input_ids"])
    if method == "batch_decode_of":
        return tokenizer.batch_decode(tokenizer(args["texts"])["input_ids"])
    if method == "convert_tokens_to_ids":
        return tokenizer.convert_tokens_to_ids(args["tokens"])
    if method == "convert_ids_to_tokens":
        return tokenizer.convert_ids_to_tokens(args["ids"], skip_special_tokens=args.get("skip_special_tokens", False))
    if method == "pad_list":
        spans = args.get("entity_spans") or [None] * len(args["texts"])
        encodings = [tokenizer(text, entity_spans=span, **call) for text, span in zip(args["texts"], spans)]
        pad_args = {key: value for key, value in case["pad_args"].items() if value is not None}
        return tokenizer.pad(encodings, **pad_args, **call)
    if method == "pad_dict":
        return tokenizer.pad(args["encoded"])
    raise ValueError(f"unknown method {method}")


def decode_value(value):
    if isinstance(value, dict):
        if set(value) == {"__tuple__"}:
            return tuple(decode_value(item) for item in value["__tuple__"])
        return {key: decode_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decode_value(item) for item in value]
    return value


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def record(cases: list[dict], folders: dict[str, Path]) -> list[dict]:
    import torch  # noqa: F401  (return_tensors="pt" cases)
    from transformers import MLukeTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_warning()
    capture = _Capture()
    hf_logging.get_logger("transformers").addHandler(capture)
    cache: dict = {}
    results = []
    for case in cases:
        key = (case["tokenizer"], json.dumps(case["init"], sort_keys=True))
        decoded = {**case, "args": decode_value(case["args"])}
        capture.messages.clear()
        try:
            if key not in cache:
                cache[key] = MLukeTokenizer.from_pretrained(str(folders[case["tokenizer"]]), **case["init"])
            output = {"ok": describe_output(run_case(cache[key], decoded))}
        except Exception as error:  # noqa: BLE001 - the type is the golden value
            output = {"error": type(error).__name__, "mro": [klass.__name__ for klass in type(error).__mro__]}
        warnings = [m for m in capture.messages if "entities are ignored" in m]
        results.append({**case, **output, "warnings": warnings})
    return results


def save_with_main_env(main_python: str, folders: dict[str, Path], root: Path) -> dict[str, Path]:
    """Load each folder with mluke_hf's MLukeTokenizer in the main environment and save it to root/saved-<name>."""
    script = (
        "import sys\n"
        "from mluke_hf import MLukeTokenizer\n"
        "for source, target in zip(sys.argv[1::2], sys.argv[2::2]):\n"
        "    MLukeTokenizer.from_pretrained(source).save_pretrained(target)\n"
    )
    saved = {}
    argv = []
    for name, folder in folders.items():
        saved[f"saved:{name}"] = root / f"saved-{name}"
        argv += [str(folder), str(saved[f"saved:{name}"])]
    subprocess.run([main_python, "-c", script, *argv], check=True, cwd=REPO)
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--main-python", default=str(REPO / ".venv" / "bin" / "python"))
    options = parser.parse_args()
    import transformers

    if transformers.__version__ != "4.57.6":
        sys.exit(f"run this with transformers 4.57.6 (found {transformers.__version__})")
    building = load_building()
    models = prepare_models(building)
    texts = read_corpus()
    with tempfile.TemporaryDirectory() as tmp:
        folders = write_folders(building, models, Path(tmp))
        cases = [{**case, "args": encode_value(case["args"])} for case in build_cases(texts)]
        results = record(cases, folders)
        saved = save_with_main_env(options.main_python, folders, Path(tmp))
        saved_results = record(
            [{**c, "args": encode_value(c["args"])} for c in saved_cases(texts)], {**folders, **saved}
        )
        # The saved folders must reproduce the originals under 4.57.6 too.
        originals = {r["name"]: r for r in record(
            [{**c, "tokenizer": c["tokenizer"].split(":", 1)[1], "args": encode_value(c["args"])}
             for c in saved_cases(texts)], folders)}  # fmt: skip
    mismatches = [
        (r["name"], r.get("error"), originals[r["name"]].get("error"))
        for r in saved_results
        if r.get("ok") != originals[r["name"]].get("ok") or "error" in r
    ]
    if mismatches:
        sys.exit(f"folders saved by mluke_hf load differently under transformers 4.57.6: {mismatches}")
    golden = {
        "transformers_version": transformers.__version__,
        "variants": [list(variant) for variant in VARIANTS],
        "full_entities": FULL_ENTITIES,
        "cases": results + saved_results,
    }
    GOLDEN.write_text(json.dumps(golden, ensure_ascii=False, indent=None) + "\n", encoding="utf-8")
    errors = sum(1 for r in golden["cases"] if "error" in r)
    print(f"wrote {len(golden['cases'])} cases ({errors} raising) to {GOLDEN.relative_to(REPO)}")


if __name__ == "__main__":
    main()
