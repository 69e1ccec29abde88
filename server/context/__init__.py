"""The context engine: what the model sees around the cursor, and what is kept of its answer.

Everything here is a pure function of a document (text + tree-sitter tree), a position
and a budget, or a small object (the workspace index, the recent-edits ring) that those
functions read. Nothing here speaks LSP: handlers convert lsprotocol types at the edge.

    doc = Document(uri, "python", text, version=1)
    doc.apply_change(((3, 4), (3, 4)), "x")          # LSP incremental change
    built = build_completion_prompt(doc, doc.offset_at(3, 5), index=index, ...)
    text = clean_completion(raw, prefix=built.prefix, suffix=built.suffix, mode=built.mode,
                            language=doc.language)
"""
