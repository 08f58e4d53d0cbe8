import { XIcon } from "lucide-react";
import type { RunStatus } from "@/client";
import { Button } from "@/components/ui/button";
import { Label } from "@/components/ui/label";
import { NativeSelect } from "@/components/ui/native-select";
import type { ThreadOption } from "./runs-table";

export const RUN_STATUSES: RunStatus[] = [
  "running",
  "success",
  "error",
  "cancelled",
  "interrupted",
  "awaiting_approval",
];

type RunFiltersProps = {
  status?: RunStatus;
  thread?: string;
  threads: ThreadOption[];
  onChange: (filters: { status?: RunStatus; thread?: string }) => void;
};

/** Status and conversation filters (applied by the server). */
export function RunFiltersBar({ status, thread, threads, onChange }: RunFiltersProps) {
  return (
    <div className="flex flex-wrap items-end gap-3 pb-3">
      <div className="grid w-44 gap-1.5">
        <Label htmlFor="filter-status">Status</Label>
        <NativeSelect
          id="filter-status"
          value={status ?? ""}
          onChange={(event) =>
            onChange({ status: (event.target.value || undefined) as RunStatus | undefined, thread })
          }
        >
          <option value="">All statuses</option>
          {RUN_STATUSES.map((value) => (
            <option key={value} value={value}>
              {value.replace("_", " ")}
            </option>
          ))}
        </NativeSelect>
      </div>
      <div className="grid w-64 max-w-full gap-1.5">
        <Label htmlFor="filter-thread">Conversation</Label>
        <NativeSelect
          id="filter-thread"
          value={thread ?? ""}
          onChange={(event) => onChange({ status, thread: event.target.value || undefined })}
        >
          <option value="">All conversations</option>
          {thread && !threads.some((t) => t.id === thread) ? <option value={thread}>{thread}</option> : null}
          {threads.map((t) => (
            <option key={t.id} value={t.id}>
              {t.title}
            </option>
          ))}
        </NativeSelect>
      </div>
      {status || thread ? (
        <Button variant="ghost" onClick={() => onChange({})}>
          <XIcon /> Clear filters
        </Button>
      ) : null}
    </div>
  );
}
