"""The lookup page behind gunicorn: worker processes, each with threads and its own connection pool.

``serve(dsn, port, web)`` runs gunicorn in this process (its documented custom
application: ``gunicorn.app.base.BaseApplication``) on 127.0.0.1. Every worker
builds its ``Catalogue`` after the fork, so no pool thread or database
connection is shared between processes. ``make web`` calls it through
``python -m webapp``.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from pipeline.settings import WebSettings
from webapp.app import create_app
from webapp.catalogue import Catalogue

HOST = "127.0.0.1"


def lookup_page(dsn: str, web: WebSettings) -> Flask:
    """The Flask app over a new catalogue of ``dsn`` with ``web``'s pool settings."""
    catalogue = Catalogue(
        dsn, pool_size=web.pool_size, pool_timeout=web.pool_timeout, statement_timeout=web.statement_timeout
    )
    return create_app(catalogue)


def announce(server: Any) -> None:
    """gunicorn's ``when_ready`` hook: say where the page is, once the socket is bound (port 0 picks a free one)."""
    for listener in server.LISTENERS:
        host, port = listener.sock.getsockname()[:2]
        print(f"the lookup page is at http://{host}:{port}/ (Ctrl+C stops it)", flush=True)


class LookupPageServer(BaseApplication):
    def __init__(self, dsn: str, port: int, web: WebSettings) -> None:
        self.dsn = dsn
        self.web = web
        self.options = {
            "bind": f"{HOST}:{port}",
            "workers": web.workers,
            # gthread: each worker serves `threads` requests at once and keeps idle keep-alive connections
            # aside without holding a thread.
            "worker_class": "gthread",
            "threads": web.threads,
            "when_ready": announce,
            # No control socket: its default path is one per user, shared by every gunicorn they run.
            "control_socket_disable": True,
        }
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            self.cfg.set(name, value)

    def load(self) -> Flask:
        # Called in each worker after the fork (the app is not preloaded): its own pool and threads.
        return lookup_page(self.dsn, self.web)


def serve(dsn: str, port: int, web: WebSettings) -> None:
    """Serve the lookup page of ``dsn`` (a libpq DSN of the reader role) until stopped."""
    LookupPageServer(dsn, port, web).run()
