"""Ids back to text, as transformers 4.57.6's MLukeTokenizer decodes them; both tokenizer classes inherit it."""

from __future__ import annotations

from .layout import SPIECE_UNDERLINE


class DecodingMixin:
    """`convert_tokens_to_string` and `_decode` of both mLUKE tokenizers.

    Put it before transformers' tokenizer class in the bases. It reads `convert_ids_to_tokens`, `convert_tokens_to_ids`,
    `all_special_tokens`, `_added_tokens_encoder`, `_extra_special_tokens`, `vocab_size`,
    `clean_up_tokenization_spaces` and `clean_up_tokenization`, which both classes have.
    """

    def convert_tokens_to_string(self, tokens: list[str]) -> str:
        return "".join(tokens).replace(SPIECE_UNDERLINE, " ").strip()

    def _decode(
        self,
        token_ids,
        skip_special_tokens: bool = False,
        clean_up_tokenization_spaces: bool | None = None,
        spaces_between_special_tokens: bool = True,
        **kwargs,
    ) -> str:
        """Decode as transformers 4.57.6: `<ent>`/`<ent2>` (ids past vocab_size) stand apart, joined by spaces."""
        tokens = self.convert_ids_to_tokens(token_ids, skip_special_tokens=skip_special_tokens)
        if isinstance(tokens, str):
            tokens = [tokens]
        special_tokens = set(self.all_special_tokens)
        standalone = set(self._added_tokens_encoder) - special_tokens
        standalone |= {
            str(token)
            for token in self._extra_special_tokens
            if self.convert_tokens_to_ids(str(token)) >= self.vocab_size
        }
        sub_texts: list[str] = []
        current: list[str] = []
        for token in tokens:
            if skip_special_tokens and token in special_tokens:
                continue
            if token in standalone:
                if current:
                    text = self.convert_tokens_to_string(current)
                    if text:
                        sub_texts.append(text)
                    current = []
                sub_texts.append(token)
            else:
                current.append(token)
        if current:
            sub_texts.append(self.convert_tokens_to_string(current))
        text = (" " if spaces_between_special_tokens else "").join(sub_texts)
        if clean_up_tokenization_spaces is None:
            clean_up_tokenization_spaces = self.clean_up_tokenization_spaces
        return self.clean_up_tokenization(text) if clean_up_tokenization_spaces else text
