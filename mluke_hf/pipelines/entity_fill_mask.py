"""`entity-fill-mask`: entity cloze (mLAMA-style), the entities that best fill a masked mention.

```python
import mluke_hf
from transformers import pipeline

fill = pipeline("entity-fill-mask", model="studio-ousia/mluke-base")
fill("The capital of Japan is <mask>.", top_k=3, language="en")
# [{"entity": "en:Tokyo", "score": 0.41}, ...]
fill("Tokyo is the capital of <mask>.", candidates=["Japan", "China"], language="en")
```

The span (by default: the run of `<mask>` tokens in the text) enters the model as a `[MASK]` entity, and the masked
entity prediction head scores every entity of the checkpoint's entity vocabulary (entity_vocab.json). Names are
the vocabulary's keys: `"lang:title"` in the released full vocabularies (mluke-base, mluke-large), where the names of
one entity in several languages share an id. Lite checkpoints carry no entities and cannot fill masks.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from functools import cached_property
from typing import Any

import torch

from ..text.entity_vocab import EntityVocab, FirstNames, ReverseEntityNames
from .base import EntityPipeline, check_top_k


class EntityFillMaskPipeline(EntityPipeline):
    """Top entities for a masked mention, by name from the entity vocabulary.

    Call: `fill(text, span=(s, e), top_k=5, candidates=None, language=None)`, a dict with "text" (and "span"), or a
    list of either (batched). Without a span, the run of mask tokens (`<mask>`, possibly several separated by spaces)
    in the text is the mention.

    Result per input: up to `top_k` `{"entity", "score"}`, best first; the scores are the softmax over the entities
    considered: the `candidates` when given (names from the vocabulary; with `language`, bare titles are read as
    `"<language>:title"`), else every entity of the vocabulary (that has a name in `language`, when given). Special
    entities (`[PAD]`, `[UNK]`, `[MASK]`, `[MASK2]`) are never predicted. An entity with names in several languages is
    reported under its name in `language`, else under its first name in the vocabulary.
    """

    optional_span_arguments = ("span",)
    model_output_names = ("entity_logits",)

    # Languages whose choices are kept (finding them reads every name: 9.8M in a released vocabulary).
    remembered_languages = 4

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._language_lock = threading.Lock()
        self._choices_by_language: OrderedDict[str, tuple[list[int], list[str]]] = OrderedDict()
        if not len(self._choosable_ids):
            raise ValueError(
                "entity-fill-mask needs an entity vocabulary with entities, but this checkpoint's entity_vocab.json "
                "holds only the special entities (a lite checkpoint); use a full one such as studio-ousia/mluke-base"
            )

    @cached_property
    def _special_entity_ids(self) -> set[int]:
        return {
            getattr(self.tokenizer, name)
            for name in ("entity_pad_token_id", "entity_unk_token_id", "entity_mask_token_id", "entity_mask2_token_id")
            if getattr(self.tokenizer, name, None) is not None
        }

    @cached_property
    def _entity_names(self) -> EntityVocab | ReverseEntityNames:
        """id -> names: a released vocabulary answers from its index (no dict of its 9.8M names is built)."""
        vocab = self.tokenizer.entity_vocab
        return vocab if isinstance(vocab, EntityVocab) else ReverseEntityNames(vocab)

    def _is_choosable(self, index: int) -> bool:
        return index not in self._special_entity_ids and 0 <= index < self.model.config.entity_vocab_size

    @cached_property
    def _choosable_ids(self) -> torch.Tensor:
        """Every entity the head can predict and the vocabulary names, ascending."""
        ids = torch.as_tensor(self._entity_names.entity_ids(), dtype=torch.long)
        special = torch.tensor(sorted(self._special_entity_ids), dtype=torch.long)
        return ids[~torch.isin(ids, special) & (ids >= 0) & (ids < self.model.config.entity_vocab_size)]

    @cached_property
    def _all_choices(self) -> tuple[torch.Tensor, Sequence[str]]:
        return self._choosable_ids, FirstNames(self._entity_names, self._choosable_ids.tolist())

    def _language_choices(self, language: str) -> tuple[list[int], list[str]]:
        """The entities with a `language:` name, remembered for the last few languages asked for (a memo: the
        answer never changes; one lock, so threads asking at once read the names once)."""
        with self._language_lock:
            choices = self._choices_by_language.get(language)
            if choices is None:
                choices = self._find_language_choices(language)
                self._choices_by_language[language] = choices
                while len(self._choices_by_language) > self.remembered_languages:
                    self._choices_by_language.popitem(last=False)
            self._choices_by_language.move_to_end(language)
        return choices

    def _find_language_choices(self, language: str) -> tuple[list[int], list[str]]:
        # Every name is read here (a language's names are spread over the whole vocabulary).
        prefix = f"{language}:"
        first_names: dict[int, str] = {}
        languages = set()
        for name, index in self.tokenizer.entity_vocab.items():
            if ":" in name:
                languages.add(name.split(":", 1)[0])
            if name.startswith(prefix) and index not in first_names and self._is_choosable(index):
                first_names[index] = name
        if not first_names:
            raise ValueError(
                f"language={language!r}: no entity of the vocabulary has a '{prefix}' name; languages present: "
                f"{sorted(languages) or 'none (the names have no language prefix)'}"
            )
        ids = sorted(first_names)
        return ids, [first_names[index] for index in ids]

    def _candidate_choices(self, candidates: Sequence[str], language: str | None) -> tuple[list[int], list[str]]:
        if isinstance(candidates, str) or not isinstance(candidates, Sequence) or not candidates:
            raise TypeError(f"candidates must be a non-empty list of entity names, got {candidates!r}")
        vocab = self.tokenizer.entity_vocab
        ids, names, unknown = [], [], []
        for candidate in candidates:
            if not isinstance(candidate, str):
                raise TypeError(f"candidates must be entity names (str), got {candidate!r}")
            name = candidate
            if name not in vocab and language is not None:
                name = f"{language}:{candidate}"
            index = vocab.get(name)
            if index is None or not self._is_choosable(index):
                unknown.append(candidate)
                continue
            ids.append(index)
            names.append(name)
        if unknown:
            raise ValueError(
                f"candidates {unknown} are not entities of the checkpoint's entity vocabulary (names are its keys, "
                "e.g. 'en:Japan'; pass language='en' to give bare titles)"
            )
        return ids, names

    def _sanitize_parameters(
        self,
        top_k: int | None = None,
        candidates: Sequence[str] | None = None,
        language: str | None = None,
        **unknown,
    ):
        if unknown:
            raise TypeError(f"entity-fill-mask got unexpected arguments {sorted(unknown)}")
        postprocess: dict[str, Any] = {}
        if top_k is not None:
            postprocess["top_k"] = check_top_k(top_k)
        if language is not None and (not isinstance(language, str) or not language):
            raise TypeError(f"language must be a language code such as 'en', got {language!r}")
        if candidates is not None:
            postprocess["choices"] = self._candidate_choices(candidates, language)
        elif language is not None:
            postprocess["choices"] = self._language_choices(language)
        return {}, {}, postprocess

    def _mask_span(self, text: str) -> tuple[int, int]:
        mask = re.escape(str(self.tokenizer.mask_token))
        match = re.search(rf"{mask}(?:\s*{mask})*", text)
        if match is None:
            raise ValueError(
                f"span is required when the text holds no {self.tokenizer.mask_token}: pass span=(start, end), the "
                "characters of the masked mention"
            )
        return match.span()

    def preprocess(self, inputs: dict) -> dict[str, Any]:
        text = inputs["text"]
        span = inputs["span"] if inputs["span"] is not None else self._mask_span(text)
        return {"features": [self.encode(text, [span], task=None, argument="span")]}

    def postprocess(self, prepared: dict, top_k: int = 5, choices: tuple[Sequence[int], Sequence[str]] | None = None):
        ids, names = choices if choices is not None else self._all_choices
        logits = prepared["outputs"][0]["entity_logits"][0].float()
        scores = torch.softmax(logits[torch.as_tensor(ids, dtype=torch.long)], dim=-1)
        best = torch.argsort(scores, descending=True, stable=True)[:top_k].tolist()
        return [{"entity": names[index], "score": scores[index].item()} for index in best]
