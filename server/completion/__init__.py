"""Inline completion: from a keystroke to ghost text.

The trigger decides whether to ask at all; ``prompt`` builds what the model sees (windows of
the document, definitions from other files, recent edits) and ``render`` lays it out;
``postprocess`` keeps what belongs at the cursor; ``typed_ahead`` answers from a suggestion
the user is already typing through; ``service`` ties them to the engine. The document model
they read lives in ``context/``.
"""
