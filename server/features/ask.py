"""workspace/executeCommand ``ghostwright.ask``: answer a question about the workspace, with citations.

Arguments: ``["how are settings parsed?"]`` or ``[{"question": str, "workDoneToken"?: str | int,
"uri"?: str, "maxSources"?: 1..10}]``. ``workDoneToken`` is a progress token the client
created; without it the server creates one (``window/workDoneProgress/create``) when the
client supports that. While the model writes, ``$/progress`` reports carry the answer so
far in ``message``; ``uri`` (the document the user asked from) picks which AGENTS.md apply.

Result: ``{"markdown", "sources": [{"path", "line", "endLine", "name"}], "finish", "seconds",
"citations": {"kept", "fixed", "dropped"}}``; every ``path:line`` in ``markdown`` is a real
line of a workspace file (1-based).
"""

from __future__ import annotations

from typing import Any

from ghostwright.server.ask.service import AskService, parse_arguments
from ghostwright.server.lsp_errors import follow_cancellation, lsp_boundary

ASK_COMMAND = "ghostwright.ask"


def register(server) -> None:
    service = server.asks = AskService(server)

    @server.command(ASK_COMMAND)
    @lsp_boundary
    async def ask(ls, *args: Any) -> dict[str, Any]:
        options = parse_arguments(args)
        request_id = str(server.protocol.msg_id)
        follow_cancellation(server.protocol, server.protocol.msg_id)
        result = await service.ask(options["question"], max_sources=options["max_sources"],
                                   token=options["token"], uri=options["uri"], request_id=request_id)
        return result.to_json()
