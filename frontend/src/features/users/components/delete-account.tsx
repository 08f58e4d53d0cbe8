import { useState } from "react";
import { toast } from "sonner";
import { ConfirmDeleteDialog } from "@/components/confirm-delete-dialog";
import { Button } from "@/components/ui/button";
import { errorMessage } from "@/lib/api-error";
import { useDeleteMe } from "../api/delete-me";

/** Delete your own account (superusers can't; the API says so). */
export function DeleteAccount({ onDeleted }: { onDeleted: () => void }) {
  const deleteMe = useDeleteMe();
  const [open, setOpen] = useState(false);
  return (
    <div className="grid max-w-md gap-3">
      <p className="text-sm text-muted-foreground">Permanently delete your account and everything it owns.</p>
      <div>
        <Button variant="destructive" onClick={() => setOpen(true)}>
          Delete account
        </Button>
      </div>
      <ConfirmDeleteDialog
        open={open}
        onOpenChange={setOpen}
        title="Delete your account"
        description="Your account, items and agent history will be deleted. This can't be undone."
        pending={deleteMe.isPending}
        onConfirm={() =>
          deleteMe.mutate(undefined, {
            onSuccess: () => {
              setOpen(false);
              toast.success("Account deleted");
              onDeleted();
            },
            onError: (err) => {
              setOpen(false);
              toast.error(errorMessage(err));
            },
          })
        }
      />
    </div>
  );
}
