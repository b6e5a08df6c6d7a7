"""Shared fixtures. The database backend is chosen by RETAILOS_TEST_BACKEND: `sqlite` (default)
or `postgres`, for which the suite starts a throwaway cluster of its own.

Each test gets a fresh, fully migrated database copied from a template migrated once per run.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import settings as hypothesis_settings
from sqlalchemy import event

from retailos.api.app import create_app
from retailos.core.clock import ManualClock
from retailos.core.db import Database
from retailos.core.migrate import upgrade
from retailos.core.pgcluster import Cluster, PostgresUnavailable, free_port, wait_for_port
from retailos.tenants import service as tenants

BACKEND = os.environ.get("RETAILOS_TEST_BACKEND", "sqlite")
_counter = itertools.count()

# CI replays the same examples every run (a red CI then always means a change broke something);
# developers' runs explore new ones. Property tests set their own sizes; this sets only the seed.
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


def pytest_report_header(config: pytest.Config) -> str:
    return f"retailos database backend: {BACKEND}"


def pytest_sessionstart(session: pytest.Session) -> None:
    if BACKEND == "postgres":
        try:
            from retailos.core.pgcluster import find_bindir

            find_bindir()
        except PostgresUnavailable as e:
            pytest.exit(f"PostgreSQL leg skipped: {e}", returncode=0)


@dataclass
class Template:
    """Makes fresh migrated databases quickly: a file copy (SQLite) or CREATE DATABASE TEMPLATE."""

    make: Callable[[], str]


@pytest.fixture(scope="session")
def db_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Template]:
    if BACKEND == "postgres":
        with Cluster() as cluster:
            cluster.psql("CREATE DATABASE template_retailos")
            template_db = Database(cluster.url("template_retailos"), poolclass=None)
            upgrade(template_db)
            template_db.dispose()

            def make_pg() -> str:
                name = f"test_{os.getpid()}_{next(_counter)}"
                cluster.psql(f"CREATE DATABASE {name} TEMPLATE template_retailos")
                return cluster.url(name)

            yield Template(make_pg)
        return
    folder = tmp_path_factory.mktemp("sqlite")
    template_path = folder / "template.db"
    template_db = Database(f"sqlite:///{template_path}")
    upgrade(template_db)
    template_db.dispose()

    def make_sqlite() -> str:
        path = folder / f"test_{next(_counter)}.db"
        shutil.copyfile(template_path, path)
        return f"sqlite:///{path}"

    yield Template(make_sqlite)


@pytest.fixture
def database_url(db_template: Template) -> str:
    return db_template.make()


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def app(db: Database, clock: ManualClock):  # type: ignore[no-untyped-def]
    return create_app(db=db, clock=clock)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@dataclass
class Actor:
    """A tenant and an API key of it, as a test talks to the API."""

    tenant_id: str
    kind: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def make_actor(db: Database, clock: ManualClock) -> Callable[..., Actor]:
    def make(kind: str = "retailer", name: str | None = None,
             scopes: list[str] | None = None) -> Actor:
        with db.transaction() as s:
            tenant = tenants.create_tenant(s, clock, kind, name or f"{kind} {next(_counter)}")
            issued = tenants.create_api_key(s, clock, tenant.id, "test", scopes)
            return Actor(tenant.id, kind, issued.token)

    return make


@pytest.fixture
def operator(make_actor: Callable[..., Actor]) -> Actor:
    return make_actor("operator", "Operator")


@pytest.fixture
def retailer(make_actor: Callable[..., Actor]) -> Actor:
    return make_actor("retailer", "Corner Grocer")


@dataclass
class LiveServer:
    url: str
    database_url: str
    process: subprocess.Popen[bytes]


def start_server(database_url: str, workers: int = 1, port: int | None = None) -> LiveServer:
    """A real uvicorn process serving the API on 127.0.0.1, for HTTP-level tests."""
    port = port or free_port()
    env = {**os.environ, "RETAILOS_DATABASE_URL": database_url, "RETAILOS_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "retailos.api.main:app", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers), "--log-level", "warning"],
        env=env, cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        wait_for_port(port, timeout=60)
    except TimeoutError:
        proc.kill()
        proc.wait()
        raise
    return LiveServer(f"http://127.0.0.1:{port}", database_url, proc)


@pytest.fixture
def live_server(database_url: str) -> Iterator[LiveServer]:
    server = start_server(database_url)
    yield server
    server.process.terminate()
    server.process.wait(timeout=10)


@contextmanager
def recorded_statements(db: Database, *, begin: bool = True) -> Iterator[list[str]]:
    """The SQL statements `db`'s engine runs inside the block (an executemany is one); with
    begin=False, without SQLite's explicit BEGIN, which PostgreSQL does not send."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if begin or not statement.startswith("BEGIN"):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
