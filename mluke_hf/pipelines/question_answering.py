"""`question-answering`: extractive QA with character offsets, which transformers 5 no longer ships.

```python
import mluke_hf
from transformers import pipeline

qa = pipeline("question-answering", model="path/to/an/mluke/qa/checkpoint")
qa(question="Where was Obama born?", context="Barack Obama was born in Honolulu, Hawaii.")
# {"score": 0.93, "start": 25, "end": 41, "answer": "Honolulu, Hawaii"}
```

transformers 5 removed its question-answering pipeline (it points users to chat models). mluke_hf registers this one
under the old name for mLUKE and LUKE models with a question-answering head (`model_type` "mluke" or "luke"; other
models are refused with a ValueError, so importing mluke_hf brings the task back for these models only) and a fast
tokenizer with offsets (`MLukeTokenizerFast`, which AutoTokenizer gives for mLUKE folders). It cuts long contexts into
overlapping windows (`max_seq_len`, `doc_stride`), scores every span of the context inside each window as
P(start) * P(end) (softmax over the window's context tokens), and returns the best spans as character spans of the
context, so `context[start:end] == answer`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from transformers.pipelines.base import Pipeline

from ..tasks.ner import model_max_tokens
from .base import check_at_most


def _check_positive(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return value


def _question_context_pairs(args: tuple, kwargs: dict) -> tuple[list[dict[str, str]], bool]:
    """Normalise the call forms to a list of {"question", "context"} and whether one example was given."""
    question, context = kwargs.pop("question", None), kwargs.pop("context", None)
    if args and (question is not None or context is not None):
        raise ValueError("pass either question=/context= or a {'question', 'context'} dict (or a list), not both")
    if args:
        if len(args) != 1:
            raise ValueError(
                f"question-answering takes one positional input (a dict or a list of dicts), got {len(args)}"
            )
        examples = args[0]
        single = isinstance(examples, dict)
        examples = [examples] if single else list(examples)
    else:
        if question is None or context is None:
            raise ValueError("question-answering needs both question= and context= (str, or lists of equal length)")
        single = isinstance(question, str) and isinstance(context, str)
        if single:
            examples = [{"question": question, "context": context}]
        else:
            questions = [question] * len(context) if isinstance(question, str) else list(question)
            contexts = [context] * len(questions) if isinstance(context, str) else list(context)
            if len(questions) != len(contexts):
                raise ValueError(
                    f"question and context lists differ in length ({len(questions)} vs {len(contexts)}); pass one "
                    "question per context, or a single question for all contexts"
                )
            examples = [{"question": q, "context": c} for q, c in zip(questions, contexts)]
    for index, example in enumerate(examples):
        if not isinstance(example, dict) or set(example) != {"question", "context"}:
            raise ValueError(f"input {index} must be a dict with the keys 'question' and 'context', got {example!r}")
        for key in ("question", "context"):
            if not isinstance(example[key], str) or not example[key].strip():
                raise ValueError(f"input {index}: {key} must be a non-empty str, got {example[key]!r}")
    return examples, single


class MLukeQuestionAnsweringPipeline(Pipeline):
    """Extractive question answering over (question, context) pairs.

    Call: `qa(question=..., context=...)` (str, or lists: one question per context, or one question for all),
    `qa({"question": ..., "context": ...})`, or a list of such dicts. Result per input: `{"score", "start", "end",
    "answer"}` (character span of the context), or a list of the `top_k` best when `top_k > 1`.

    Arguments: `top_k` (1), `max_answer_len` (tokens, 15), `max_seq_len` (window length in tokens, the tokenizer's
    limit up to 384), `doc_stride` (tokens shared by consecutive windows, 128 or less to fit), `max_question_len`
    (64), `handle_impossible_answer` (False: when True, an empty answer wins if `<s>` scores above every span).
    All windows of one example go through the model as one batch; `batch_size` is accepted and ignored.
    """

    _load_tokenizer = True
    _load_processor = False
    _load_image_processor = False
    _load_video_processor = False
    _load_feature_extractor = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        check_served_model(self.model)
        if not getattr(self.tokenizer, "is_fast", False):
            raise ValueError(
                "question-answering needs a fast tokenizer (character offsets); load MLukeTokenizerFast (what "
                "AutoTokenizer gives for mLUKE folders) instead of MLukeTokenizer"
            )

    def _sanitize_parameters(
        self,
        top_k=None,
        max_answer_len=None,
        max_seq_len=None,
        doc_stride=None,
        max_question_len=None,
        handle_impossible_answer=None,
        **unknown,
    ):
        if unknown:
            raise TypeError(f"question-answering got unexpected arguments {sorted(unknown)}")
        preprocess: dict[str, Any] = {}
        if max_seq_len is not None:
            limit = model_max_tokens(self.tokenizer, self.model.config) + 2
            max_seq_len = _check_positive(max_seq_len, "max_seq_len")
            what = "tokens per window that the model's positions hold"
            preprocess["max_seq_len"] = check_at_most(max_seq_len, limit, "max_seq_len", what)
        if doc_stride is not None:
            if isinstance(doc_stride, bool) or not isinstance(doc_stride, int) or doc_stride < 0:
                raise ValueError(f"doc_stride must be a non-negative int, got {doc_stride!r}")
            preprocess["doc_stride"] = doc_stride
        if max_question_len is not None:
            preprocess["max_question_len"] = _check_positive(max_question_len, "max_question_len")
        postprocess: dict[str, Any] = {}
        if top_k is not None:
            postprocess["top_k"] = _check_positive(top_k, "top_k")
        if max_answer_len is not None:
            postprocess["max_answer_len"] = _check_positive(max_answer_len, "max_answer_len")
        if handle_impossible_answer is not None:
            postprocess["handle_impossible_answer"] = bool(handle_impossible_answer)
        return preprocess, {}, postprocess

    def __call__(self, *args, **kwargs):
        examples, single = _question_context_pairs(args, kwargs)
        # Each example already runs as one batch of its windows; examples are not stacked together.
        kwargs.pop("batch_size", None)
        results = super().__call__(examples, **kwargs)
        return results[0] if single else results

    def preprocess(self, example, max_seq_len=None, doc_stride=None, max_question_len=64) -> dict[str, Any]:
        tokenizer = self.tokenizer
        if max_seq_len is None:
            max_seq_len = min(tokenizer.model_max_length, 384)
        question = example["question"]
        question_tokens = len(tokenizer(question, add_special_tokens=False)["input_ids"])
        if question_tokens > max_question_len:
            raise ValueError(
                f"the question has {question_tokens} tokens, more than max_question_len={max_question_len}; "
                "shorten it or raise max_question_len"
            )
        room = max_seq_len - question_tokens - tokenizer.num_special_tokens_to_add(pair=True)
        if room < 1:
            raise ValueError(
                f"max_seq_len={max_seq_len} leaves no room for the context after a {question_tokens}-token question; "
                "raise max_seq_len"
            )
        if doc_stride is None:
            doc_stride = min(128, room // 2)
        if doc_stride >= room:
            raise ValueError(
                f"doc_stride={doc_stride} must be smaller than the context room of a window ({room} tokens with "
                f"max_seq_len={max_seq_len}); lower doc_stride or raise max_seq_len"
            )
        encoded = tokenizer(
            question,
            example["context"],
            truncation="only_second",
            max_length=max_seq_len,
            stride=doc_stride,
            padding="longest",
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            return_tensors="pt",
        )
        context_masks = [
            [sequence == 1 for sequence in encoded.sequence_ids(window)] for window in range(len(encoded["input_ids"]))
        ]
        model_inputs = {key: encoded[key] for key in ("input_ids", "attention_mask")}
        return {
            "model_inputs": model_inputs,
            "offsets": encoded["offset_mapping"].tolist(),
            "context_masks": context_masks,
            "context": example["context"],
        }

    def _forward(self, prepared: dict[str, Any]) -> dict[str, Any]:
        outputs = self.model(**prepared["model_inputs"])
        return {
            **{key: value for key, value in prepared.items() if key != "model_inputs"},
            "start_logits": outputs.start_logits.float(),
            "end_logits": outputs.end_logits.float(),
        }

    def postprocess(
        self, output: dict[str, Any], top_k: int = 1, max_answer_len: int = 15, handle_impossible_answer: bool = False
    ):
        context = output["context"]
        candidates: dict[tuple[int, int], float] = {}
        null_score = 0.0
        for window, (starts, ends) in enumerate(zip(output["start_logits"], output["end_logits"])):
            mask = torch.tensor(output["context_masks"][window], dtype=torch.bool)
            if not mask.any():
                continue
            # Softmax over the window's context tokens plus `<s>` (the "no answer" position).
            allowed = mask.clone()
            allowed[0] = True
            start_probs = starts.masked_fill(~allowed, float("-inf")).softmax(-1)
            end_probs = ends.masked_fill(~allowed, float("-inf")).softmax(-1)
            null_score = max(null_score, float(start_probs[0] * end_probs[0]))
            start_probs, end_probs = start_probs * mask, end_probs * mask
            scores = np.triu(np.outer(start_probs.numpy(), end_probs.numpy()))
            scores = np.tril(scores, max_answer_len - 1)  # end - start < max_answer_len
            flat = np.argsort(-scores, axis=None)[: top_k * 4]
            offsets = output["offsets"][window]
            for index in flat:
                start_token, end_token = np.unravel_index(index, scores.shape)
                score = float(scores[start_token, end_token])
                if score <= 0.0:
                    break
                start, end = offsets[start_token][0], offsets[end_token][1]
                # A lone `▁` token covers the space before a word; the answer starts at the word.
                while start < end and context[start].isspace():
                    start += 1
                span = (start, end)
                if end > start and score > candidates.get(span, 0.0):
                    candidates[span] = score
        answers = [
            {"score": score, "start": start, "end": end, "answer": context[start:end]}
            for (start, end), score in sorted(candidates.items(), key=lambda item: -item[1])[:top_k]
        ]
        if handle_impossible_answer and (not answers or null_score > answers[0]["score"]):
            answers = [{"score": null_score, "start": 0, "end": 0, "answer": ""}, *answers][:top_k]
        if not answers:
            answers = [{"score": 0.0, "start": 0, "end": 0, "answer": ""}]
        return answers[0] if top_k == 1 else answers


# The model types this pipeline serves: mLUKE folders saved by the plugin, and released mLUKE/LUKE folders.
SERVED_MODEL_TYPES = ("mluke", "luke")


def check_served_model(model: Any) -> None:
    """Refuse models other than mLUKE/LUKE, so that `import mluke_hf` brings `question-answering` back for them only."""
    model_type = getattr(getattr(model, "config", None), "model_type", None)
    if model_type not in SERVED_MODEL_TYPES:
        raise ValueError(
            f"mluke_hf's question-answering pipeline serves mLUKE and LUKE models only (config.model_type "
            f"{' or '.join(map(repr, SERVED_MODEL_TYPES))}); got {type(model).__name__} with model_type {model_type!r}. "
            "transformers 5 has no question-answering pipeline for other models (it suggests the text-generation "
            "pipeline with a chat model)."
        )


def register_question_answering() -> None:
    """Register the pipeline as `question-answering`, a task transformers 5 dropped.

    transformers 5.19 and later list the task in `pipelines.REMOVED_TASKS` and refuse it with a notice before looking
    at the registry; the notice is lifted (see `mluke_hf.compat.removed_task_notices`). 5.10 to 5.18 have no such
    table. The registered pipeline serves mLUKE/LUKE models only (`check_served_model`): for any other model,
    `pipeline("question-answering", ...)` still fails, with a ValueError instead of transformers' KeyError.
    """
    from transformers import AutoModelForQuestionAnswering
    from transformers.pipelines import PIPELINE_REGISTRY

    from ..compat import removed_task_notices

    removed_task_notices().pop("question-answering", None)
    if PIPELINE_REGISTRY.supported_tasks.get("question-answering", {}).get("impl") is not (
        MLukeQuestionAnsweringPipeline
    ):
        PIPELINE_REGISTRY.register_pipeline(
            "question-answering",
            pipeline_class=MLukeQuestionAnsweringPipeline,
            pt_model=AutoModelForQuestionAnswering,
            type="text",
        )


__all__ = ["MLukeQuestionAnsweringPipeline", "check_served_model", "register_question_answering"]
