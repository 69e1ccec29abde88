"""textDocument/codeAction + codeAction/resolve, and the ghostwright.rewriteSelection command.

Listing is cheap (tree-sitter only); the model runs in ``codeAction/resolve``, so a menu opens
at once and only the chosen action costs decoding. While it decodes the client sees
``$/progress`` (work done) and may cancel it there or with ``$/cancelRequest``. The edit is
computed against a snapshot and refused if the document's version moved meanwhile: the
user's typing is never overwritten. A failure is shown (window/showMessage) and changes nothing.
"""

from __future__ import annotations

import itertools
import logging
from pathlib import Path
from typing import Any

from lsprotocol import types
from lsprotocol.converters import get_converter

from ghostwright.errors import RequestError
from ghostwright.server.actions import annotations, docstring, fix_diagnostic, implement, rewrite, unit_tests
from ghostwright.server.actions.base import ActionCancelled, ActionContext, ActionError, ActionResult
from ghostwright.server.actions.edits import Replacement, minimal, text_edit
from ghostwright.server.context.document import Document
from ghostwright.server.context.secrets import is_secret_file
from ghostwright.server.lsp_errors import follow_cancellation, lsp_boundary
from ghostwright.server.work_progress import WorkProgress

log = logging.getLogger(__name__)

ACTIONS = {module.ID: module for module in (implement, docstring, annotations, unit_tests, rewrite, fix_diagnostic)}
KINDS = [types.CodeActionKind.RefactorRewrite, types.CodeActionKind.Refactor, types.CodeActionKind.QuickFix]
_ids = itertools.count(1)
_converter = get_converter()


class Refused(Exception):
    """The action ran (or could not start) and its edit must not be applied; the message says why."""


def register(server) -> None:
    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                    types.CodeActionOptions(code_action_kinds=KINDS, resolve_provider=True))
    @lsp_boundary
    async def code_action(ls, params: types.CodeActionParams) -> list[types.CodeAction] | None:
        doc = server.document(params.text_document.uri)
        if doc.path and is_secret_file(doc.path):
            return None  # nothing from a secret file goes to a model, so nothing is offered there
        rng = params.range
        start = doc.offset_at(rng.start.line, rng.start.character)  # RequestError past the end
        end = doc.offset_at(rng.end.line, rng.end.character)
        if end < start:
            raise RequestError("the range ends before it starts")
        diagnostics = [_converter.unstructure(d) for d in params.context.diagnostics or []]
        offers = [*implement.offers(doc, start, end), *docstring.offers(doc, start, end),
                  *annotations.offers(doc, start, end), *unit_tests.offers(doc, start, end),
                  *rewrite.offers(doc, start, end), *fix_diagnostic.offers(doc, diagnostics)]
        only = params.context.only
        actions = []
        for offer in offers:
            if only and not any(offer.kind == k or offer.kind.startswith(f"{k}.") for k in only):
                continue
            data = {"action": offer.action, "uri": doc.uri, "version": doc.version,
                    "range": _converter.unstructure(rng), **offer.data}
            kind = types.CodeActionKind(offer.kind)
            if offer.action == rewrite.ID:  # needs an instruction: the editor asks, then runs the command
                actions.append(types.CodeAction(
                    title=offer.title, kind=kind,
                    command=types.Command(title=offer.title, command=rewrite.COMMAND, arguments=[data])))
                continue
            diagnostic = [_converter.structure(offer.diagnostic, types.Diagnostic)] if offer.diagnostic else None
            actions.append(types.CodeAction(title=offer.title, kind=kind, data=data, diagnostics=diagnostic,
                                            is_preferred=True if offer.diagnostic else None))
        return actions or None

    @server.feature(types.CODE_ACTION_RESOLVE)
    @lsp_boundary
    async def resolve(ls, action: types.CodeAction) -> types.CodeAction:
        data = action.data if isinstance(action.data, dict) else {}
        try:
            result, edit = await run_action(server, data, action.title)
        except Refused as exc:
            _tell(server, types.MessageType.Warning, f"{action.title}: {exc}")
            action.data = {**data, "result": {"applied": False, "message": str(exc)}}
            return action
        action.edit = edit
        action.title = f"{action.title} ({result.message.split(': ', 1)[-1]})" if data.get("action") == implement.ID \
            else action.title
        action.data = {**data, "result": {"applied": True, "message": result.message, "evidence": result.evidence}}
        _tell(server, types.MessageType.Info, result.message)
        return action

    @server.command(rewrite.COMMAND)
    @lsp_boundary
    async def rewrite_selection(ls, *args: Any) -> dict[str, Any]:
        follow_cancellation(server.protocol, server.protocol.msg_id)  # $/cancelRequest must reach the engine
        data = args[0] if args and isinstance(args[0], dict) else {}
        data = {**data, "action": rewrite.ID}
        if len(args) > 1 and isinstance(args[1], str):  # (data, instruction) as editors may send it
            data["instruction"] = args[1]
        if not isinstance(data.get("instruction"), str) or not data["instruction"].strip():
            raise RequestError(f"{rewrite.COMMAND} needs an instruction: [{{uri, version, range, instruction}}]")
        try:
            result, edit = await run_action(server, data, "Rewrite selection")
        except Refused as exc:
            _tell(server, types.MessageType.Warning, f"Rewrite selection: {exc}")
            return {"applied": False, "message": str(exc)}
        applied = await server.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(edit=edit, label="Ghostwright: rewrite selection"))
        if not applied.applied:
            message = f"the editor did not apply the edit: {applied.failure_reason or 'no reason given'}"
            _tell(server, types.MessageType.Warning, f"Rewrite selection: {message}")
            return {"applied": False, "message": message}
        _tell(server, types.MessageType.Info, result.message)
        return {"applied": True, "message": result.message}


async def run_action(server, data: dict[str, Any], title: str) -> tuple[ActionResult, types.WorkspaceEdit]:
    """Run the action ``data`` names on a snapshot; the edit, or :class:`Refused` with the reason."""
    module = ACTIONS.get(str(data.get("action")))
    uri, version = data.get("uri"), data.get("version")
    if module is None or not isinstance(uri, str):
        raise Refused("this code action's data is not Ghostwright's (was it changed on the way?)")
    live = server.documents.get(uri)
    if live is None:
        raise Refused("the document is not open")
    if live.version != version:
        raise Refused("the document changed since the action was offered; nothing was changed")
    if live.path and is_secret_file(live.path):
        raise Refused(f"{Path(live.path).name} may hold secrets: no code action runs there")
    snapshot = Document(uri, live.language_id, live.text, live.version)
    try:
        start, end = _range(snapshot, data.get("range"))
    except (RequestError, KeyError, TypeError, ValueError) as exc:
        raise Refused(f"the action's range is not usable: {exc}") from exc
    request_id = f"action-{next(_ids)}/{module.ID}"
    async with WorkProgress(server, f"Ghostwright: {title}") as progress:
        ctx = ActionContext(server, snapshot, start, end, data, progress, instructions=_instructions(server, snapshot),
                            request_id=request_id)
        try:
            result = await module.run(ctx)
        except ActionCancelled as exc:
            raise Refused("cancelled; nothing was changed") from exc
        except ActionError as exc:
            log.info("%s failed: %s", request_id, exc)
            raise Refused(f"{exc}; nothing was changed") from exc
        progress.report("done")
    log.info("%s: %s (%d model calls, %.1f s decoding)\n%s", request_id, result.message, len(ctx.calls),
             sum(c.seconds for c in ctx.calls), "\n".join(result.evidence))
    live = server.documents.get(uri)
    if live is None or live.version != version:
        raise Refused("the document changed while the action ran; the edit was refused so your typing is kept")
    return result, _workspace_edit(server, snapshot, result)


def _range(doc: Document, raw: Any) -> tuple[int, int]:
    rng = _converter.structure(raw, types.Range)
    start = doc.offset_at(rng.start.line, rng.start.character)
    end = doc.offset_at(rng.end.line, rng.end.character)
    if end < start:
        raise ValueError("the range ends before it starts")
    return start, end


def _instructions(server, doc: Document) -> str:
    """AGENTS.md instructions that cover this file ("" when none, or for unsaved buffers)."""
    if doc.path is None:
        return ""
    try:
        from ghostwright.server.agents_md import instructions_for, workspace_roots

        return instructions_for(Path(doc.path), workspace_roots(server))
    except (OSError, ValueError) as exc:
        log.warning("AGENTS.md not read: %s", exc)
        return ""


def _supports_document_changes(server) -> bool:
    workspace = getattr(server.client_capabilities, "workspace", None)
    edit = getattr(workspace, "workspace_edit", None) if workspace else None
    return bool(edit and edit.document_changes)


def _resource_ops(server) -> list[str]:
    workspace = getattr(server.client_capabilities, "workspace", None)
    edit = getattr(workspace, "workspace_edit", None) if workspace else None
    return [str(getattr(op, "value", op)) for op in (edit.resource_operations or [])] if edit else []


def _workspace_edit(server, doc: Document, result: ActionResult) -> types.WorkspaceEdit:
    edits = [text_edit(doc.lines, r) for r in _minimal(doc.text, result.replacements)]
    versioned = _supports_document_changes(server)
    if not edits and not result.file_edits:
        raise Refused("the model's answer changes nothing")
    if not versioned:
        if any(f.create for f in result.file_edits):
            raise Refused("this editor cannot create files through the language server (no documentChanges)")
        changes: dict[str, list[types.TextEdit]] = {}
        if edits:
            changes[doc.uri] = edits
        for f in result.file_edits:
            changes.setdefault(f.uri, []).extend(_file_text_edits(f.text, f.replacement))
        return types.WorkspaceEdit(changes=changes)
    document_changes: list[Any] = []
    if edits:
        document_changes.append(types.TextDocumentEdit(
            types.OptionalVersionedTextDocumentIdentifier(uri=doc.uri, version=doc.version), edits))
    for f in result.file_edits:
        if f.create:
            if "create" not in _resource_ops(server):
                raise Refused("this editor cannot create files through the language server")
            document_changes.append(types.CreateFile(uri=f.uri, options=types.CreateFileOptions(ignore_if_exists=True)))
        document_changes.append(types.TextDocumentEdit(
            types.OptionalVersionedTextDocumentIdentifier(uri=f.uri, version=f.version),
            _file_text_edits(f.text, f.replacement)))
    return types.WorkspaceEdit(document_changes=document_changes)


def _minimal(text: str, replacements: list[Replacement]) -> list[Replacement]:
    return [m for r in sorted(replacements, key=lambda r: r.start) if (m := minimal(text, r)) is not None]


def _file_text_edits(text: str, replacement: Replacement) -> list[types.TextEdit]:
    from ghostwright.server.context.positions import LineIndex

    trimmed = minimal(text, replacement)
    return [text_edit(LineIndex(text), trimmed)] if trimmed is not None else []


def _tell(server, kind: types.MessageType, message: str) -> None:
    server.window_show_message(types.ShowMessageParams(kind, f"Ghostwright: {message}"))
