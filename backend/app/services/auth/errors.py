"""Domain errors of sign-in; `app.api.errors` maps each to an HTTP answer."""


class AuthError(Exception):
    """Base class: a message fit for the client and a stable machine-readable code."""

    code = "auth_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RefreshRejectedError(AuthError):
    """The refresh token is missing, unknown, expired, revoked or reused (401)."""

    code = "invalid_refresh_token"

    def __init__(self) -> None:
        super().__init__("Invalid or expired session, please log in again")


class CsrfError(AuthError):
    """The CSRF header is missing or doesn't match the CSRF cookie (403)."""

    code = "csrf_failed"

    def __init__(self) -> None:
        super().__init__("Missing or invalid CSRF token")


class LoginThrottledError(AuthError):
    """Too many failed sign-ins for this account: wait `retry_after_s` seconds (429)."""

    code = "login_throttled"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(
            f"Too many failed login attempts for this account. Retry in {retry_after_s} s."
        )
        self.retry_after_s = retry_after_s


class ApiKeyRejectedError(AuthError):
    """The X-Api-Key is unknown, revoked or expired (401)."""

    code = "invalid_api_key"

    def __init__(self) -> None:
        super().__init__("Invalid or expired API key")


class ApiKeyLimitError(AuthError):
    """The user already holds as many live keys as allowed (409)."""

    code = "api_key_limit"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"You already have {limit} active API keys, the most allowed; revoke one first."
        )
        self.limit = limit
