"""Write a tiny LukeForMaskedLM checkpoint with transformers 4.57.6 itself, plus its outputs as golden JSON.

Run with the reference environment (never imported by the package):

    /work/venv-ref/bin/python scripts/make_luke_reference_checkpoint.py [--output tests/data/luke457_tiny]

The folder is what `save_pretrained` of 4.57.6 writes (config.json with model_type "luke", model.safetensors with the
tied decoder weights stored once). `golden.json` holds the model's outputs on a fixed padded batch, with entity-aware
attention off (the released configs' setting) and on (the same weights, feature switched on), so
tests/test_modeling_reference.py can prove that a folder really written by 4.57.6 loads completely into mluke_hf
and gives 4.57.6's numbers.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
import transformers
from safetensors import safe_open
from transformers import LukeConfig, LukeForMaskedLM

# A fixed padded batch: 2 sequences of 9 words (the second padded by 3), 3 entities (the second row padded by 1).
INPUTS = {
    "input_ids": [[0, 5, 17, 23, 8, 41, 7, 9, 2], [0, 33, 12, 19, 6, 2, 1, 1, 1]],
    "attention_mask": [[1, 1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 0, 0, 0]],
    "entity_ids": [[2, 5, 7], [2, 4, 0]],
    "entity_attention_mask": [[1, 1, 1], [1, 1, 0]],
    "entity_position_ids": [
        [[1, 2, -1, -1], [3, 4, 5, -1], [6, -1, -1, -1]],
        [[1, -1, -1, -1], [2, 3, 4, -1], [-1, -1, -1, -1]],
    ],
    "labels": [[-100, 5, -100, 23, -100, -100, 7, -100, -100], [-100, -100, 12, -100, -100, -100, -100, -100, -100]],
    "entity_labels": [[-100, 5, 7], [3, -100, -100]],
}


def tiny_config(use_entity_aware_attention: bool) -> LukeConfig:
    return LukeConfig(
        vocab_size=64,
        entity_vocab_size=10,
        hidden_size=32,
        entity_emb_size=16,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=37,
        max_position_embeddings=40,
        type_vocab_size=1,
        layer_norm_eps=1e-5,
        use_entity_aware_attention=use_entity_aware_attention,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
    )


def outputs_of(model: LukeForMaskedLM) -> dict:
    inputs = {name: torch.tensor(value) for name, value in INPUTS.items()}
    with torch.no_grad():
        out = model(**inputs, output_hidden_states=True, return_dict=True)
    return {
        "loss": out.loss.item(),
        "mlm_loss": out.mlm_loss.item(),
        "mep_loss": out.mep_loss.item(),
        "logits": out.logits.tolist(),
        "entity_logits": out.entity_logits.tolist(),
        "last_hidden_state": out.hidden_states[-1].tolist(),
        "entity_last_hidden_state": out.entity_hidden_states[-1].tolist(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=str(Path(__file__).resolve().parents[1] / "tests/data/luke457_tiny"))
    args = parser.parse_args()
    output = Path(args.output)

    torch.manual_seed(0)
    # Built with the feature on so the w2e/e2w/e2e query tensors exist, then saved with it off, like mLUKE's releases.
    model = LukeForMaskedLM(tiny_config(use_entity_aware_attention=True)).eval()
    with torch.no_grad():
        # Non-zero biases so a bias that failed to load would show in the numbers.
        model.lm_head.bias.normal_(0.0, 0.1)
        model.entity_predictions.bias.normal_(0.0, 0.1)
        # Peaked attention, so whether the w2e/e2w/e2e queries are used shows clearly in the outputs.
        for name, parameter in model.named_parameters():
            if "query" in name or "attention.self.key" in name:
                parameter.normal_(0.0, 0.5)
    golden = {"transformers_version": transformers.__version__, "inputs": INPUTS}
    golden["entity_aware_attention_on"] = outputs_of(model)

    model.config.use_entity_aware_attention = False
    for layer in model.luke.encoder.layer:
        layer.attention.self.use_entity_aware_attention = False
    golden["entity_aware_attention_off"] = outputs_of(model)

    model.save_pretrained(output, safe_serialization=True)
    with safe_open(output / "model.safetensors", framework="pt") as f:
        golden["saved_keys"] = sorted(f.keys())
    (output / "golden.json").write_text(json.dumps(golden, indent=1) + "\n")
    print(f"wrote {output} with transformers {transformers.__version__}")


if __name__ == "__main__":
    main()
