"""Live sessions and API keys verified in the last few seconds, so a request needs no query.

Each session entry is keyed by the access token's user and session (`sub`, `sid`), each API-key
entry by the key's hash; both hold a detached copy of the user. Any committed change that could end a session or change the user — logout,
logout everywhere, refresh-token reuse, a key revoked, a user updated, deactivated or deleted — forgets the
affected entries in this process when its transaction commits, and in every other process
through Redis pub/sub when Redis is configured. `AUTH_CACHE_SECONDS` bounds how long an entry
lives even if a message is lost (a subscriber that reconnects forgets everything); 0 turns the
cache off.

A read that started before a change committed can't store its stale answer afterwards: every
forget moves a generation counter, and an answer read under an older generation isn't stored.
"""

import asyncio
import contextlib
import itertools
import time
import uuid
from datetime import datetime
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.orm import Session, make_transient_to_detached

from app.core.config import settings
from app.core.redis import RESILIENT
from app.models import ApiKey, RefreshToken, User, utcnow

logger = structlog.get_logger(__name__)
CHANNEL = "auth:sessions:forget"
_CHANGED = "auth_cache_changed"  # Session.info key: ids to forget when the transaction commits
MAX_ENTRIES = 10_000


class SessionCache:
    """(user id, session id) → the user, and API-key hash → the key's owner, for
    `AUTH_CACHE_SECONDS`."""

    def __init__(self) -> None:
        self.generation = 0
        self._entries: dict[tuple[uuid.UUID, uuid.UUID], tuple[float, User]] = {}
        self._keys: dict[str, tuple[float, uuid.UUID, datetime | None, User]] = {}
        self._redis: Redis | None = None
        self._listener: asyncio.Task[None] | None = None
        self._publishing: set[asyncio.Task[None]] = set()
        # Its own messages come back through the subscription: already forgotten here, and
        # forgetting again would refuse reads that started after the change.
        self._origin = f"from:{uuid.uuid4().hex}"

    def get(self, user_id: uuid.UUID, session_id: uuid.UUID) -> User | None:
        """The cached user of a live session, or None (unknown or expired)."""
        entry = self._entries.get((user_id, session_id))
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, user: User, session_id: uuid.UUID, generation: int) -> None:
        """Remember a user read from the database under `generation` (stale reads are ignored)."""
        ttl = settings.AUTH_CACHE_SECONDS
        if ttl <= 0 or generation != self.generation:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.pop(next(iter(self._entries)))  # the oldest entry
        self._entries[(user.id, session_id)] = (time.monotonic() + ttl, _detached(user))

    def get_key(self, key_hash: str) -> User | None:
        """The cached owner of a live API key, or None (unknown, expired, or the key expired)."""
        entry = self._keys.get(key_hash)
        if entry is None or entry[0] < time.monotonic():
            return None
        expires_at = entry[2]
        if expires_at is not None and expires_at <= utcnow():
            return None
        return entry[3]

    def put_key(self, key_hash: str, key: ApiKey, user: User, generation: int) -> None:
        """Remember a live key's owner read under `generation` (stale reads are ignored)."""
        ttl = settings.AUTH_CACHE_SECONDS
        if ttl <= 0 or generation != self.generation:
            return
        if len(self._keys) >= MAX_ENTRIES:
            self._keys.pop(next(iter(self._keys)))
        self._keys[key_hash] = (time.monotonic() + ttl, key.id, key.expires_at, _detached(user))

    def forget(self, ids: set[uuid.UUID] | None) -> None:
        """Forget every entry of these users, sessions or keys (None: everything)."""
        self.generation += 1
        if ids is None:
            self._entries.clear()
            self._keys.clear()
            return
        for key in [k for k in self._entries if k[0] in ids or k[1] in ids]:
            del self._entries[key]
        for key_hash in [h for h, e in self._keys.items() if e[1] in ids or e[3].id in ids]:
            del self._keys[key_hash]

    def committed(self, ids: set[uuid.UUID]) -> None:
        """A transaction that changed these users or sessions committed: forget them here and
        tell the other processes."""
        self.forget(ids)
        if self._redis is None:
            return
        task = asyncio.get_running_loop().create_task(self._publish(ids))
        self._publishing.add(task)
        task.add_done_callback(self._publishing.discard)

    async def start(self, redis_url: str | None) -> None:
        """Listen for other processes' changes (with Redis)."""
        if redis_url is not None and settings.AUTH_CACHE_SECONDS > 0:
            self._redis = Redis.from_url(
                redis_url, socket_timeout=5, socket_connect_timeout=2, **RESILIENT
            )
            self._listener = asyncio.create_task(self._listen_forever())

    async def stop(self) -> None:
        """Stop listening; forget everything."""
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        if self._publishing:
            await asyncio.wait(self._publishing, timeout=2)
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None
        self.forget(None)

    async def _publish(self, ids: set[uuid.UUID]) -> None:
        assert self._redis is not None
        try:
            await self._redis.publish(CHANNEL, " ".join([self._origin, *(str(i) for i in ids)]))
        except (RedisError, OSError):
            logger.warning("auth.cache_publish_failed", exc_info=True)

    async def _listen_forever(self) -> None:
        assert self._redis is not None
        while True:
            try:
                async with self._redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    self.forget(None)  # anything published while not subscribed is lost
                    while True:
                        message = await pubsub.get_message(timeout=1.0)
                        if message is not None:
                            self._received(message["data"].decode().split())
            except (RedisError, OSError, ValueError):
                logger.warning("auth.cache_listener_failed", exc_info=True)
                self.forget(None)
                await asyncio.sleep(1.0)

    def _received(self, words: list[str]) -> None:
        """Forget what another process changed (`from:<process> <id>…`; bare ids also)."""
        if words and words[0].startswith("from:"):
            if words[0] == self._origin:
                return
            words = words[1:]
        self.forget({uuid.UUID(word) for word in words})


def _detached(user: User) -> User:
    copy = User(**user.model_dump())
    make_transient_to_detached(copy)  # so a request can merge it without a query
    return copy


def changed(session: Any, *ids: uuid.UUID) -> None:
    """Mark users or sessions changed by `session`'s transaction (forgotten when it commits)."""
    session.info.setdefault(_CHANGED, set()).update(ids)


@event.listens_for(Session, "after_flush")
def _users_flushed(session: Session, _context: Any) -> None:
    """A user or refresh token written through the ORM (update, deactivation, deletion)."""
    for obj in itertools.chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, User):
            changed(session, obj.id)
        elif isinstance(obj, RefreshToken) and obj not in session.new:
            changed(session, obj.user_id, obj.family_id)
        elif isinstance(obj, ApiKey) and obj not in session.new:  # revoked (or deleted)
            changed(session, obj.id)


@event.listens_for(Session, "after_commit")
def _forget_committed(session: Session) -> None:
    ids = session.info.pop(_CHANGED, None)
    if ids:
        session_cache.committed(ids)


@event.listens_for(Session, "after_rollback")
def _keep_rolled_back(session: Session) -> None:
    session.info.pop(_CHANGED, None)


session_cache = SessionCache()
