"""Which tree-sitter grammar parses a document, and the few facts per language we rely on.

The slicer, the index and the post-processor never switch on a language name: they ask
the :class:`LanguageSpec` which node types import, define or open a block. Adding a
language is one entry in ``_SPECS``. An unknown language gets ``None`` and every caller
falls back to plain text.
"""

from __future__ import annotations

import importlib
import logging
import os
from dataclasses import dataclass
from functools import cache

from tree_sitter import Language, Parser

log = logging.getLogger(__name__)



def _F(names: str = "") -> frozenset[str]:
    """Node types written as one space-separated string, to keep the table below readable."""
    return frozenset(names.split())


@dataclass(frozen=True)
class LanguageSpec:
    name: str  # our name, also the golden-file language
    grammar: tuple[str, str]  # (python module, function returning the language pointer)
    comment: str  # line-comment prefix: context from other files is rendered behind it
    imports: frozenset[str] = _F()  # top-level nodes that import (or name the package)
    require_imports: frozenset[str] = _F()  # nodes that import only when they call require()
    functions: frozenset[str] = _F()  # nodes with a signature and a body
    classes: frozenset[str] = _F()  # nodes whose body holds methods
    types: frozenset[str] = _F()  # named type definitions without methods inside
    namespaces: frozenset[str] = _F()  # bodies the index looks through (mod, namespace)
    wrappers: frozenset[str] = _F()  # nodes that wrap one definition (decorators, export)
    blocks: frozenset[str] = _F()  # nodes whose children are statements
    indent_scoped: bool = False  # a block ends where indentation does (Python)
    block_opener: str = r"\{\s*$"  # regex on the text before the cursor: a block opens here
    top_level_stops: tuple[str, ...] = ()  # stop strings: a new top-level definition


_JS_FUNCS = _F(
    "function_declaration generator_function_declaration method_definition"
    " arrow_function function_expression"
)
_JS_BLOCKS = _F("program statement_block class_body")
_JS_STOPS = ("\nfunction ", "\nclass ", "\nexport ", "\nimport ")
_TS_EXTRA = _F("function_signature method_signature abstract_method_signature")

_SPECS: dict[str, LanguageSpec] = {
    spec.name: spec
    for spec in (
        LanguageSpec(
            "python", ("tree_sitter_python", "language"), "#",
            imports=_F("import_statement import_from_statement future_import_statement"),
            functions=_F("function_definition"), classes=_F("class_definition"),
            wrappers=_F("decorated_definition"), blocks=_F("module block"),
            indent_scoped=True, block_opener=r":\s*(#.*)?$",
            top_level_stops=("\ndef ", "\nclass ", "\nasync def ", "\n@", "\nif __name__"),
        ),
        LanguageSpec(
            "javascript", ("tree_sitter_javascript", "language"), "//",
            imports=_F("import_statement"),
            require_imports=_F("lexical_declaration variable_declaration"),
            functions=_JS_FUNCS, classes=_F("class_declaration class"),
            wrappers=_F("export_statement"), blocks=_JS_BLOCKS, top_level_stops=_JS_STOPS,
        ),
        *(
            LanguageSpec(
                name, ("tree_sitter_typescript", factory), "//",
                imports=_F("import_statement"),
                require_imports=_F("lexical_declaration variable_declaration"),
                functions=_JS_FUNCS | _TS_EXTRA,
                classes=_F(
                    "class_declaration class abstract_class_declaration interface_declaration"
                ),
                types=_F("type_alias_declaration enum_declaration"),
                wrappers=_F("export_statement"),
                blocks=_JS_BLOCKS | _F("interface_body enum_body"), top_level_stops=_JS_STOPS,
            )
            for name, factory in (("typescript", "language_typescript"), ("tsx", "language_tsx"))
        ),
        LanguageSpec(
            "go", ("tree_sitter_go", "language"), "//",
            imports=_F("package_clause import_declaration"),
            functions=_F("function_declaration method_declaration func_literal"),
            types=_F("type_declaration"),
            blocks=_F("source_file block statement_list"),
            top_level_stops=("\nfunc ", "\ntype "),
        ),
        LanguageSpec(
            "rust", ("tree_sitter_rust", "language"), "//",
            imports=_F("use_declaration extern_crate_declaration"),
            functions=_F("function_item function_signature_item closure_expression"),
            classes=_F("impl_item trait_item"),
            types=_F("struct_item enum_item type_item union_item"),
            namespaces=_F("mod_item"),
            blocks=_F("source_file block declaration_list"),
            top_level_stops=("\nfn ", "\npub fn ", "\nimpl ", "\nstruct ", "\npub struct "),
        ),
        LanguageSpec(
            "java", ("tree_sitter_java", "language"), "//",
            imports=_F("package_declaration import_declaration"),
            functions=_F("method_declaration constructor_declaration lambda_expression"),
            classes=_F(
                "class_declaration interface_declaration enum_declaration record_declaration"
            ),
            blocks=_F("program block class_body constructor_body interface_body enum_body"),
            top_level_stops=("\nimport ", "\npublic class ", "\nclass "),
        ),
        LanguageSpec(
            "c", ("tree_sitter_c", "language"), "//",
            imports=_F("preproc_include"), functions=_F("function_definition"),
            types=_F("struct_specifier enum_specifier union_specifier type_definition"),
            blocks=_F("translation_unit compound_statement"),
            top_level_stops=("\n#include ",),
        ),
        LanguageSpec(
            "cpp", ("tree_sitter_cpp", "language"), "//",
            imports=_F("preproc_include using_declaration namespace_alias_definition"),
            functions=_F("function_definition lambda_expression"),
            classes=_F("class_specifier struct_specifier"),
            types=_F("enum_specifier union_specifier type_definition alias_declaration"),
            namespaces=_F("namespace_definition"), wrappers=_F("template_declaration"),
            blocks=_F(
                "translation_unit compound_statement field_declaration_list declaration_list"
            ),
            top_level_stops=("\n#include ",),
        ),
        LanguageSpec(
            "lua", ("tree_sitter_lua", "language"), "--",
            require_imports=_F("variable_declaration"),
            functions=_F("function_declaration function_definition"),
            blocks=_F("chunk block"),
            block_opener=r"(\bthen|\bdo|\belse|\brepeat|\bfunction\b.*\))\s*$",
            top_level_stops=("\nfunction ", "\nlocal function "),
        ),
    )
}

# LSP languageId -> our name (identity for the names above).
_LANGUAGE_IDS = {"javascriptreact": "javascript", "typescriptreact": "tsx", "c++": "cpp"}

_EXTENSIONS = {
    ".py": "python", ".pyi": "python", ".js": "javascript", ".mjs": "javascript",
    ".cjs": "javascript", ".jsx": "javascript", ".ts": "typescript", ".mts": "typescript",
    ".cts": "typescript", ".tsx": "tsx", ".go": "go", ".rs": "rust", ".java": "java",
    ".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".hpp": "cpp",
    ".hh": "cpp", ".hxx": "cpp", ".lua": "lua",
}


def spec_for(language_id: str | None = None, path: str | None = None) -> LanguageSpec | None:
    """The spec for an LSP languageId, else for the file extension of ``path``; None if unknown."""
    if language_id:
        name = _LANGUAGE_IDS.get(language_id.lower(), language_id.lower())
        if name in _SPECS:
            return _SPECS[name]
    if path:
        name = _EXTENSIONS.get(os.path.splitext(path)[1].lower(), "")
        return _SPECS.get(name)
    return None


def known_extensions() -> frozenset[str]:
    """File extensions the workspace index parses."""
    return frozenset(_EXTENSIONS)


@cache
def grammar(name: str) -> Language | None:
    """The tree-sitter Language for ``name``; None (logged once) if its wheel is missing."""
    spec = _SPECS.get(name)
    if spec is None:
        return None
    module, factory = spec.grammar
    try:
        return Language(getattr(importlib.import_module(module), factory)())
    except (ImportError, AttributeError) as exc:
        log.warning("no tree-sitter grammar for %s (%s): plain-text fallback", name, exc)
        return None


def new_parser(spec: LanguageSpec | None) -> Parser | None:
    """A parser for ``spec`` (parsers are not thread-safe: one per document or thread)."""
    language = grammar(spec.name) if spec else None
    return Parser(language) if language is not None else None
