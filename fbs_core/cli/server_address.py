"""Whether the webhook server could listen where ``[server]`` says, before it tries."""

from __future__ import annotations

import errno
import socket
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import Settings


def server_address_problem(settings: Settings) -> str | None:
    """``<file>: server.<key>: <problem>`` if ``host:port`` cannot be listened on, else None.

    Binds (with ``SO_REUSEADDR``, as the server itself does) and closes at once, so a port
    another program listens on is found, and one merely in ``TIME_WAIT`` is not.
    """
    from ..config import display_path

    server = settings.server
    shown = display_path(settings.config_path)
    try:
        infos = socket.getaddrinfo(server.host, server.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        return f"{shown}: server.host: cannot listen on {server.host!r}: {exc}"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except PermissionError:
            return (
                f"{shown}: server.port: {server.host}:{server.port} needs privileges fbs "
                "does not have; use a port above 1023"
            )
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE or "in use" in str(exc).lower():
                return (
                    f"{shown}: server.port: {server.host}:{server.port} is already in use by "
                    "another program"
                )
            return f"{shown}: server.host: cannot listen on {server.host}:{server.port}: {exc.strerror}"
    return None
