"""Code actions through the real server over stdio with the real default model.

Each action's edit is applied here, as an editor would, and the result must parse; an edit is
refused when the document changed while the action ran; progress arrives; cancelling (from the
progress or with $/cancelRequest) stops the work and changes nothing; a failure changes nothing.
Token budgets are small (``maxTokens`` in the action data) to keep this suite quick on CI.
"""

from __future__ import annotations

import ast
import asyncio
import time
from typing import Union

import pytest
import pytest_asyncio
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from e2e.lsp_client import open_doc, start_server, stop_server
from ghostwright.server.context.languages import new_parser, spec_for
from ghostwright.server.context.positions import LineIndex

pytestmark = [pytest.mark.default_model]

ADD = '''import math


def add(a, b):
    """Return the sum of a and b.

    >>> add(2, 3)
    5
    """
'''

# No body can pass this example, so the action samples every candidate: long enough to cancel.
UNSATISFIABLE = ADD.replace("    5\n", "    7\n")

PLAIN = '''def area(width, height):
    return width * height
'''


@pytest_asyncio.fixture
async def client(default_profile, tmp_path):
    (tmp_path / "ws").mkdir()
    client = await start_server(default_profile, tmp_path / "home", tmp_path / "ws")
    # lsprotocol reads every code action that carries a command as a bare Command (its command
    # then being the whole nested object); editors tell them apart by the type of "command".
    converter = client.protocol._converter
    converter.register_structure_hook(
        Union[types.Command, types.CodeAction],  # noqa: UP007 - the exact type lsprotocol registered
        lambda obj, _: converter.structure(obj, types.Command if isinstance(obj.get("command"), str)
                                           else types.CodeAction))
    yield client
    await stop_server(client)


def apply(text: str, edits: list[types.TextEdit]) -> str:
    lines = LineIndex(text)
    spans = sorted(((lines.offset(e.range.start.line, e.range.start.character),
                     lines.offset(e.range.end.line, e.range.end.character), e.new_text) for e in edits), reverse=True)
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


def edits_for(edit: types.WorkspaceEdit, uri: str) -> list[types.TextEdit]:
    return [e for change in edit.document_changes or [] if isinstance(change, types.TextDocumentEdit)
            and change.text_document.uri == uri for e in change.edits]


def assert_parses(text: str) -> None:
    ast.parse(text)
    tree = new_parser(spec_for("python")).parse(text.encode())
    assert not tree.root_node.has_error, text


async def actions_at(client, uri: str, line: int, character: int = 4, end: tuple[int, int] | None = None,
                     diagnostics: list[types.Diagnostic] | None = None) -> list[types.CodeAction]:
    end_line, end_char = end or (line, character)
    found = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri),
        range=types.Range(types.Position(line, character), types.Position(end_line, end_char)),
        context=types.CodeActionContext(diagnostics=diagnostics or [])))
    return [a for a in found or [] if isinstance(a, types.CodeAction)]


def pick(actions: list[types.CodeAction], prefix: str) -> types.CodeAction:
    matching = [a for a in actions if a.title.startswith(prefix)]
    assert matching, f"no {prefix!r} in {[a.title for a in actions]}"
    return matching[0]


def with_data(action: types.CodeAction, **extra) -> types.CodeAction:
    action.data = {**action.data, **extra}
    return action


def change(client, uri: str, version: int, line: int, text: str) -> None:
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        [types.TextDocumentContentChangePartial(types.Range(types.Position(line, 0), types.Position(line, 0)), text)]))


def progress_kinds(client) -> list[str]:
    return [getattr(value, "kind", None) for reports in client.progress_reports.values() for value in reports]


async def test_implement_from_docstring_is_verified_and_parses(client, tmp_path):
    uri = (tmp_path / "ws" / "calc.py").as_uri()
    open_doc(client, uri, ADD)
    actions = await actions_at(client, uri, 3)
    assert {"Implement add from its docstring", "Add type annotations to add"} <= {a.title for a in actions}
    assert all(a.edit is None for a in actions)  # computed lazily, on resolve
    started = time.monotonic()
    resolved = await client.code_action_resolve_async(
        with_data(pick(actions, "Implement add"), samples=3, maxTokens=64))
    elapsed = time.monotonic() - started
    result = resolved.data["result"]
    assert resolved.edit is not None, result
    edits = edits_for(resolved.edit, uri)
    new_text = apply(ADD, edits)
    assert_parses(new_text)
    assert new_text.startswith(ADD.rstrip("\n"))  # signature and docstring untouched: only the body is added
    assert all(e.range.start.line >= 7 for e in edits)  # nothing above the end of the docstring moved
    assert "1/1 examples pass" in result["message"] and "examples pass" in resolved.title
    from ghostwright.server.verify.sandbox import run_python  # model-written code runs only in the sandbox

    ran = run_python(new_text + "\nprint(add(2, 3), add(-1, 1), add(0.5, 0.25))\n")
    assert ran.ok and ran.stdout.split() == ["5", "0", "0.75"], (new_text, ran.stdout, ran.stderr[-300:])
    assert any(line.startswith("candidate 1") for line in result["evidence"])
    assert {"begin", "report", "end"} <= set(progress_kinds(client))
    assert any("Implemented add" in m.message for m in client.messages)
    print(f"implement: {elapsed:.1f} s, {result['message']}")


async def test_implement_refuses_to_run_code_without_isolation_until_allowed(default_profile, tmp_path):
    """A machine without Linux namespaces (here: no ``unshare`` on PATH): model-written code does
    not run, the user is told which setting waives it, and after they set it, it runs."""
    (tmp_path / "ws").mkdir()
    client = await start_server(default_profile, tmp_path / "home", tmp_path / "ws",
                                env={"PATH": str(tmp_path / "empty"), "GHOSTWRIGHT_ALLOW_UNISOLATED_CODE": ""})
    try:
        uri = (tmp_path / "ws" / "calc.py").as_uri()
        open_doc(client, uri, ADD)
        refused = await client.code_action_resolve_async(
            with_data(pick(await actions_at(client, uri, 3), "Implement add"), samples=1, maxTokens=64))
        assert refused.edit is None
        assert "allowUnisolatedCode" in refused.data["result"]["message"], refused.data["result"]
        client.workspace_did_change_configuration(types.DidChangeConfigurationParams({"allowUnisolatedCode": True}))
        allowed = await client.code_action_resolve_async(
            with_data(pick(await actions_at(client, uri, 3), "Implement add"), samples=3, maxTokens=64))
        assert allowed.edit is not None and "1/1 examples pass" in allowed.data["result"]["message"], allowed.data
    finally:
        await stop_server(client)


async def test_docstring_and_annotations_edits_parse_and_touch_only_the_function(client, tmp_path):
    uri = (tmp_path / "ws" / "shapes.py").as_uri()
    text = "import os\n\n\n" + PLAIN + "\n\nX = 1\n"
    open_doc(client, uri, text)
    actions = await actions_at(client, uri, 3)
    for prefix in ("Add a docstring to area", "Add type annotations to area"):
        started = time.monotonic()
        resolved = await client.code_action_resolve_async(pick(actions, prefix))
        assert resolved.edit is not None, resolved.data["result"]
        edits = edits_for(resolved.edit, uri)
        new_text = apply(text, edits)
        assert_parses(new_text)
        assert new_text.startswith("import os\n\n\ndef area(") and new_text.endswith("\n\n\nX = 1\n")
        assert all(3 <= e.range.start.line <= 4 for e in edits)
        tree = ast.parse(new_text)
        function = tree.body[1]
        if prefix.startswith("Add a docstring"):
            assert ast.get_docstring(function)
        else:
            assert any(a.annotation is not None for a in function.args.args) or function.returns is not None
            assert [a.arg for a in function.args.args] == ["width", "height"]
        print(f"{prefix}: {time.monotonic() - started:.1f} s")


async def test_generate_unit_tests_creates_the_test_file(client, tmp_path):
    module = tmp_path / "ws" / "shapes.py"
    module.write_text(PLAIN)
    uri = module.as_uri()
    open_doc(client, uri, PLAIN)
    started = time.monotonic()
    resolved = await client.code_action_resolve_async(
        pick(await actions_at(client, uri, 0), "Generate unit tests for area in test_shapes.py"))
    assert resolved.edit is not None, resolved.data["result"]
    changes = resolved.edit.document_changes
    test_uri = (tmp_path / "ws" / "test_shapes.py").as_uri()
    assert isinstance(changes[0], types.CreateFile) and changes[0].uri == test_uri
    test_text = apply("", edits_for(resolved.edit, test_uri))
    assert_parses(test_text)
    tree = ast.parse(test_text)
    assert any(isinstance(n, ast.FunctionDef) and n.name.startswith("test_") for n in tree.body)
    assert "from shapes import area" in test_text
    assert not edits_for(resolved.edit, uri)  # the module itself is untouched
    print(f"unit tests: {time.monotonic() - started:.1f} s")


async def test_fix_diagnostic_and_rewrite_selection(client, tmp_path):
    uri = (tmp_path / "ws" / "greet.py").as_uri()
    text = "def greet(name):\n    print 'hello', name\n"
    open_doc(client, uri, text)
    diagnostic = types.Diagnostic(
        range=types.Range(types.Position(1, 4), types.Position(1, 23)),
        message="Missing parentheses in call to 'print'. Did you mean print(...)?", source="python")
    started = time.monotonic()
    fix = pick(await actions_at(client, uri, 1, diagnostics=[diagnostic]), "Fix: Missing parentheses")
    assert fix.kind == types.CodeActionKind.QuickFix and fix.diagnostics
    resolved = await client.code_action_resolve_async(fix)
    assert resolved.edit is not None, resolved.data["result"]
    edits = edits_for(resolved.edit, uri)
    fixed = apply(text, edits)
    assert_parses(fixed)  # the syntax error is gone
    assert all(e.range.start.line == 1 and e.range.end.line == 1 for e in edits)
    print(f"fix diagnostic: {time.monotonic() - started:.1f} s")

    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        [types.TextDocumentContentChangeWholeDocument(fixed)]))
    applied: list[types.ApplyWorkspaceEditParams] = []

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        applied.append(params)
        return types.ApplyWorkspaceEditResult(applied=True)

    lines = fixed.split("\n")
    rewrite = pick(await actions_at(client, uri, 0, 0, end=(1, len(lines[1]))), "Rewrite the selection")
    assert rewrite.command is not None and rewrite.edit is None
    args = rewrite.command.arguments[0]
    started = time.monotonic()
    answer = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        rewrite.command.command, [{**args, "instruction": "add a docstring"}]))
    assert answer["applied"], answer
    rewritten = apply(fixed, edits_for(applied[0].edit, uri))
    assert_parses(rewritten)
    print(f"rewrite selection: {time.monotonic() - started:.1f} s")
    with pytest.raises(JsonRpcException, match="instruction"):  # no instruction: a clear error
        await client.workspace_execute_command_async(types.ExecuteCommandParams(rewrite.command.command, [args]))


async def test_edit_refused_when_the_document_changes_while_the_action_runs(client, tmp_path):
    uri = (tmp_path / "ws" / "calc.py").as_uri()
    open_doc(client, uri, ADD)  # the typing lands while the model works
    action = with_data(pick(await actions_at(client, uri, 3), "Implement add"), samples=2, maxTokens=48)
    pending = asyncio.ensure_future(client.code_action_resolve_async(action))
    await wait_for_progress(client, "begin")
    change(client, uri, 2, 0, "# typed while the model worked\n")
    resolved = await pending
    assert resolved.edit is None
    assert "changed" in resolved.data["result"]["message"]
    assert any("your typing is kept" in m.message for m in client.messages)
    # Offered at version 2, resolved after version 3: refused before any decoding.
    stale = pick(await actions_at(client, uri, 4), "Implement add")
    change(client, uri, 3, 0, "# more typing\n")
    started = time.monotonic()
    resolved = await client.code_action_resolve_async(stale)
    assert resolved.edit is None and "changed since" in resolved.data["result"]["message"]
    assert time.monotonic() - started < 2


async def test_cancel_from_progress_and_with_cancel_request(client, tmp_path):
    uri = (tmp_path / "ws" / "calc.py").as_uri()
    open_doc(client, uri, UNSATISFIABLE)
    action = with_data(pick(await actions_at(client, uri, 3), "Implement add"), samples=6)
    pending = asyncio.ensure_future(client.code_action_resolve_async(action))
    token = await wait_for_progress(client, "report", text="written")  # the model is decoding
    client.protocol.notify(types.WINDOW_WORK_DONE_PROGRESS_CANCEL, types.WorkDoneProgressCancelParams(token=token))
    started = time.monotonic()
    resolved = await asyncio.wait_for(pending, 30)
    assert time.monotonic() - started < 5  # stopped within a few decode steps, not after six candidates
    assert resolved.edit is None and "cancelled" in resolved.data["result"]["message"]

    future = client.protocol.send_request(types.CODE_ACTION_RESOLVE, action, msg_id="cancel-action")
    await wait_for_progress(client, "report", after=token, text="written")
    started = time.monotonic()
    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="cancel-action"))
    with pytest.raises(JsonRpcException, match="cancel"):
        await asyncio.wait_for(asyncio.wrap_future(future), 30)
    assert time.monotonic() - started < 5
    # The rewrite command (workspace/executeCommand) stops on $/cancelRequest too.
    rewrite = pick(await actions_at(client, uri, 3, 0, end=(8, 0)), "Rewrite the selection")
    future = client.protocol.send_request(types.WORKSPACE_EXECUTE_COMMAND, types.ExecuteCommandParams(
        rewrite.command.command, [{**rewrite.command.arguments[0], "instruction": "rename a to first"}]),
        msg_id="cancel-rewrite")
    previous = list(client.progress_reports)[-1]
    await wait_for_progress(client, "report", after=previous, text="written")
    started = time.monotonic()
    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="cancel-rewrite"))
    with pytest.raises(JsonRpcException, match="cancel"):
        await asyncio.wait_for(asyncio.wrap_future(future), 30)
    await wait_for_progress(client, "end", after=previous, text="cancelled", timeout=5)  # the handler itself stopped
    assert time.monotonic() - started < 5
    # The server is free again at once, and the document is as it was: nothing was applied.
    actions = await asyncio.wait_for(actions_at(client, uri, 3), 5)
    assert any(a.title.startswith("Implement add") for a in actions)


async def test_a_failure_says_why_and_changes_nothing(client, tmp_path):
    uri = (tmp_path / "ws" / "calc.py").as_uri()
    open_doc(client, uri, ADD)
    # Two tokens cannot hold a function body: every candidate is unusable, so the action fails.
    action = with_data(pick(await actions_at(client, uri, 3), "Implement add"), samples=2, maxTokens=2)
    resolved = await client.code_action_resolve_async(action)
    assert resolved.edit is None
    assert "nothing was changed" in resolved.data["result"]["message"]
    assert any(m.type == types.MessageType.Warning and "no valid implementation" in m.message
               for m in client.messages)
    # A test file path taken by a directory: a clear refusal, no edit.
    (tmp_path / "ws" / "test_shapes.py").mkdir()
    shapes = tmp_path / "ws" / "shapes.py"
    shapes.write_text(PLAIN)
    open_doc(client, shapes.as_uri(), PLAIN)
    resolved = await client.code_action_resolve_async(pick(await actions_at(client, shapes.as_uri(), 0),
                                                           "Generate unit tests"))
    assert resolved.edit is None and "is a directory" in resolved.data["result"]["message"]


async def test_candidates_after_the_first_are_decoded_as_one_batch(client, tmp_path):
    uri = (tmp_path / "ws" / "calc.py").as_uri()
    open_doc(client, uri, UNSATISFIABLE)  # no candidate can pass: every one of them is decoded
    for together, batches in ((4, 1), (1, 0)):
        before = (await engine_stats(client))["batches"]
        action = with_data(pick(await actions_at(client, uri, 3), "Implement add"), samples=5, maxTokens=24,
                           together=together)
        resolved = await client.code_action_resolve_async(action)
        assert resolved.edit is None  # 7 is not 2 + 3, however the five candidates were decoded
        after = (await engine_stats(client))["batches"]
        # Candidate 1 alone (most tasks end there), candidates 2-5 as one batch of four rows.
        assert (after["runs"] - before["runs"], after["rows"] - before["rows"]) == (batches, 4 * batches)


async def engine_stats(client, timeout: float = 120) -> dict:
    """The engine's stats from ghostwright.status, once the model has loaded."""
    deadline = time.monotonic() + timeout
    while True:
        status = await client.workspace_execute_command_async(types.ExecuteCommandParams("ghostwright.status"))
        if status["engine"] is not None or time.monotonic() > deadline:
            return status["engine"]
        await asyncio.sleep(0.2)


async def wait_for_progress(client, kind: str, after: object = None, timeout: float = 60, text: str = "") -> object:
    """The token of the first work-done progress (created after ``after``) that sent a ``kind``
    notification whose message holds ``text``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tokens = list(client.progress_reports)
        if after is not None and after in tokens:
            tokens = tokens[tokens.index(after) + 1 :]
        for token in tokens:
            if any(getattr(v, "kind", None) == kind and text in (getattr(v, "message", None) or "")
                   for v in client.progress_reports[token]):
                return token
        await asyncio.sleep(0.01)
    raise AssertionError(f"no {kind} progress within {timeout} s")
