"""Name a new conversation after its first exchange: a queue task of its own.

The run that started the thread asks for it once it has ended successfully (its job carries
`NAME_THREAD`), so the title costs the run no latency and no worker slot: any worker picks the
task up from the same queue. The call goes through the model chain (breakers, fallbacks), is
traced into the run's Langfuse trace, counted in the metrics, and its tokens are added to the
run, so they count against the user's daily budget; a user whose budget is spent keeps the
trimmed first message as the title. With the offline model the title stays that trimmed message.
"""

import asyncio
import time
import uuid
from datetime import UTC, datetime

import structlog

from app.agents.model_chain import CallScope
from app.agents.service import AgentService, UsageHandler
from app.agents.titles import model_title, trimmed_title
from app.core import metrics, telemetry
from app.core.config import Settings
from app.core.db import SessionMaker
from app.crud import agent_run as crud_run
from app.crud import thread as crud_thread
from app.models import AgentRun, RunStatus
from app.services import budget

logger = structlog.get_logger(__name__)
TITLE_TIMEOUT_S = 15.0
NAME_THREAD = "name_thread"  # a run's job option: this run gave its thread its first title


def wanted(settings: Settings, answer: str | None) -> bool:
    """Would a model title be asked for after this answer?"""
    return (
        settings.llm_provider != "offline"
        and settings.AGENT_MODEL_TITLES
        and bool((answer or "").strip())
    )


async def title_thread(agent: AgentService, run_id: uuid.UUID) -> None:
    """The queue's title task: give the run's thread the model's title, unless the thread was
    renamed meanwhile, the run didn't succeed, or the user's token budget is spent."""
    settings = agent.settings
    async with SessionMaker() as session:
        run = await session.get(AgentRun, run_id)
        if run is None or run.status != RunStatus.success or not wanted(settings, run.response):
            return
        provisional = trimmed_title(run.input)
        thread = await crud_thread.get_thread(session=session, thread_id=run.thread_id)
        if thread is None or thread.title != provisional:
            return
        limit = settings.AGENT_DAILY_TOKEN_BUDGET
        if limit > 0:
            used = await budget.tokens_used_today(session, run.user_id, datetime.now(UTC))
            if used >= limit:
                return
    usage = UsageHandler()
    callbacks = [usage, *metrics.metrics_callbacks(), *telemetry.side_call_callbacks(run.trace_id)]
    try:
        async with asyncio.timeout(TITLE_TIMEOUT_S):
            scope = CallScope(deadline=time.monotonic() + TITLE_TIMEOUT_S)
            title = await model_title(agent.models, run.input, run.response or "", scope, callbacks)
    except Exception as exc:  # a title is a nicety: the run has ended and stays recorded
        logger.info("threads.title_failed", error_type=type(exc).__name__)
        title = ""
    tokens = usage.totals()
    async with SessionMaker() as session:
        if tokens["total_tokens"]:
            await crud_run.add_usage(
                session=session,
                run_id=run.id,
                prompt=tokens["input_tokens"],
                completion=tokens["output_tokens"],
                total=tokens["total_tokens"],
            )
        if title:
            await crud_thread.replace_title(
                session=session, thread_id=run.thread_id, expected=provisional, title=title
            )
