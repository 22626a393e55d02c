"""Task recipes of mluke_hf: named-entity recognition over spans (`ner`) and the Trainer recipes (`training`)."""
