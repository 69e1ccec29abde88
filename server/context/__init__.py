"""The document model every feature shares: documents and positions, languages and their
tree-sitter grammars, symbols, slicing, definitions across files, the workspace index and its
watcher, and the secret filter every prompt passes.

Everything here is a pure function of a document (text + tree-sitter tree) or a small object
(the workspace index) that those functions read. Nothing here speaks LSP: handlers convert
lsprotocol types at the edge; nothing here knows which feature asks.

    doc = Document(uri, "python", text, version=1)
    doc.apply_change(((3, 4), (3, 4)), "x")          # LSP incremental change
    index.lookup(["parse_config"])                    # definitions by name, across files
"""
