"""Every prompt reaches the engine through one of two doors, and both redact: chat prompts in
``chat_runner.run_chats`` (hover, ask, actions; one call or a batch), completions in ``completion/service.py``
(whose prompt pieces are redacted as they are built). An action's answer that writes the
placeholder back where a secret was is refused."""

from __future__ import annotations

import re
from pathlib import Path

from ghostwright.server.actions.base import ActionContext
from ghostwright.server.actions.edits import Replacement
from ghostwright.server.context.document import Document
from ghostwright.server.context.secrets import PLACEHOLDER

SERVER = Path(__file__).resolve().parents[3] / "server"


def test_only_the_two_doors_call_the_engine() -> None:
    callers = sorted(str(path.relative_to(SERVER)) for path in SERVER.rglob("*.py")
                     if re.search(r"\.generate\(|generate_together\(|generate_batch\(",
                                  path.read_text(encoding="utf-8")))
    assert callers == ["chat_runner.py", "completion/service.py"]
    door = (SERVER / "chat_runner.py").read_text(encoding="utf-8")
    assert 'redact(m["content"])' in door and "prefill=redact(call.prefill)" in door


def test_an_answer_that_writes_the_placeholder_over_a_secret_is_refused() -> None:
    text = 'def connect():\n    key = "sk-abcdefghijklmnopqrstuvwx"\n    return key\n'
    doc = Document("file:///w/a.py", "python", text, 1)
    ctx = ActionContext(None, doc, 0, len(text), {}, None)  # type: ignore[arg-type]
    body = text.index("    key")
    rewritten = Replacement(body, len(text), f'    key = "{PLACEHOLDER}"\n    return key.strip()\n')
    assert any(PLACEHOLDER in p for p in ctx.problems([rewritten]))
    unrelated = Replacement(text.index("return key"), len(text) - 1, "return key.strip()")
    assert ctx.problems([unrelated]) == []
