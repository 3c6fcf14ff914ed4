"""Shared fixtures: an isolated AISHELL_HOME per test, the throwaway PostgreSQL cluster, SQLite files."""

from __future__ import annotations

import gc
import os
import sys
import uuid
from pathlib import Path

import pytest

from aishell.engine.bench.pgtemp import PgCluster

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = (ROOT.parent / "shared" / "data").resolve()
TPCH_DIR = SHARED_DATA / "tpch"


def _keep_bytecode() -> None:
    """With PYTHONDONTWRITEBYTECODE set (as in some sandboxes and CI images) every CLI process a
    test starts compiled aishell from source again (0.1 s each) and each test worker the whole
    suite: the suite's processes keep their bytecode in the venv instead, never in the tree."""
    if not sys.dont_write_bytecode or sys.prefix == sys.base_prefix:
        return
    cache = str(Path(sys.prefix) / "pycache")
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = cache
    sys.pycache_prefix = cache
    sys.dont_write_bytecode = False


_keep_bytecode()


def pytest_configure(config) -> None:
    """Collect garbage less often than Python's default: the suite's process holds every imported
    library (Textual, sqlglot, numpy, faiss) and each Pilot test builds a whole app, so collections
    triggered every 700 allocations re-scanned that heap and took about a fifth of the suite's CPU."""
    gc.set_threshold(10_000, 50, 50)


def pytest_collection_finish(session) -> None:
    """What exists once tests are collected lives for the whole run: out of the collector's way."""
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True)
def aishell_home(tmp_path, monkeypatch) -> Path:
    """Every test gets its own data and config dir; nothing touches the user's."""
    home = tmp_path / "aishell-home"
    home.mkdir()
    monkeypatch.setenv("AISHELL_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def pg_cluster():
    """The cluster object when this run started one (None with AISHELL_TEST_PG_URL)."""
    if os.environ.get("AISHELL_TEST_PG_URL"):
        yield None
        return
    cluster = PgCluster()
    try:
        cluster.init()
        cluster.start()
        cluster.setup_database()
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture(scope="session")
def pg_url(pg_cluster) -> str:
    """URL of a PostgreSQL 15 database for tests (superuser, hypopg and pg_stat_statements)."""
    return os.environ.get("AISHELL_TEST_PG_URL") or pg_cluster.url


@pytest.fixture
def pg_fresh_db(pg_cluster, pg_url) -> str:
    """A new empty database on the test server, for tests that change the schema."""
    if pg_cluster is None:
        pytest.skip("needs the throwaway cluster (AISHELL_TEST_PG_URL is set)")
    return pg_cluster.create_database(f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture(scope="session")
def pg_stoppable():
    """A cluster of its own that tests may stop and start (stopping the shared one would break
    tests running beside them). A test that stops it starts it again before it ends."""
    if os.environ.get("AISHELL_TEST_PG_URL"):
        pytest.skip("stops the server: needs a throwaway cluster, not AISHELL_TEST_PG_URL")
    cluster = PgCluster()
    try:
        cluster.init()
        cluster.start()
        cluster.psql(f"CREATE DATABASE {cluster.database}", database="postgres")
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture(scope="session")
def tpch_queries() -> dict[str, str]:
    """The 22 TPC-H queries by file name."""
    return {p.name: p.read_text() for p in sorted(TPCH_DIR.glob("*.sql"))}


@pytest.fixture(scope="session")
def mongo_server():
    """A FerretDB (MongoDB wire protocol, SQLite storage) on a free loopback port for this test
    session, removed at the end; None with AISHELL_TEST_MONGO_URL. Skips when it cannot be built."""
    if os.environ.get("AISHELL_TEST_MONGO_URL"):
        yield None
        return
    from aishell.engine.bench.mongotemp import FerretServer, ferretdb_binary, missing_reason

    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    server = FerretServer(ferretdb_binary())
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def mongo_url(mongo_server) -> str:
    """URL of a MongoDB-protocol server: AISHELL_TEST_MONGO_URL, else the session's FerretDB."""
    return os.environ.get("AISHELL_TEST_MONGO_URL") or mongo_server.url
