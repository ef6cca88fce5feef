"""Reader processes: with ``--workers N``, N processes serve the port and one writer stands behind them.

The writer is the process ``trailpost serve`` starts: it owns every state change, the group
commit, the event positions and the background workers, exactly as with one process, but it does
not accept connections on the port (its own HTTP server listens on a private Unix socket only), so
its event loop is free for commits and for what the readers hand it. Each of the N readers
(``process``) accepts connections on the port (``SO_REUSEPORT``: the kernel spreads new
connections over them), authenticates and parses every call itself, and answers the read calls it
may answer (``placement``) from its own read-only connection to the same database; the record of
such a call goes to the writer, which commits it in its next batch, and the reader answers only
once the writer says the record is durable (``link``). Every other call, and any call whose
handler tries to write, is handed to the writer whole and answered with the writer's response
(``endpoint``). The writer starts, watches and stops the readers (``supervisor``).

Between a reader and the writer: one Unix socket per reader, frames of a JSON head and a raw body
(``frames``). See docs/decisions.md, "Reader processes".
"""
