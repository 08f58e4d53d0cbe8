import { toast } from "sonner";
import { Button } from "@/components/ui/button";
import { errorMessage } from "@/lib/api-error";
import { useExportMe } from "../api/export-me";

/** Save a blob as a file through a temporary link (the API needs the bearer token, so a plain
 * `<a href>` can't fetch it). */
function saveBlob(blob: Blob, name: string) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Download everything the app holds about you as a zip of JSON files. */
export function ExportData() {
  const exportMe = useExportMe();
  return (
    <div className="grid max-w-md gap-3">
      <p className="text-sm text-muted-foreground">
        Your profile, items, conversations, runs, feedback and approvals, as JSON files in a zip.
      </p>
      <div>
        <Button
          variant="outline"
          disabled={exportMe.isPending}
          onClick={() =>
            exportMe.mutate(undefined, {
              onSuccess: (blob) => saveBlob(blob, "my-data.zip"),
              onError: (err) => toast.error(errorMessage(err)),
            })
          }
        >
          {exportMe.isPending ? "Preparing…" : "Download my data"}
        </Button>
      </div>
    </div>
  );
}
