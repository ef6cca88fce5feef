"""The web console at ``/console/``: Event history and the Outposts pages, served by trailpost itself.

``Console`` (``console.app``) is handed the requests whose path starts with ``/console`` by the
gateway. Pages read and change service data only through the API (``console.api``), signed as the
signed-in user and recorded like SDK calls; sign-ins are recorded as ``ConsoleLogin`` events
(``audit.signin``). Templates and static files ship inside this package; nothing is loaded from
the network.
"""

from __future__ import annotations

from trailpost.console.app import Console, is_console_path

__all__ = ["Console", "is_console_path"]
