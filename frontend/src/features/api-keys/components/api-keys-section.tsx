import { KeyRoundIcon } from "lucide-react";
import { useState } from "react";
import { toast } from "sonner";
import type { ApiKeyCreated, ApiKeyPublic } from "@/client";
import { ConfirmDeleteDialog } from "@/components/confirm-delete-dialog";
import { PaginationControls } from "@/components/pagination-controls";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Skeleton } from "@/components/ui/skeleton";
import { errorMessage } from "@/lib/api-error";
import { useCreateApiKey } from "../api/create-api-key";
import { API_KEYS_PAGE_SIZE, useApiKeys } from "../api/get-api-keys";
import { useRevokeApiKey } from "../api/revoke-api-key";
import { ApiKeysTable } from "./api-keys-table";
import { CreateApiKeyForm } from "./create-api-key-form";
import { CreatedKeyBox } from "./created-key-box";

/** Create, list and revoke your personal API keys. */
export function ApiKeysSection() {
  const [page, setPage] = useState(1);
  const [created, setCreated] = useState<ApiKeyCreated | null>(null);
  const [revoking, setRevoking] = useState<ApiKeyPublic | null>(null);
  const keys = useApiKeys(page);
  const create = useCreateApiKey();
  const revoke = useRevokeApiKey();

  return (
    <div className="grid gap-4">
      <p className="text-sm text-muted-foreground">
        Keys let programs such as agent-chat-ui or the LangGraph SDK call the agent API as you. Managing keys
        always needs you signed in.
      </p>
      <CreateApiKeyForm
        onSubmit={async (body) => {
          setCreated(await create.mutateAsync(body));
          setPage(1);
        }}
      />
      {created ? <CreatedKeyBox apiKey={created} onDone={() => setCreated(null)} /> : null}
      {keys.isPending ? (
        <Skeleton className="h-24 w-full" />
      ) : keys.isError ? (
        <Alert variant="destructive">
          <AlertDescription>{errorMessage(keys.error)}</AlertDescription>
        </Alert>
      ) : keys.data.count === 0 ? (
        <div className="flex flex-col items-center gap-2 rounded-lg border border-dashed p-6 text-center">
          <KeyRoundIcon className="size-6 text-muted-foreground" aria-hidden />
          <p className="text-sm text-muted-foreground">No API keys yet.</p>
        </div>
      ) : (
        <div className="grid gap-2">
          <ApiKeysTable keys={keys.data.data} onRevoke={setRevoking} />
          <PaginationControls
            page={page}
            pageSize={API_KEYS_PAGE_SIZE}
            count={keys.data.count}
            onPageChange={setPage}
            label="API key pages"
          />
        </div>
      )}
      <ConfirmDeleteDialog
        open={revoking !== null}
        onOpenChange={(open) => !open && setRevoking(null)}
        title="Revoke API key"
        description={`Revoke "${revoking?.name ?? ""}" (${revoking?.prefix ?? ""}…)? Programs using it stop working at once. This can't be undone.`}
        confirmLabel="Revoke"
        pending={revoke.isPending}
        onConfirm={() => {
          if (!revoking) return;
          revoke.mutate(revoking.id, {
            onSuccess: () => {
              toast.success("API key revoked");
              if (created?.id === revoking.id) setCreated(null);
              setRevoking(null);
            },
            onError: (err) => toast.error(errorMessage(err)),
          });
        }}
      />
    </div>
  );
}
