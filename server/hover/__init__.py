"""Hover explanations: find the symbol under the cursor and its definition, then ask the model
to explain it in the context of its use."""
