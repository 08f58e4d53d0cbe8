"""Read `text/plain` request bodies as JSON under one path prefix.

agent-chat-ui's Next.js proxy forwards JSON bodies with `content-type: text/plain`; FastAPI
parses a body as JSON only when the content type says so, and would answer 422. Rewriting the
header (rather than parsing bodies by hand) keeps the routes' declared body models, their
validation and their OpenAPI.
"""

from starlette.types import ASGIApp, Receive, Scope, Send


class JsonBodyAsTextMiddleware:
    """Under `path_prefix`, a `text/plain` request is passed on as `application/json`."""

    def __init__(self, app: ASGIApp, path_prefix: str) -> None:
        self.app = app
        self.prefix = path_prefix.rstrip("/") + "/"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefix):
            headers = [
                (name, b"application/json")
                if name == b"content-type" and value.split(b";")[0].strip() == b"text/plain"
                else (name, value)
                for name, value in scope["headers"]
            ]
            scope = {**scope, "headers": headers}
        await self.app(scope, receive, send)
