"""Writes the database refused, as domain errors; `app.api.errors` maps them to 409 or 404.

A unique or foreign-key violation can always happen between a check and the insert (two
sign-ups with one email at once), so the constraint is the authority: `from_integrity_error`
classifies the driver's error by its constraint (PostgreSQL) or message (SQLite).
"""

from sqlalchemy.exc import IntegrityError

# SQLSTATE classes (PostgreSQL): https://www.postgresql.org/docs/current/errcodes-appendix.html
UNIQUE_VIOLATION = "23505"
FOREIGN_KEY_VIOLATION = "23503"

# Unique constraints by name (PostgreSQL) and by "table.column" (SQLite's message).
UNIQUE_MESSAGES = {
    "ix_user_email": "The user with this email already exists",
    "user.email": "The user with this email already exists",
    "uq_agent_feedback_run_user": "Feedback on this run already exists",
    "agent_feedback.run_id, agent_feedback.user_id": "Feedback on this run already exists",
}
# Foreign keys by the table they point to (PostgreSQL names them `<table>_<column>_fkey`).
MISSING_MESSAGES = {
    "user_id": "User not found",
    "owner_id": "User not found",
    "created_by": "User not found",
    "decided_by": "User not found",
    "run_id": "Run not found",
}


class StoreError(Exception):
    """A write refused by a database constraint: a message for the client and a stable code."""

    code = "conflict"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AlreadyExistsError(StoreError):
    """A unique value is taken (409)."""

    code = "already_exists"


class MissingReferenceError(StoreError):
    """A record the write refers to does not exist, or no longer (404)."""

    code = "not_found"


def _unique_message(constraint: str | None, text: str) -> str:
    if constraint in UNIQUE_MESSAGES:
        return UNIQUE_MESSAGES[constraint]
    failed = text.partition("UNIQUE constraint failed: ")[2].strip()
    return UNIQUE_MESSAGES.get(failed, "This record already exists")


def _missing_message(constraint: str | None) -> str:
    for column, message in MISSING_MESSAGES.items():
        if constraint and constraint.endswith(f"_{column}_fkey"):
            return message
    return "A record this refers to does not exist"


def from_integrity_error(exc: IntegrityError) -> StoreError:
    """The domain error for a constraint violation."""
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    diag = getattr(orig, "diag", None)
    constraint = getattr(diag, "constraint_name", None)
    text = str(orig)
    if sqlstate == UNIQUE_VIOLATION or "UNIQUE constraint failed" in text:
        return AlreadyExistsError(_unique_message(constraint, text))
    if sqlstate == FOREIGN_KEY_VIOLATION or "FOREIGN KEY constraint failed" in text:
        return MissingReferenceError(_missing_message(constraint))
    return StoreError("The request conflicts with stored data")
