"""The command an accepted suggestion runs: how the local stats learn that ghost text was kept.

Both completion handlers (inline ghost text and the classic completion list) attach it and
``workspace/executeCommand`` answers it, so it lives here rather than in any one handler.
"""

from __future__ import annotations

from lsprotocol import types

ACCEPT_COMMAND = "ghostwright.accept"


def accept_command(request_id: object, text: str) -> types.Command:
    """Run by the client when the user accepts: counted in the local stats file."""
    return types.Command("Accept suggestion", ACCEPT_COMMAND, arguments=[{"id": str(request_id), "chars": len(text)}])
