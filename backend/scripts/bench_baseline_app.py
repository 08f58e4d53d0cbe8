"""The benchmark's baseline: a bare FastAPI endpoint that calls the model once.

`bench_agent.py --phases baseline` serves it with the same uvicorn options as the API and
drives it with the same clients, so the agent's figures can be read as ratios to it: what a
run costs beyond one model call through the OpenAI SDK, on whatever machine measured it.
Nothing of the app is imported (no database, no auth, no graph). `OPENAI_BASE_URL` and
`LLM_MODEL_NAME` come from the environment, as for the app.

    uvicorn --app-dir scripts bench_baseline_app:app
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from openai import AsyncOpenAI
from pydantic import BaseModel


class RunRequest(BaseModel):
    """The same body as the agent's `POST /api/v1/agent/run`."""

    message: str


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """One client (one connection pool, keep-alive) for the process, as the app has."""
    async with AsyncOpenAI(
        base_url=os.environ["OPENAI_BASE_URL"], api_key=os.environ.get("OPENAI_API_KEY", "x")
    ) as client:
        app.state.client = client
        yield


app = FastAPI(lifespan=lifespan)


@app.get("/api/v1/utils/health-check/")
async def health() -> bool:
    """Ready."""
    return True


@app.post("/api/v1/agent/run")
async def run(body: RunRequest) -> dict[str, Any]:
    """One chat completion of the message; its answer."""
    client: AsyncOpenAI = app.state.client
    completion = await client.chat.completions.create(
        model=os.environ.get("LLM_MODEL_NAME", "stub-model"),
        messages=[{"role": "user", "content": body.message}],
    )
    return {"status": "success", "response": completion.choices[0].message.content}
