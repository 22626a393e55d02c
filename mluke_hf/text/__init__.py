"""The text side of mluke_hf: everything the two tokenizer classes are built from.

- `entity_encoding`: entity spans, task modes, truncation and padding of entity fields (shared by both classes);
- `converter`: the SentencePiece model turned into a `tokenizers` pipeline, and the fairseq-numbered twin;
- `entity_vocab`: reading and writing `entity_vocab.json`; `entity_index`: its cached index for named lookups;
- `tensor_conversion`: nested int lists to numpy arrays / torch tensors in one pass.

`mluke_hf.tokenization_mluke.MLukeTokenizer` and `mluke_hf.tokenization_mluke_fast.MLukeTokenizerFast` are the
public classes on top.
"""
