"""Domain errors of the run layer; `app.api.errors` maps each to an HTTP answer."""

from app.agents.schemas import AgentRunResult


class RunLayerError(Exception):
    """Base class: carries a message fit for the client."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ThreadNotFoundError(RunLayerError):
    """No such thread for this user (or it was deleted)."""

    def __init__(self) -> None:
        super().__init__("Thread not found")


class AssistantNotFoundError(RunLayerError):
    """No assistant with this id (the Agent Protocol serves one: the agent graph)."""

    def __init__(self) -> None:
        super().__init__("Assistant not found")


class CheckpointNotFoundError(RunLayerError):
    """No such checkpoint in this thread (it may belong to another thread)."""

    def __init__(self) -> None:
        super().__init__("Checkpoint not found in this thread")


class ThreadBusyError(RunLayerError):
    """A run of the thread is still going (Agent Protocol `multitask_strategy=reject`)."""

    def __init__(self) -> None:
        super().__init__("Thread is busy with another run; wait for it or cancel it")


class ThreadExistsError(RunLayerError):
    """A thread with this id exists already (Agent Protocol `if_exists=raise`)."""

    def __init__(self) -> None:
        super().__init__("Thread already exists")


class ProtocolInputError(RunLayerError):
    """An Agent Protocol request that is well-formed JSON but can't be run (422)."""


class RunNotFoundError(RunLayerError):
    """No such run for this user."""

    def __init__(self) -> None:
        super().__init__("Run not found")


class RunConflictError(RunLayerError):
    """The run is not in a state that allows this (e.g. cancelling a finished run)."""


class BadEventIdError(RunLayerError):
    """`Last-Event-ID` / `after` is not an event id of this run."""


class QueueUnavailableError(RunLayerError):
    """The queue or the event log can't be reached; the client should retry."""

    retry_after_s = 2


class ClientGoneError(RunLayerError):
    """The client disconnected before the run it was waiting for ended."""

    def __init__(self) -> None:
        super().__init__("The client disconnected before the run ended")


class ServerStoppingError(QueueUnavailableError):
    """This process is shutting down: retry (another replica, or this one restarted, answers);
    the run goes on on a worker, or is recorded interrupted."""

    def __init__(self) -> None:
        super().__init__("The server is restarting; please retry shortly")


class RunFailedError(RunLayerError):
    """A run that ended in error: the code, and the result as recorded."""

    def __init__(self, code: str, message: str, result: AgentRunResult) -> None:
        super().__init__(message)
        self.code = code
        self.result = result


class ApprovalNotFoundError(RunLayerError):
    """No such approval for this user and thread."""

    def __init__(self) -> None:
        super().__init__("Approval not found")


class ApprovalConflictError(RunLayerError):
    """The approval was already decided, superseded or has expired."""


class ApprovalArgsError(RunLayerError):
    """Edited arguments don't fit the tool's schema."""

    def __init__(self, errors: list[dict[str, object]]) -> None:
        super().__init__("invalid arguments")
        self.errors = errors
