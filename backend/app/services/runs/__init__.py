"""The run layer: prepare, queue, execute, record, stream, cancel and approve agent runs.

One concern per module:
- `errors`    domain errors (mapped to HTTP in one place, `app.api.errors`)
- `runtime`   the per-process object that owns the queue, event log, cancel bus and leases
- `threads`   threads as records: ownership, titles, messages, deletion with checkpoints
- `prepare`   check the thread and budgets, record the run `pending`, queue it
- `queue`     the job queue (taskiq): in memory without Redis, Redis Streams with it
- `worker`    execute one queued run: claim it, hold its lease, run the graph, record it
- `events`    the per-run event log that any replica can read (Redis Streams or memory)
- `streams`   replay + live tail of a run's events; waiting for a run's result
- `recorder`  run-log writes and results built from them
- `leases`    heartbeats for runs in flight, and the sweep of lapsed leases and stuck queues
- `cancel`    cancel a run wherever it executes (Redis pub/sub or this process)
- `approvals` human decisions on paused tool calls
"""
