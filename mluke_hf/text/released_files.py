"""The released tokenizer file set on save: tokenizer_config.json and special_tokens_map.json as transformers 4.x
(and the released checkpoints) have them; both tokenizer classes inherit it."""

from __future__ import annotations

import json
import os

from .conversion_cache import FINGERPRINT_KEY
from .layout import ENTITY_TOKEN_ARGUMENTS

# Never inline the entity vocabulary (439 MB for mluke-base); load-time options are not tokenizer settings.
_DROPPED_CONFIG_KEYS = ("entity_vocab", "vocab_file", "entity_vocab_file", "model_specific_special_tokens",
                        "is_local", "local_files_only", FINGERPRINT_KEY)  # fmt: skip
_SPECIAL_TOKEN_KEYS = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")


def token_dict(token) -> dict | str:
    """An added token as tokenizer_config.json writes it (a plain string stays a string)."""
    if isinstance(token, str):
        return token
    return {
        "content": token.content,
        "single_word": token.single_word,
        "lstrip": token.lstrip,
        "rstrip": token.rstrip,
        "normalized": token.normalized,
        "special": True,
        "__type": "AddedToken",
    }


class ReleasedFilesMixin:
    """Rewrites the tokenizer_config.json transformers 5 saved, and writes special_tokens_map.json.

    Reads `_added_tokens_encoder` / `_added_tokens_decoder`, `_special_tokens_map`, `_extra_special_tokens`,
    `_entity_token_names`, `init_kwargs` and the entity settings, which both classes have. A class adds its own keys
    by overriding `_released_tokenizer_config` (calling this one first).
    """

    def _write_released_config_files(self, save_directory: str, prefix: str) -> list[str]:
        """Rewrite `<prefix>tokenizer_config.json` in place and write `<prefix>special_tokens_map.json`; returns the
        two paths."""
        config_path = os.path.join(save_directory, prefix + "tokenizer_config.json")
        with open(config_path, encoding="utf-8") as handle:
            config = json.load(handle)
        config = self._released_tokenizer_config(config, save_directory, prefix)
        with open(config_path, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(config, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
        special_map_path = os.path.join(save_directory, prefix + "special_tokens_map.json")
        with open(special_map_path, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(self._special_tokens_map_file(), indent=2, ensure_ascii=False) + "\n")
        return [config_path, special_map_path]

    def _released_tokenizer_config(self, config: dict, save_directory: str, prefix: str) -> dict:
        """Make transformers 5's tokenizer_config.json readable by 4.x too, with the released entity keys."""
        for key in _DROPPED_CONFIG_KEYS:
            config.pop(key, None)
        extra = config.pop("extra_special_tokens", None)
        if extra is not None:
            # transformers 4.x reads `extra_special_tokens` as a dict of named tokens; a list goes under the old name.
            config["additional_special_tokens"] = [token_dict(token) for token in self._extra_special_tokens]
        config["mask_token"] = token_dict(self._special_tokens_map["mask_token"])
        config["entity_token_1"] = token_dict(self._find_added_token(self._entity_token_names[0]))
        config["entity_token_2"] = token_dict(self._find_added_token(self._entity_token_names[1]))
        for key in ENTITY_TOKEN_ARGUMENTS:
            config[key] = self.init_kwargs[key]
        config["task"] = self.task
        config["max_entity_length"] = self.init_kwargs.get("max_entity_length", self.max_entity_length)
        config["max_mention_length"] = self.max_mention_length
        config["sp_model_kwargs"] = self.sp_model_kwargs
        config["tokenizer_class"] = "MLukeTokenizer"
        return config

    def _find_added_token(self, content: str):
        index = self._added_tokens_encoder.get(content)
        return self._added_tokens_decoder.get(index, content) if index is not None else content

    def _special_tokens_map_file(self) -> dict:
        content = {}
        for key in _SPECIAL_TOKEN_KEYS:
            value = self._special_tokens_map.get(key)
            if value is None:
                continue
            content[key] = str(value) if key != "mask_token" else token_dict(value)
        content["additional_special_tokens"] = [token_dict(token) for token in self._extra_special_tokens]
        for value in content.values():
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, dict):
                    item.pop("__type", None)
        return content
