"""A real PostgreSQL server for the tests, from the machine's own binaries: ``initdb`` and
``pg_ctl`` into a temporary folder, listening on a free loopback port (and a unix socket in
that folder). One migrated template database; each test gets a copy of it, emptied back to
the template's rows when the test ends and handed to the next test (a reset takes a few
milliseconds, a ``CREATE DATABASE ... TEMPLATE`` a quarter of a second)."""

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
        self._free: list[str] = []

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
        with psycopg.connect(self.url(TEMPLATE), autocommit=True) as conn:
            self._tables = [
                r[0]
                for r in conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                    " AND tablename != 'kabar_schema' ORDER BY tablename"
                )
            ]
            version = conn.execute("SELECT max(version) FROM kabar_schema").fetchone()[0]
            with_id = {
                r[0]
                for r in conn.execute(
                    "SELECT table_name FROM information_schema.columns WHERE column_name = 'id'"
                    " AND is_identity = 'YES' AND table_schema = 'public'"
                )
            }
            seed = [
                conn.execute("SELECT format('INSERT INTO meta VALUES (%L, %L)', key, value)"
                             " FROM meta").fetchall()
            ]  # fmt: skip
        self._reset = "; ".join(
            [
                "BEGIN",
                "SET LOCAL session_replication_role = replica",  # no foreign-key order
                *(f"DELETE FROM {t}" for t in self._tables),
                *(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), 1, false)" for t in with_id),
                *(row[0] for rows in seed for row in rows),
                "DELETE FROM kabar_schema",
                f"INSERT INTO kabar_schema VALUES ({int(version)})",
                "COMMIT",
            ]
        )
        return self

    def url(self, name: str) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{name}"

    def fresh(self) -> tuple[str, str]:
        """A migrated database no test is using: a reset one from an earlier test (a few
        milliseconds), else a new copy of the template."""
        if self._free:
            name = self._free.pop()
        else:
            name = f"kabar_test_{next(self._names)}"
            self.admin.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE} STRATEGY WAL_LOG")
        return name, self.url(name)

    def release(self, name: str) -> None:
        """Empty the test's database back to the template's rows (identities restarted) for
        the next test; a database that cannot be reset is dropped."""
        self.admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name]
        )
        try:
            with psycopg.connect(self.url(name), autocommit=True) as conn:
                conn.execute(self._reset)  # one round trip: several statements, no parameters
        except psycopg.Error:
            self.drop(name)
            return
        self._free.append(name)

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
