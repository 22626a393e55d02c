"""ONNX Runtime models with the interface the entity pipelines use: `config`, `device`, `__call__` -> output class.

```python
import mluke_hf
from mluke_hf.onnx import ORTModelForEntitySpanClassification
from transformers import AutoTokenizer, pipeline

model = ORTModelForEntitySpanClassification.from_pretrained("exported-folder")
ner = pipeline("entity-span-classification", model=model, tokenizer=AutoTokenizer.from_pretrained("exported-folder"))
```

A model wraps one `onnxruntime.InferenceSession` over the folder's `model.onnx`; calls only read it, so one model
serves several threads at once. Inputs are the tokenizer's keys (tensors, numpy arrays or lists); outputs are the
PyTorch models' output classes holding CPU float tensors.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from ._dependencies import require
from .heads import ONNX_FILE, ExportedHead, head_for_config

__all__ = [
    "ORTModel",
    "ORTModelForEntityClassification",
    "ORTModelForEntityPairClassification",
    "ORTModelForEntitySpanClassification",
    "ORTModelForMaskedLM",
    "create_session",
    "ort_model_class_for_folder",
]

# Arguments the PyTorch models take that an exported graph cannot honour.
_UNSUPPORTED_ARGUMENTS = {
    "labels": "ONNX Runtime models compute no loss; drop labels (compute the loss from the logits if needed)",
    "entity_labels": "ONNX Runtime models compute no loss; drop entity_labels",
    "output_attentions": "the exported graph returns only its logits; use the PyTorch model for attentions",
    "output_hidden_states": "the exported graph returns only its logits; use the PyTorch model for hidden states",
    "inputs_embeds": "the exported graph reads input_ids; use the PyTorch model for inputs_embeds",
}
# Arguments accepted and ignored: pipelines and Trainer-style callers pass them.
_IGNORED_ARGUMENTS = ("return_dict",)


def create_session(path: str | os.PathLike, providers: list | None = None, session_options: Any = None):
    """An ONNX Runtime session over the graph at `path` (CPU provider unless `providers` says otherwise)."""
    ort = require("onnxruntime")
    if session_options is None:
        session_options = ort.SessionOptions()
        session_options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Shape warnings of the exported graph's dynamic axes say nothing useful to a user.
        session_options.log_severity_level = 3
    return ort.InferenceSession(
        str(path), sess_options=session_options, providers=providers or ["CPUExecutionProvider"]
    )


def _onnx_path(folder: Path, file_name: str) -> Path:
    """`folder/file_name`, which must be a file inside the folder (no link or `..` leading out of it)."""
    if not folder.is_dir():
        raise FileNotFoundError(
            f"{folder} is not a folder: ONNX Runtime models load from a local folder written by "
            "`mluke-hf export onnx` (download a hub repository first)"
        )
    path = folder / file_name
    if not path.is_file():
        raise FileNotFoundError(
            f"{folder} holds no {file_name}: export a checkpoint first with "
            f"`mluke-hf export onnx --model CHECKPOINT --output {folder}`"
        )
    if not path.resolve().is_relative_to(folder.resolve()):
        raise ValueError(f"{path} leads outside {folder}; an exported folder keeps its graph inside itself")
    return path


class ORTModel:
    """Base of the ONNX Runtime models: one exported head of `mluke_hf.onnx.heads.HEADS` in an inference session."""

    architecture: ClassVar[str] = ""
    main_input_name = "input_ids"
    input_modalities = ("text",)
    training = False

    def __init__(self, session, config, name_or_path: str | os.PathLike | None = None):
        head = head_for_config(config)
        if self.architecture and head.architecture != self.architecture:
            raise ValueError(
                f"{type(self).__name__} runs an export of {self.architecture}, but the config names "
                f"{head.architecture}; load it with {_class_name_for(head)} (or ort_model_class_for_folder)"
            )
        self.head: ExportedHead = head
        self.session = session
        self.config = config
        self.name_or_path = str(name_or_path) if name_or_path is not None else ""
        self.input_names = tuple(graph_input.name for graph_input in session.get_inputs())
        self.output_names = tuple(graph_output.name for graph_output in session.get_outputs())
        missing = [name for name in head.outputs if name not in self.output_names]
        if missing:
            raise ValueError(
                f"the graph lacks the outputs {missing} of {head.architecture}; it has {list(self.output_names)}. "
                "Export the checkpoint again with `mluke-hf export onnx`"
            )

    @classmethod
    def from_pretrained(
        cls,
        folder: str | os.PathLike,
        *,
        file_name: str = ONNX_FILE,
        providers: list | None = None,
        session_options: Any = None,
        config=None,
    ) -> ORTModel:
        """Load `folder/model.onnx` (written by `mluke-hf export onnx`) with the folder's config.json."""
        from transformers import AutoConfig

        import mluke_hf  # noqa: F401  (config classes registered with AutoConfig)

        folder = Path(folder)
        path = _onnx_path(folder, file_name)
        if config is None:
            config = AutoConfig.from_pretrained(folder)
        return cls(create_session(path, providers, session_options), config, name_or_path=folder)

    # -- what transformers' Pipeline reads from a model --------------------------------------------------------------

    @property
    def device(self) -> torch.device:
        return torch.device("cpu")

    @property
    def dtype(self) -> torch.dtype:
        return torch.float32

    def to(self, device: Any) -> ORTModel:
        if torch.device(device).type != "cpu":
            raise ValueError(
                f"{type(self).__name__} runs on ONNX Runtime's CPU provider, not on {device}; pass device='cpu' "
                "(or load the PyTorch checkpoint for other devices)"
            )
        return self

    def eval(self) -> ORTModel:
        return self

    def can_generate(self) -> bool:
        return False

    # -- running ------------------------------------------------------------------------------------------------------

    def __call__(self, **inputs) -> Any:
        """Run the graph on tokenizer outputs (as the PyTorch model's forward); returns the head's output class."""
        feeds = self._feeds(inputs)
        values = self.session.run(list(self.head.outputs), feeds)
        return self.head.output_class(
            **{name: torch.from_numpy(value) for name, value in zip(self.head.outputs, values)}
        )

    forward = __call__

    def _feeds(self, inputs: dict[str, Any]) -> dict[str, np.ndarray]:
        for name, reason in _UNSUPPORTED_ARGUMENTS.items():
            value = inputs.get(name)
            if value is not None and value is not False:
                raise ValueError(f"{name}: {reason}")
        given = {
            name: value
            for name, value in inputs.items()
            if value is not None and name not in _UNSUPPORTED_ARGUMENTS and name not in _IGNORED_ARGUMENTS
        }
        unknown = sorted(set(given) - set(self.input_names))
        if unknown:
            raise ValueError(
                f"inputs {unknown} are not inputs of the exported graph, which reads {list(self.input_names)} (the "
                f"tokenizer's keys in its {self.head.tokenizer_task or 'default'} mode)"
            )
        missing = [name for name in self.input_names if name not in given]
        if missing:
            raise ValueError(
                f"the exported {self.head.architecture} graph needs {missing} besides {sorted(given)}; pass the "
                f"tokenizer's output (mode {self.head.tokenizer_task or 'default'}) with entity_spans"
            )
        feeds = {name: _as_int64_array(given[name], name) for name in self.input_names}
        _check_feeds(feeds, self.config)
        return feeds

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name_or_path or self.head.architecture}, inputs={list(self.input_names)})"


def _as_int64_array(value: Any, name: str) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    array = np.asarray(value)
    if array.dtype.kind not in "iub":
        raise TypeError(f"{name} must hold integers, got {array.dtype}")
    return np.ascontiguousarray(array, dtype=np.int64)


_ENTITY_FIELDS = ("entity_ids", "entity_attention_mask", "entity_start_positions", "entity_end_positions")


def _check_feeds(feeds: dict[str, np.ndarray], config) -> None:
    """Shapes and index ranges checked as the PyTorch model does, so a bad input is a ValueError, not an ORT crash."""
    input_ids = feeds["input_ids"]
    if input_ids.ndim != 2:
        raise ValueError(f"input_ids must have shape (batch_size, sequence_length), got {input_ids.shape}")
    batch_size, sequence_length = input_ids.shape
    entity_shape = feeds["entity_ids"].shape
    if len(entity_shape) != 2 or entity_shape[0] != batch_size:
        raise ValueError(
            f"entity_ids must have shape (batch_size, entity_length) = ({batch_size}, ...), got {entity_shape}"
        )
    expected = {"attention_mask": "input_ids", "token_type_ids": "input_ids"}
    expected.update({name: "entity_ids" for name in _ENTITY_FIELDS})
    for name, like in expected.items():
        if name in feeds and feeds[name].shape != feeds[like].shape:
            raise ValueError(f"{name} must have the shape of {like} {feeds[like].shape}, got {feeds[name].shape}")
    positions = feeds["entity_position_ids"]
    if positions.ndim != 3 or positions.shape[:2] != entity_shape:
        raise ValueError(
            f"entity_position_ids must have shape (batch_size, entity_length, max_mention_length) matching entity_ids "
            f"{entity_shape}, got {positions.shape}"
        )
    ranges = {
        "input_ids": (0, config.vocab_size),
        "entity_ids": (0, config.entity_vocab_size),
        "entity_position_ids": (-1, min(sequence_length, config.max_position_embeddings)),
        "entity_start_positions": (0, sequence_length),
        "entity_end_positions": (0, sequence_length),
        "token_type_ids": (0, config.type_vocab_size),
    }
    for name, (lower, upper) in ranges.items():
        values = feeds.get(name)
        if values is None or values.size == 0:
            continue
        low, high = int(values.min()), int(values.max())
        if low < lower or high >= upper:
            raise ValueError(f"{name} must lie in [{lower}, {upper - 1}], got values from {low} to {high}")


class ORTModelForEntitySpanClassification(ORTModel):
    """ONNX Runtime twin of `MLukeForEntitySpanClassification` (NER); returns `EntitySpanClassificationOutput`."""

    architecture = "MLukeForEntitySpanClassification"


class ORTModelForEntityClassification(ORTModel):
    """ONNX Runtime twin of `MLukeForEntityClassification` (entity typing); returns `EntityClassificationOutput`."""

    architecture = "MLukeForEntityClassification"


class ORTModelForEntityPairClassification(ORTModel):
    """ONNX Runtime twin of `MLukeForEntityPairClassification` (relations); returns `EntityPairClassificationOutput`."""

    architecture = "MLukeForEntityPairClassification"


class ORTModelForMaskedLM(ORTModel):
    """ONNX Runtime twin of `MLukeForMaskedLM` (word and entity predictions); returns `MLukeMaskedLMOutput`."""

    architecture = "MLukeForMaskedLM"


_CLASSES = {
    model_class.architecture: model_class
    for model_class in (
        ORTModelForEntitySpanClassification,
        ORTModelForEntityClassification,
        ORTModelForEntityPairClassification,
        ORTModelForMaskedLM,
    )
}


def _class_name_for(head: ExportedHead) -> str:
    return _CLASSES[head.architecture].__name__


def ort_model_class_for_folder(folder: str | os.PathLike) -> type[ORTModel]:
    """The ORT model class of an exported folder, from its config.json."""
    from transformers import AutoConfig

    import mluke_hf  # noqa: F401

    return _CLASSES[head_for_config(AutoConfig.from_pretrained(folder)).architecture]
