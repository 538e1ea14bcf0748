"""Serving a sandbox on the loopback interface: in the foreground (CLI) or on a thread (tests, benches).

Sandboxes hold fake data and accept a well-known token, so they never listen beyond 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType, TracebackType

import uvicorn

from connector.sandbox.app import SandboxApp

__all__ = ["ServedSandbox", "bind_loopback", "serve"]


def bind_loopback(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening socket bound to ``host:port`` (port 0 picks a free one).

    Raises:
        ValueError: ``host`` is not a loopback address.
    """
    if host != "localhost":
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise ValueError(f"sandboxes only listen on the loopback interface (127.0.0.1), not {host!r}")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    # Listening at once means a client that reads the banner and connects straight away waits in
    # the backlog instead of being refused while uvicorn starts.
    sock.listen(128)
    return sock


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _server(app: SandboxApp, *, log_level: str) -> uvicorn.Server:
    config = uvicorn.Config(
        app.asgi,
        lifespan="off",
        log_level=log_level,
        access_log=False,
        http="h11",
        # A request stuck in an injected "slow response" must not hold shutdown for a minute.
        timeout_graceful_shutdown=1,
    )
    return uvicorn.Server(config)


@contextmanager
def _quiet_signals() -> Iterator[None]:
    """Make SIGINT/SIGTERM mean "stop serving" and nothing more.

    uvicorn stops on either signal and then re-raises it so the previous handler runs; with the
    default handlers that would kill the process before the state is saved, or exit non-zero.
    """
    def ignore(_signum: int, _frame: FrameType | None) -> None:
        return None

    saved = {sig: signal.signal(sig, ignore) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def serve(
    app: SandboxApp,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    banner: Callable[[str], None],
    log_level: str = "warning",
) -> None:
    """Serve ``app`` until SIGINT or SIGTERM, then save its state if it has a state file.

    Args:
        banner: called with each line telling the user the URL, credentials and an example.

    Raises:
        ValueError: ``host`` is not a loopback address.
        OSError: the port is taken.
    """
    sock = bind_loopback(host, port)
    server = _server(app, log_level=log_level)
    try:
        for line in app.describe(_url(sock)):
            banner(line)
        with _quiet_signals():
            server.run(sockets=[sock])
    finally:
        sock.close()
        saved = app.save()
        if saved is not None:
            banner(f"state saved to {saved}")


class ServedSandbox:
    """Serve a sandbox on 127.0.0.1 from a background thread, for tests and benches::

        with ServedSandbox(sandbox) as base_url:
            httpx.get(f"{base_url}/...")

    The context manager waits until the server accepts connections and, on exit, stops it and
    joins the thread.
    """

    def __init__(self, app: SandboxApp, *, startup_timeout: float = 10.0, log_level: str = "critical") -> None:
        self.app = app
        self.startup_timeout = startup_timeout
        self.log_level = log_level
        self.base_url = ""
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None

    def __enter__(self) -> str:
        self._sock = bind_loopback("127.0.0.1", 0)
        self.base_url = _url(self._sock)
        self._server = _server(self.app, log_level=self.log_level)
        server, sock = self._server, self._sock
        self._thread = threading.Thread(target=lambda: server.run(sockets=[sock]), name="sandbox-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + self.startup_timeout
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self._stop()
                raise RuntimeError(f"the {self.app.platform} sandbox did not start")
            time.sleep(0.01)
        return self.base_url

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop()

    def _stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._sock is not None:
            self._sock.close()
