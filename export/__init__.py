"""Model weights (GGUF or a Hugging Face folder) to a model bundle: ONNX decoder,
tokenizer and manifest. Nothing here runs a model; the numpy reference proves the graph."""
