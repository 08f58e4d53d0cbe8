"""All SQLModel tables and API shapes, imported here so `SQLModel.metadata` knows every table."""

from app.models.agent import (
    ACTIVE_RUN_STATUSES,
    AgentEvaluation,
    AgentRun,
    AgentThread,
    RunStatus,
    ThreadStatus,
)
from app.models.api_key import (
    ApiKey,
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyPublic,
    ApiKeysPublic,
)
from app.models.approval import AgentApproval, ApprovalStatus
from app.models.auth import LoginThrottle, RefreshToken
from app.models.common import Message, NewPassword, Token, TokenPayload, UTCDateTime, utcnow
from app.models.evaluation import (
    AgentFeedback,
    AgentFeedbackCreate,
    AgentFeedbackPublic,
    EvaluationJob,
    EvaluationJobPublic,
    EvaluationJobsPublic,
    EvaluationJobStatus,
)
from app.models.item import Item, ItemCreate, ItemPublic, ItemsPublic, ItemUpdate
from app.models.user import (
    UpdatePassword,
    User,
    UserCreate,
    UserPublic,
    UserRegister,
    UsersPublic,
    UserUpdate,
    UserUpdateMe,
)

__all__ = [
    "ACTIVE_RUN_STATUSES",
    "AgentApproval",
    "AgentEvaluation",
    "AgentFeedback",
    "AgentFeedbackCreate",
    "AgentFeedbackPublic",
    "AgentRun",
    "AgentThread",
    "ApiKey",
    "ApiKeyCreate",
    "ApiKeyCreated",
    "ApiKeyPublic",
    "ApiKeysPublic",
    "ApprovalStatus",
    "EvaluationJob",
    "EvaluationJobPublic",
    "EvaluationJobStatus",
    "EvaluationJobsPublic",
    "Item",
    "ItemCreate",
    "ItemPublic",
    "ItemUpdate",
    "ItemsPublic",
    "LoginThrottle",
    "Message",
    "NewPassword",
    "RefreshToken",
    "RunStatus",
    "ThreadStatus",
    "Token",
    "TokenPayload",
    "UTCDateTime",
    "UpdatePassword",
    "User",
    "UserCreate",
    "UserPublic",
    "UserRegister",
    "UserUpdate",
    "UserUpdateMe",
    "UsersPublic",
    "utcnow",
]
