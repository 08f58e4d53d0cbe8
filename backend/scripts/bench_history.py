"""The history benchmark: one user with 1,000,000 runs and 100,000 threads on PostgreSQL.

Rows are generated with SQL (generate_series), not through the API, then VACUUM ANALYZE. One
uvicorn worker serves `GET /agent/runs` and `GET /agent/threads`; each case is requested
`--requests` times one after another (C=1) and reported as p50/p95, with the EXPLAIN (ANALYZE,
BUFFERS) plan of the statements it runs (written here as crud/agent_run.py and crud/thread.py
build them).

    cd backend && uv run python scripts/bench_history.py [--runs 1000000] [--threads 100000]
        [--requests 100]
"""

import asyncio
import time
from typing import Any

import httpx
from bench_agent import (  # scripts/ is on sys.path when run as a script; it adds backend/
    Cluster,
    base_environment,
    load,
    machine,
    make_users,
    new_database,
    percentile,
)

from tests.support.postgres import start_postgres

ORDER_RUNS = "ORDER BY created_at DESC, id DESC"


def generate(url: str, user_id: str, runs: int, threads: int) -> dict[str, float]:
    """Threads with `runs // threads` runs each, a minute apart, ~5 % of runs `error`."""
    import psycopg

    per_thread = max(1, runs // threads)
    timings: dict[str, float] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        start = time.perf_counter()
        conn.execute(
            "INSERT INTO agent_thread (id, user_id, title, status, metadata, created_at,"
            " updated_at) SELECT gen_random_uuid(), %(u)s, 'thread ' || n, 'idle', '{}',"
            " now() - n * interval '1 minute', now() - n * interval '1 minute'"
            " FROM generate_series(1, %(threads)s) AS n",
            {"u": user_id, "threads": threads},
        )
        conn.execute(
            "INSERT INTO agent_run (id, user_id, thread_id, input, response, status, model,"
            " prompt_tokens, completion_tokens, total_tokens, tool_call_count, latency_ms,"
            " thread_deleted, created_at, finished_at, tool_calls, metadata)"
            " SELECT gen_random_uuid(), %(u)s, t.id,"
            " 'question ' || k || ' about ' || left(md5(t.id::text || k), 8), 'answer',"
            " CASE WHEN random() < 0.05 THEN 'error' ELSE 'success' END, 'stub-model',"
            " 10, 20, 30, 0, 25, false, t.created_at + k * interval '1 second',"
            " t.created_at + k * interval '1 second', '[]', '{}'"
            " FROM agent_thread AS t, generate_series(1, %(per)s) AS k WHERE t.user_id = %(u)s",
            {"u": user_id, "per": per_thread},
        )
        timings["insert_s"] = round(time.perf_counter() - start, 1)
        start = time.perf_counter()
        conn.execute("VACUUM ANALYZE agent_run")
        conn.execute("VACUUM ANALYZE agent_thread")
        timings["vacuum_analyze_s"] = round(time.perf_counter() - start, 1)
    return timings


def explain(url: str, sql: str, params: dict[str, Any]) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of one statement, as text lines."""
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params).fetchall()
    return [row[0] for row in rows]


async def timed(
    base: str, headers: dict[str, str], path: str, params: dict[str, Any], count: int
) -> dict[str, Any]:
    """`count` sequential GETs (after 5 warm-up ones): p50/p95 in ms."""
    times: list[float] = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        for index in range(count + 5):
            start = time.perf_counter()
            response = await http.get(path, params=params, headers=headers)
            elapsed = (time.perf_counter() - start) * 1000
            response.raise_for_status()
            if index >= 5:
                times.append(elapsed)
        body = response.json()
    return {
        "p50_ms": round(percentile(times, 50), 1),
        "p95_ms": round(percentile(times, 95), 1),
        "items": len(body["data"]),
        "count": body["count"],
        "count_is_estimate": body.get("count_is_estimate"),
    }


def cases(url: str, user_id: str, runs: int, threads: int) -> list[dict[str, Any]]:
    """The requests measured, each with the SQL it runs (besides the bounded count)."""
    import psycopg

    from app.crud.pages import Cursor

    with psycopg.connect(url) as conn:
        deep_run = conn.execute(
            f"SELECT created_at, id FROM agent_run WHERE user_id = %s {ORDER_RUNS} OFFSET %s"
            " LIMIT 1",
            (user_id, runs // 2),
        ).fetchone()
        deep_thread = conn.execute(
            "SELECT updated_at, id FROM agent_thread WHERE user_id = %s"
            " ORDER BY updated_at DESC, id DESC OFFSET %s LIMIT 1",
            (user_id, threads // 2),
        ).fetchone()
        rare = conn.execute(
            "SELECT split_part(input, ' about ', 2) FROM agent_run WHERE user_id = %s"
            " OFFSET %s LIMIT 1",
            (user_id, runs // 3),
        ).fetchone()
        some_thread = conn.execute(
            "SELECT thread_id FROM agent_run WHERE user_id = %s OFFSET %s LIMIT 1",
            (user_id, runs // 8),
        ).fetchone()
    assert deep_run and deep_thread and some_thread and rare
    run_cursor = Cursor(deep_run[0], deep_run[1])
    thread_cursor = Cursor(deep_thread[0], deep_thread[1])
    runs_sql = f"SELECT * FROM agent_run WHERE user_id = %(u)s {{where}} {ORDER_RUNS} LIMIT 21"
    threads_sql = (
        "SELECT t.*, (SELECT count(*) FROM agent_run r WHERE r.thread_id = t.id) AS runs"
        " FROM agent_thread t WHERE t.user_id = %(u)s {where}"
        " ORDER BY t.updated_at DESC, t.id DESC LIMIT 51"
    )
    count_sql = "SELECT count(*) FROM (SELECT id FROM agent_run WHERE user_id = %(u)s LIMIT 1001) c"
    search = (
        "AND t.id IN (SELECT id FROM agent_thread WHERE user_id = %(u)s AND title ILIKE %(p)s"
        " UNION SELECT thread_id FROM agent_run WHERE user_id = %(u)s"
        " AND (input ILIKE %(p)s OR response ILIKE %(p)s))"
    )
    newest_matching = (
        "SELECT t.*, (SELECT count(*) FROM agent_run r WHERE r.thread_id = t.id) AS runs FROM"
        " (SELECT * FROM agent_thread WHERE user_id = %(u)s ORDER BY updated_at DESC, id DESC"
        " LIMIT 1000) t LEFT JOIN LATERAL (SELECT 1 AS hit FROM agent_run r WHERE"
        " r.thread_id = t.id AND (r.input ILIKE %(p)s OR r.response ILIKE %(p)s) LIMIT 1) m"
        " ON true WHERE t.title ILIKE %(p)s OR m.hit IS NOT NULL"
        " ORDER BY t.updated_at DESC, t.id DESC LIMIT 51"
    )
    after_run = "AND (created_at, id) < (%(at)s, %(id)s)"
    after_thread = "AND (t.updated_at, t.id) < (%(at)s, %(id)s)"
    return [
        {
            "name": "runs: first page",
            "path": "/api/v1/agent/runs",
            "params": {},
            "sql": runs_sql.format(where=""),
            "sql_params": {"u": user_id},
        },
        {
            "name": f"runs: page after a cursor {runs // 2:,} runs deep",
            "path": "/api/v1/agent/runs",
            "params": {"cursor": run_cursor.encode()},
            "sql": runs_sql.format(where=after_run),
            "sql_params": {"u": user_id, "at": run_cursor.at, "id": run_cursor.id},
        },
        {
            "name": f"runs: skip={runs // 2} (offset, kept for compatibility)",
            "path": "/api/v1/agent/runs",
            "params": {"skip": runs // 2},
            "sql": runs_sql.format(where="") + f" OFFSET {runs // 2}",
            "sql_params": {"u": user_id},
        },
        {
            "name": "runs: status=error",
            "path": "/api/v1/agent/runs",
            "params": {"status": "error"},
            "sql": runs_sql.format(where="AND status = 'error'"),
            "sql_params": {"u": user_id},
        },
        {
            "name": "runs: thread_id filter",
            "path": "/api/v1/agent/runs",
            "params": {"thread_id": str(some_thread[0])},
            "sql": runs_sql.format(where="AND thread_id = %(t)s"),
            "sql_params": {"u": user_id, "t": some_thread[0]},
        },
        {
            "name": "runs: bounded count (every runs request)",
            "path": None,
            "sql": count_sql,
            "sql_params": {"u": user_id},
        },
        {
            "name": "threads: first page",
            "path": "/api/v1/agent/threads",
            "params": {},
            "sql": threads_sql.format(where=""),
            "sql_params": {"u": user_id},
        },
        *(
            {
                "name": f"threads: search ?q= {label}",
                "path": "/api/v1/agent/threads",
                "params": {"q": term},
                "sql": sql,
                "sql_params": {"u": user_id, "p": f"%{term}%"},
            }
            for label, term, sql in (
                ("a word of one run", rare[0], threads_sql.format(where=search)),
                # The planner expects thousands of matches: its estimate is the count, and the
                # page comes from the newest threads, each checked through its runs' index.
                ("in every tenth run ('question 3')", "question 3", newest_matching),
                # Estimated at ~100 matches, so counted exactly up to 1,001 from the trigram
                # indexes (the statement shown), then paged from the newest threads.
                (
                    "in one run of 16 ('question 1 about a')",
                    "question 1 about a",
                    "SELECT count(*) FROM (SELECT id FROM agent_thread t WHERE t.user_id = %(u)s"
                    f" {search} LIMIT 1001) c",
                ),
                ("without a match", "no-such-words", threads_sql.format(where=search)),
            )
        ),
        {
            "name": f"threads: page after a cursor {threads // 2:,} threads deep",
            "path": "/api/v1/agent/threads",
            "params": {"cursor": thread_cursor.encode()},
            "sql": threads_sql.format(where=after_thread),
            "sql_params": {"u": user_id, "at": thread_cursor.at, "id": thread_cursor.id},
        },
    ]


def main() -> None:
    """Generate, serve, measure, print a JSON report."""
    import argparse
    import json
    import tempfile
    from pathlib import Path

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    logs = Path(tempfile.mkdtemp(prefix="bench-history-"))
    server = start_postgres()
    cluster = Cluster(logs)
    report: dict[str, Any] = {"machine": machine(), "logs": str(logs)}
    try:
        env = new_database(server, "bench_history", base_environment())
        url = env["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
        headers = make_users(env, 1)[0]
        import jwt

        user_id = jwt.decode(
            headers["Authorization"].removeprefix("Bearer "), options={"verify_signature": False}
        )["sub"]
        report["data"] = {"runs": args.runs, "threads": args.threads} | generate(
            url, user_id, args.runs, args.threads
        )
        base = cluster.api(env | {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}, timeout=300)
        report["load_before"] = load()
        results = []
        for case in cases(url, user_id, args.runs, args.threads):
            entry: dict[str, Any] = {"case": case["name"]}
            if case["path"]:
                entry |= asyncio.run(
                    timed(base, headers, case["path"], case["params"], args.requests)
                )
            entry["explain"] = explain(url, case["sql"], case["sql_params"])
            results.append(entry)
        report["cases"] = results
        report["load_after"] = load()
        print(json.dumps(report, indent=2, default=str))
    finally:
        cluster.stop_all()
        server.stop()


if __name__ == "__main__":
    main()
