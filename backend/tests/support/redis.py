"""A throwaway `redis-server` for tests: loopback only, a free port, a temporary directory.

Started through pytest-redis's executor; `stop()` and `start()` keep the port, so a test can
take Redis away mid-test and bring it back.
"""

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pytest_redis.executor import RedisExecutor

from tests.support.postgres import free_port


def find_redis_server() -> str:
    """The machine's `redis-server`."""
    found = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(found).exists():
        raise RuntimeError("redis-server not found: apt-get install redis-server")
    return found


@dataclass
class RedisServer:
    """A running (or stopped) test server."""

    executor: RedisExecutor
    base_dir: Path
    port: int

    @property
    def url(self) -> str:
        """The connection URL (database 0)."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """(Re)start the server on the same port."""
        self.executor.start()

    def stop(self) -> None:
        """Stop the server; its port stays reserved for `start()`."""
        self.executor.stop()

    def running(self) -> bool:
        """True while the process is up."""
        return bool(self.executor.running())

    def close(self) -> None:
        """Stop the server and delete its directory."""
        try:
            if self.running():
                self.executor.stop()
        finally:
            shutil.rmtree(self.base_dir, ignore_errors=True)


def start_redis(idle_timeout: int = 30) -> RedisServer:
    """Start `redis-server` on a free loopback port without persistence."""
    base_dir = Path(tempfile.mkdtemp(prefix="app-test-redis-"))
    port = free_port()
    executor = RedisExecutor(
        executable=find_redis_server(),
        databases=4,
        redis_timeout=idle_timeout,
        loglevel="warning",
        host="127.0.0.1",
        port=port,
        startup_timeout=30,
        save="",
        appendonly="no",
        datadir=base_dir,
    )
    executor.start()
    return RedisServer(executor=executor, base_dir=base_dir, port=port)
