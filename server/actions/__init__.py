"""Code actions that rewrite code with the model: each module is one action, ``ACTIONS`` lists them.

Every action has two halves: a cheap ``offers`` (tree-sitter only, answered on every
``textDocument/codeAction``) and an async ``run`` (the model, called from ``codeAction/resolve``
or a command) that returns replacements the shared pipeline validates and turns into edits.
"""
