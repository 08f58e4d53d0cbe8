"""Agent Protocol runs: the same run records, queue, workers and event log as `/agent/run`.

A run started here goes through `app.services.runs.prepare` like any other (budgets, limits,
trace, metrics, run history); only what the worker logs differs: the state events the
client's stream modes need.
"""

import contextlib
import uuid
from typing import TYPE_CHECKING, Any, get_args

import structlog
from langgraph.types import StateSnapshot
from pydantic import ValidationError

from app.agents.service import message_id
from app.core.db import SessionMaker
from app.crud import agent_run as crud_run
from app.crud import approval as crud_approval
from app.crud import thread as crud_thread
from app.models import (
    ACTIVE_RUN_STATUSES,
    AgentRun,
    ApprovalDecision,
    RunStatus,
    ThreadStatus,
    User,
)
from app.services.protocol import assistants
from app.services.protocol.messages import user_text
from app.services.protocol.schemas import ProtocolRun, RunCommand, RunCreate, StreamModeName
from app.services.runs import approvals, cancel, prepare, streams, threads
from app.services.runs.errors import (
    CheckpointNotFoundError,
    ProtocolInputError,
    QueueUnavailableError,
    RunConflictError,
    RunNotFoundError,
    ThreadNotFoundError,
)

if TYPE_CHECKING:
    from app.services.runs.runtime import RunRuntime

logger = structlog.get_logger(__name__)
STATUS = {
    RunStatus.pending: "pending",
    RunStatus.running: "running",
    RunStatus.success: "success",
    RunStatus.error: "error",
    RunStatus.blocked: "error",
    RunStatus.interrupted: "error",  # its worker died
    RunStatus.cancelled: "interrupted",  # what the reference server calls a cancelled run
    RunStatus.awaiting_approval: "interrupted",
}
STREAM_MODES: tuple[str, ...] = get_args(StreamModeName)
GOTO_NODES = ("input_guard", "planner", "executor")
ROLLBACK_SCAN = 20
REGENERATE_SCAN = 200  # checkpoints searched for the turn after a regenerated one  # checkpoints searched back for the state before the rolled-back runs
MESSAGE_MODES = frozenset({"messages", "messages-tuple"})
HITL_DECISIONS = {"approve": "approve", "accept": "approve", "edit": "edit", "reject": "reject"}


def protocol_run(run: AgentRun) -> ProtocolRun:
    """The run in the SDK's shape."""
    return ProtocolRun(
        run_id=run.id,
        thread_id=run.thread_id,
        assistant_id=assistants.ASSISTANT_ID,
        created_at=run.created_at,
        updated_at=run.finished_at or run.created_at,
        status=STATUS.get(RunStatus(run.status), "error"),
        metadata=run_metadata(run),
    )


def run_metadata(run: AgentRun) -> dict[str, Any]:
    """The caller's metadata, plus, once the run ended, how it was answered: `mode`
    (normal/degraded), `degraded_reason` and the `model` that answered."""
    if run.finished_at is None and run.status != RunStatus.awaiting_approval:
        return dict(run.run_metadata or {})
    answered = {"mode": run.mode, "degraded_reason": run.degraded_reason, "model": run.model}
    return {**(run.run_metadata or {}), **answered}


def query_modes(given: list[str] | None) -> list[str]:
    """Stream modes from a query string (the SDK sends an empty `stream_mode=` for none)."""
    modes = [mode for mode in given or [] if mode]
    unknown = sorted(set(modes) - set(STREAM_MODES))
    if unknown:
        raise ProtocolInputError(
            f"stream_mode: unsupported {', '.join(unknown)} (use {', '.join(STREAM_MODES)})"
        )
    return modes or ["values"]


def state_modes(modes: list[str]) -> list[str]:
    """The state events the worker must log for these stream modes (messages are rebuilt from
    node updates: tool calls and tool results aren't streamed token by token)."""
    wanted = {mode for mode in modes if mode in ("values", "updates")}
    if MESSAGE_MODES & set(modes):
        wanted.add("updates")
    return sorted(wanted)


def _decision(resume: Any) -> ApprovalDecision:
    """`command.resume` as our decision: agent-chat-ui's `{decisions: [...]}`, the older
    `[{type: accept|edit|ignore|response, args}]`, or our own `{decision, args, comment}`."""
    try:
        if isinstance(resume, dict) and "decisions" in resume:
            decisions = resume["decisions"]
            if not isinstance(decisions, list) or len(decisions) != 1:
                raise ProtocolInputError("command.resume.decisions must hold one decision")
            item = decisions[0]
            kind = HITL_DECISIONS.get(str(item.get("type"))) if isinstance(item, dict) else None
            if kind is None:
                raise ProtocolInputError(
                    "command.resume.decisions[0].type must be approve, edit or reject"
                )
            if kind == "edit":
                action = item.get("edited_action") or {}
                return ApprovalDecision(
                    decision="edit", args=action.get("args"), comment=item.get("message")
                )
            return ApprovalDecision(decision=kind, comment=item.get("message"))
        if isinstance(resume, list) and len(resume) == 1 and isinstance(resume[0], dict):
            item, kind = resume[0], resume[0].get("type")
            if kind == "accept":
                return ApprovalDecision(decision="approve")
            if kind == "edit":
                args = (item.get("args") or {}).get("args")
                return ApprovalDecision(decision="edit", args=args)
            if kind in ("ignore", "response"):
                comment = item.get("args") if isinstance(item.get("args"), str) else None
                return ApprovalDecision(decision="reject", comment=comment)
            raise ProtocolInputError(
                "command.resume[0].type must be accept, edit, ignore or response"
            )
        if isinstance(resume, dict):
            return ApprovalDecision.model_validate(resume)
    except ValidationError as exc:
        message = "; ".join(str(error["msg"]) for error in exc.errors())
        raise ProtocolInputError(f"command.resume: {message}") from None
    raise ProtocolInputError("command.resume must be {decisions: [...]} for this agent")


async def _resume(
    runtime: "RunRuntime", user: User, thread_id: uuid.UUID, resume: Any, options: dict[str, Any]
) -> prepare.QueuedRun:
    """Decide the thread's pending approval with `command.resume`; the paused run goes on."""
    decision = _decision(resume)
    async with SessionMaker() as session:
        await threads.owned_thread(session, user, thread_id)
        pending = await crud_approval.pending_for_thread(session=session, thread_id=thread_id)
    if pending is None:
        raise RunConflictError("This thread has no pending interrupt to resume")
    if decision.decision == "edit" and decision.args is None:
        raise ProtocolInputError("command.resume: an edit needs edited_action.args")
    return await approvals.decide(
        runtime,
        user,
        thread_id,
        pending.id,
        decision,
        decided_by=user.id,
        stream_tokens=bool(options.get("stream_tokens")),
        options=options,
    )


def _command(command: RunCommand) -> tuple[str, str]:
    """`command.update`/`goto` as a new message (or none) and the node to go to. Only user
    messages can be added, and a new message always passes the input guardrails first."""
    text = ""
    if command.update is not None:
        if not isinstance(command.update, dict) or set(command.update) != {"messages"}:
            raise ProtocolInputError("command.update may only add messages: {messages: [...]}")
        text = user_text(command.update) or ""
    goto = command.goto
    if isinstance(goto, list):
        if len(goto) != 1:
            raise ProtocolInputError("command.goto: give one node")
        goto = goto[0]
    if goto is None:
        goto = "input_guard"
    if goto not in GOTO_NODES:
        raise ProtocolInputError(f"command.goto must be one of {', '.join(GOTO_NODES)}")
    if text and goto != "input_guard":
        raise ProtocolInputError("command.goto: a new message goes through input_guard first")
    return text, goto


def _last_human(values: dict[str, Any]) -> str:
    for message in reversed(values.get("messages", [])):
        if getattr(message, "type", None) == "human":
            return str(message.text)
    return ""


async def _state_text(
    runtime: "RunRuntime", thread_id: uuid.UUID, checkpoint_id: str | None
) -> str:
    """The last user message of the state a run goes on from (the run's record needs one)."""
    snapshot = await runtime.agent.state(thread_id, checkpoint_id)
    if snapshot is None:
        if checkpoint_id is not None:
            raise CheckpointNotFoundError()
        raise ProtocolInputError("input.messages is required: this thread has no state yet")
    return _last_human(snapshot.values)


async def _continuation(
    runtime: "RunRuntime", thread_id: uuid.UUID, checkpoint_id: str | None
) -> tuple[str, bool]:
    """What a run without input does: go on from a paused state (next nodes left), or, from a
    finished turn's checkpoint, answer the following turn's question again — how clients
    regenerate an answer. Returns the text and whether it is sent again as new input."""
    snapshot = await runtime.agent.state(thread_id, checkpoint_id)
    if snapshot is None:
        if checkpoint_id is not None:
            raise CheckpointNotFoundError()
        raise ProtocolInputError("input.messages is required: this thread has no state yet")
    if snapshot.next:
        return _last_human(snapshot.values), False
    if checkpoint_id is None:
        raise ProtocolInputError("Nothing to run: the last turn has finished; send input.messages")
    question = await _following_question(runtime, thread_id, snapshot)
    if question is None:
        raise ProtocolInputError(
            "Nothing to run from this checkpoint (no later turn to regenerate); send input.messages"
        )
    return question, True


async def _following_question(
    runtime: "RunRuntime", thread_id: uuid.UUID, start: StateSnapshot
) -> str | None:
    """The user message of the turn after `start` on the thread's current branch (else on the
    newest branch from it). One checkpoint per turn: the child's first new human message."""
    start_id = start.config["configurable"]["checkpoint_id"]
    history = await runtime.agent.history(thread_id, limit=REGENERATE_SCAN)
    by_id = {snap.config["configurable"]["checkpoint_id"]: snap for snap in history}

    def parent_id(snap: StateSnapshot) -> str | None:
        return (snap.parent_config or {}).get("configurable", {}).get("checkpoint_id")

    child = history[0] if history else None
    while child is not None and parent_id(child) != start_id:
        child = by_id.get(parent_id(child) or "")
    if child is None:
        child = next((snap for snap in history if parent_id(snap) == start_id), None)
    if child is None:
        return None
    known = len(start.values.get("messages", []))
    later = child.values.get("messages", [])[known:]
    return next((str(m.text) for m in later if getattr(m, "type", None) == "human"), None)


async def _make_room(
    runtime: "RunRuntime", thread_id: uuid.UUID, strategy: str, options: dict[str, Any]
) -> None:
    """Apply the multitask strategy to the thread's active runs: the new run waits for them
    (enqueue), or they are cancelled (interrupt) and their turns taken back (rollback: the new
    run starts from the checkpoint before the earliest of them; the runs stay in the history)."""
    async with SessionMaker() as session:
        runs = await crud_run.runs_of_thread(session=session, thread_id=thread_id)
    active = [run.id for run in runs if run.status in ACTIVE_RUN_STATUSES]
    if strategy == "enqueue":
        options["after_runs"] = [str(run_id) for run_id in active]
        return
    for run_id in active:
        await cancel.cancel_quietly(runtime, run_id)
    if strategy == "rollback" and active:
        before = await _checkpoint_before(runtime, thread_id, active)
        if before is not None:
            options.setdefault("checkpoint_id", before)


async def _checkpoint_before(
    runtime: "RunRuntime", thread_id: uuid.UUID, run_ids: list[uuid.UUID]
) -> str | None:
    """The newest checkpoint holding none of these runs' messages."""
    messages = {message_id(run_id) for run_id in run_ids}
    for snapshot in await runtime.agent.history(thread_id, limit=ROLLBACK_SCAN):
        held = {getattr(m, "id", None) for m in snapshot.values.get("messages", [])}
        if not held & messages:
            return str(snapshot.config["configurable"]["checkpoint_id"])
    return None


async def start(
    runtime: "RunRuntime",
    user: User,
    thread_id: uuid.UUID | None,
    body: RunCreate,
    *,
    waited: bool = False,
) -> prepare.QueuedRun:
    """Validate the request and start (or resume) a run on the thread (a new thread when
    `thread_id` is None: a stateless run)."""
    assistants.resolve(body.assistant_id)
    modes = body.modes()
    if body.input and body.command is not None:
        raise ProtocolInputError("Send either input or command, not both")
    checkpoint_id = body.checkpoint_id or (
        body.checkpoint.checkpoint_id if body.checkpoint else None
    )
    options: dict[str, Any] = {
        # A waited-for run is read only for its final state: it logs no state events.
        "state_modes": [] if waited else state_modes(modes),
        # Tokens are streamed for whoever reads the run (now, or by joining a background run).
        "stream_tokens": not waited and bool(MESSAGE_MODES & set(modes)),
    }
    if body.durability in ("sync", "async"):
        options["durability"] = body.durability
    command = body.command
    if command is not None and command.resume is not None:
        if thread_id is None:
            raise ProtocolInputError("command.resume needs a thread")
        return await _resume(runtime, user, thread_id, command.resume, options)
    message = user_text(body.input or {})
    if thread_id is not None:
        async with SessionMaker() as session:
            try:
                await threads.owned_thread(session, user, thread_id)
                exists = True
            except ThreadNotFoundError:
                if body.if_not_exists != "create":
                    raise
                exists = False
        if exists and checkpoint_id is not None:
            if await runtime.agent.state(thread_id, checkpoint_id) is None:
                raise CheckpointNotFoundError()
        if exists and body.multitask_strategy != "reject":
            await _make_room(runtime, thread_id, body.multitask_strategy, options)
    elif checkpoint_id is not None:
        raise CheckpointNotFoundError()
    if command is not None and (command.update is not None or command.goto is not None):
        if message is not None:
            raise ProtocolInputError("Send either input or command, not both")
        text, goto = _command(command)
        options["command"] = {"goto": goto}
        if not text:  # going to a node of the existing state: there must be one
            if thread_id is None:
                raise ProtocolInputError("command.goto needs a thread with state")
            await _state_text(runtime, thread_id, checkpoint_id)
        options["has_input"] = False
    elif message is None:
        if thread_id is None:
            raise ProtocolInputError("input.messages is required")
        text, options["has_input"] = await _continuation(runtime, thread_id, checkpoint_id)
    else:
        text, options["has_input"] = message, True
    if checkpoint_id is not None:
        options["checkpoint_id"] = checkpoint_id
    new = prepare.NewRun(
        message=text,
        thread_id=thread_id,
        metadata=body.metadata or {},
        create_thread=thread_id is None or body.if_not_exists == "create",
        reject_if_busy=body.multitask_strategy == "reject",
        thread_metadata=assistants.graph_metadata(),
        options=options,
    )
    return await prepare.start_new_run(runtime, user, new, stream_tokens=options["stream_tokens"])


async def list_runs(
    user: User, thread_id: uuid.UUID, *, limit: int, offset: int, status: str | None
) -> list[ProtocolRun]:
    """The thread's runs, newest first."""
    async with SessionMaker() as session:
        await threads.owned_thread(session, user, thread_id)
        runs = await crud_run.runs_of_thread(session=session, thread_id=thread_id)
    selected = [
        protocol_run(run)
        for run in sorted(runs, key=lambda run: run.created_at, reverse=True)
        if status is None or STATUS.get(RunStatus(run.status)) == status
    ]
    return selected[offset : offset + limit]


async def owned_run(user: User, thread_id: uuid.UUID, run_id: uuid.UUID) -> AgentRun:
    """The user's run on that thread; RunNotFoundError otherwise."""
    async with SessionMaker() as session:
        run = await crud_run.get_run_for(session=session, user=user, run_id=run_id)
    if run is None or run.user_id != user.id or run.thread_id != thread_id:
        raise RunNotFoundError()
    return run


async def cancel_run(
    runtime: "RunRuntime", user: User, thread_id: uuid.UUID, run_id: uuid.UUID
) -> ProtocolRun:
    """Cancel the run (waiting briefly for it to stop); one that has ended is left as it is,
    and one paused for approval ends cancelled with its approval superseded."""
    run = await owned_run(user, thread_id, run_id)
    if run.status in ACTIVE_RUN_STATUSES:
        try:
            run = await cancel.cancel_run(runtime, run_id)
        except RunConflictError:
            run = await owned_run(user, thread_id, run_id)
    elif run.status == RunStatus.awaiting_approval:
        async with SessionMaker() as session:
            await crud_approval.supersede_pending(session=session, thread_id=thread_id)
            await crud_thread.set_status(
                session=session, thread_id=thread_id, status=ThreadStatus.idle
            )
            await session.commit()
        run = await owned_run(user, thread_id, run_id)
    return protocol_run(run)


async def delete_after(runtime: "RunRuntime", user: User, queued: prepare.QueuedRun) -> None:
    """A stateless run's thread, deleted once the run has ended (`on_completion=delete`)."""
    try:
        await streams.wait_for_end(runtime, queued.run_id, queued.cursor)
    except QueueUnavailableError:
        logger.warning("protocol.stateless_thread_kept", thread_id=str(queued.thread_id))
        return
    async with SessionMaker() as session:
        with contextlib.suppress(ThreadNotFoundError):
            await threads.delete_thread(session, runtime.agent, user, queued.thread_id)
