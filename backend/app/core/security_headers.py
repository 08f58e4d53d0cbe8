"""The one place browser security headers come from: CSP, nosniff, referrer and frame policies.

Every HTTP response (the API, the built SPA, static assets, errors) gets the headers unless the
handler set its own. The Content-Security-Policy limits where the page may load images from and
connect to ('self' plus CHAT_IMAGE_ALLOWED_ORIGINS / CSP_CONNECT_SRC_ORIGINS), so even markdown
the chat failed to neutralise can't make the browser send data to another host. FastAPI's
`/docs` and `/redoc` pages load their scripts from a CDN and run an inline script, so they get a
relaxed policy that allows exactly that (and nothing else new).
"""

from dataclasses import dataclass

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.config import Settings

DOCS_PATHS = ("/docs", "/redoc")
DOCS_CDN = "https://cdn.jsdelivr.net"
DOCS_IMAGES = "https://fastapi.tiangolo.com"


def _origins(values: list[str] | str) -> list[str]:
    items = [values] if isinstance(values, str) else values
    return [value.rstrip("/") for value in items if value.strip()]


def content_security_policy(config: Settings) -> str:
    """The app's policy: only this origin, plus the configured image and connect origins."""
    images = " ".join(["'self'", "data:", "blob:", *_origins(config.CHAT_IMAGE_ALLOWED_ORIGINS)])
    connect = " ".join(["'self'", *_origins(config.CSP_CONNECT_SRC_ORIGINS)])
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            # Inline style attributes/elements set by UI libraries (Radix, toasts) need this;
            # styles can't fetch anything img-src and font-src don't allow.
            "style-src 'self' 'unsafe-inline'",
            f"img-src {images}",
            "font-src 'self' data:",
            f"connect-src {connect}",
            "media-src 'self'",
            "object-src 'none'",
            "frame-src 'none'",
            "worker-src 'self' blob:",
            "manifest-src 'self'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def docs_security_policy() -> str:
    """The API docs pages: Swagger UI / ReDoc from the CDN with their inline bootstrap script."""
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'unsafe-inline' {DOCS_CDN}",
            f"style-src 'self' 'unsafe-inline' {DOCS_CDN} https://fonts.googleapis.com",
            f"img-src 'self' data: {DOCS_IMAGES} {DOCS_CDN}",
            "font-src 'self' https://fonts.gstatic.com",
            "connect-src 'self'",
            "worker-src 'self' blob:",
            "object-src 'none'",
            "base-uri 'self'",
            "frame-ancestors 'none'",
        ]
    )


@dataclass(frozen=True)
class HeaderSet:
    """The headers for ordinary responses and for the docs pages."""

    default: tuple[tuple[str, str], ...]
    docs: tuple[tuple[str, str], ...]


def build_headers(config: Settings) -> HeaderSet:
    """Compute the header values once from the settings."""
    common = [
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("X-Frame-Options", "DENY"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"),
    ]
    if config.SECURITY_HSTS_SECONDS:
        common.append(
            (
                "Strict-Transport-Security",
                f"max-age={config.SECURITY_HSTS_SECONDS}; includeSubDomains",
            )
        )
    return HeaderSet(
        default=(*common, ("Content-Security-Policy", content_security_policy(config))),
        docs=(*common, ("Content-Security-Policy", docs_security_policy())),
    )


class SecurityHeadersMiddleware:
    """Pure ASGI (streams pass through untouched): adds the headers a response doesn't set."""

    def __init__(self, app: ASGIApp, config: Settings) -> None:
        self.app = app
        self.headers = build_headers(config)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        docs = any(path == p or path.startswith(p + "/") for p in DOCS_PATHS)
        extra = self.headers.docs if docs else self.headers.default

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra:
                    if name not in headers:
                        headers.append(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
