"""Task recipes of mluke_hf.

- `ner`: span-based named-entity recognition (candidate boundaries in every script, windows, features, the decoder);
- `readers`: task data files (NER CoNLL/JSONL, relation classification, entity typing);
- `metrics`: precision/recall/F1 and seqeval-style entity scores;
- `encoding`: tokenizer helpers shared with the entity pipelines (model window, entity-span encoding, token counts);
- `training`: the `transformers.Trainer` runs behind `examples/`.
"""
