import { createFileRoute, notFound } from "@tanstack/react-router";
import { z } from "zod";
import type { RunStatus } from "@/client";
import { PageHeader } from "@/components/page-header";
import { env } from "@/config/env";
import { RUN_STATUSES, RunFiltersBar } from "@/features/runs/components/run-filters";
import { RunsTable } from "@/features/runs/components/runs-table";
import { useThreads } from "@/features/threads/api/get-threads";

export const Route = createFileRoute("/_layout/runs/")({
  validateSearch: z.object({
    page: z.number().int().min(1).catch(1).default(1),
    status: z
      .enum(RUN_STATUSES as [RunStatus, ...RunStatus[]])
      .optional()
      .catch(undefined),
    thread: z.uuid().optional().catch(undefined),
  }),
  beforeLoad: () => {
    if (!env.enableAgent) throw notFound();
  },
  component: RunsPage,
});

function RunsPage() {
  const { page, status, thread } = Route.useSearch();
  const navigate = Route.useNavigate();
  const threads = useThreads();
  const threadOptions = threads.threads.map((t) => ({
    id: t.thread_id,
    title: t.title || "Untitled",
  }));
  return (
    <div>
      <PageHeader
        title="Run history"
        description="Every agent run: what was asked, how it went, what it cost."
      />
      <RunFiltersBar
        status={status}
        thread={thread}
        threads={threadOptions}
        onChange={(filters) => navigate({ search: { page: 1, ...filters } })}
      />
      <RunsTable
        filters={{ page, status, thread }}
        onPageChange={(next) => navigate({ search: (prev) => ({ ...prev, page: next }) })}
      />
    </div>
  );
}
