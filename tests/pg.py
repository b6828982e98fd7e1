"""A real PostgreSQL server for the tests, from the machine's own binaries: ``initdb`` and
``pg_ctl`` into a temporary folder, listening on a free loopback port (and a unix socket in
that folder). One migrated template database; each test gets a fresh copy of it
(``CREATE DATABASE ... TEMPLATE``, a file copy: a few tens of milliseconds)."""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg

TEMPLATE = "kabar_template"
USER = "kabar"


def binary(name: str) -> str | None:
    """``name`` on PATH, else the newest /usr/lib/postgresql/*/bin/name (Debian)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PgServer:
    """One throwaway server; ``fresh()`` makes a database, ``drop()`` removes it."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="kabar-pg-"))
        self.port = free_port()
        self._names = itertools.count(1)
        self._as_user: list[str] = []

    def _run(self, *argv: str) -> None:
        done = subprocess.run(
            [*self._as_user, *argv], capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise RuntimeError(f"{Path(argv[0]).name} failed: {' / '.join(tail)}")

    def start(self) -> PgServer:
        initdb, pg_ctl = binary("initdb"), binary("pg_ctl")
        if initdb is None or pg_ctl is None:
            raise RuntimeError("no initdb/pg_ctl on PATH or in /usr/lib/postgresql/*/bin")
        if os.geteuid() == 0:  # the server refuses to run as root: run it as `postgres`
            runuser = shutil.which("runuser")
            if runuser is None:
                raise RuntimeError("running as root and no runuser to start postgres as a user")
            shutil.chown(self.folder, "postgres")
            self._as_user = [runuser, "-u", "postgres", "--"]
        data = self.folder / "data"
        self._run(
            initdb, "-D", str(data), "-U", USER, "--auth=trust", "-E", "UTF8",
            "--locale=C.UTF-8", "--no-sync",
        )  # fmt: skip
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off -c max_connections=400"
        )
        self._run(pg_ctl, "-D", str(data), "-l", str(self.folder / "log"), "-o", options, "-w",
                  "start")  # fmt: skip
        self.admin = psycopg.connect(self.url("postgres"), autocommit=True)
        self.admin.execute(f"CREATE DATABASE {TEMPLATE}")
        from store import open_store

        open_store(self.url(TEMPLATE)).close()  # migrated once
        return self

    def url(self, name: str) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{name}"

    def fresh(self) -> tuple[str, str]:
        name = f"kabar_test_{next(self._names)}"
        self.admin.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE} STRATEGY FILE_COPY")
        return name, self.url(name)

    def empty(self) -> tuple[str, str]:
        """A database without any schema (to migrate, or to copy into)."""
        name = f"kabar_empty_{next(self._names)}"
        self.admin.execute(f"CREATE DATABASE {name}")
        return name, self.url(name)

    def drop(self, name: str) -> None:
        self.admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self) -> None:
        try:
            self.admin.close()
            pg_ctl = binary("pg_ctl")
            if pg_ctl:
                self._run(pg_ctl, "-D", str(self.folder / "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
