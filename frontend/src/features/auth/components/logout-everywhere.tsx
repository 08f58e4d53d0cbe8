import { toast } from "sonner";
import { Button } from "@/components/ui/button";
import { errorMessage } from "@/lib/api-error";
import { useLogoutAll } from "../api/logout-all";

/** End every session of the account (other browsers and devices too), then this one. */
export function LogoutEverywhere({ onLoggedOut }: { onLoggedOut: () => void }) {
  const logoutAll = useLogoutAll();
  return (
    <div className="grid max-w-md gap-3">
      <p className="text-sm text-muted-foreground">
        Lost a device or logged in somewhere you shouldn't have? End every session of this account.
      </p>
      <div>
        <Button
          variant="outline"
          disabled={logoutAll.isPending}
          onClick={() =>
            logoutAll.mutate(undefined, {
              onSuccess: onLoggedOut,
              onError: (err) => toast.error(errorMessage(err)),
            })
          }
        >
          Log out everywhere
        </Button>
      </div>
    </div>
  );
}
