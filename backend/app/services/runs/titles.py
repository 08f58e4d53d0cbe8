"""Name a conversation after its first exchange, once the first run has answered.

Called from the worker's finishing step, after the run's last event is logged: the answer is
already with the user, so the title costs the run no latency (it holds the worker slot for one
short model call). With the offline model the title stays the trimmed first message.
"""

import asyncio
import time

import structlog

from app.agents.model_chain import CallScope
from app.agents.service import AgentService
from app.agents.titles import model_title, trimmed_title
from app.core.db import SessionMaker
from app.crud import agent_run as crud_run
from app.crud import thread as crud_thread
from app.models import AgentRun

logger = structlog.get_logger(__name__)
TITLE_TIMEOUT_S = 15.0


async def title_first_exchange(agent: AgentService, run: AgentRun, answer: str | None) -> None:
    """Give the thread the model's title when this was its first run and nobody renamed it."""
    settings = agent.settings
    if settings.llm_provider == "offline" or not settings.AGENT_MODEL_TITLES:
        return
    if not (answer or "").strip():
        return
    provisional = trimmed_title(run.input)
    async with SessionMaker() as session:
        thread = await crud_thread.get_thread(session=session, thread_id=run.thread_id)
        if thread is None or thread.title != provisional:
            return
        if await crud_run.count_thread_runs(session=session, thread_id=run.thread_id) != 1:
            return
    try:
        async with asyncio.timeout(TITLE_TIMEOUT_S):
            scope = CallScope(deadline=time.monotonic() + TITLE_TIMEOUT_S)
            title = await model_title(agent.models, run.input, answer or "", scope)
    except Exception as exc:  # a title is a nicety: the run has ended and stays recorded
        logger.info("threads.title_failed", error_type=type(exc).__name__)
        return
    if title:
        async with SessionMaker() as session:
            await crud_thread.replace_title(
                session=session, thread_id=run.thread_id, expected=provisional, title=title
            )
