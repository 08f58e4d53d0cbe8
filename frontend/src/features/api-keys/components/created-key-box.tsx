import { CopyIcon, KeyRoundIcon } from "lucide-react";
import { toast } from "sonner";
import type { ApiKeyCreated } from "@/client";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";

/** The key just created, shown this once, with a copy button. */
export function CreatedKeyBox({ apiKey, onDone }: { apiKey: ApiKeyCreated; onDone: () => void }) {
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(apiKey.key);
      toast.success("API key copied");
    } catch {
      toast.error("Couldn't copy: select the key and copy it yourself");
    }
  };
  return (
    <section
      aria-label="New API key"
      className="grid gap-3 rounded-lg border border-success/40 bg-success/5 p-4"
    >
      <div className="flex items-center gap-2 font-medium">
        <KeyRoundIcon className="size-4" aria-hidden />
        <span>Your new key "{apiKey.name}"</span>
      </div>
      <p className="text-sm">
        <strong>Copy it now: you won't be able to see it again.</strong> Only a hash is stored. Send it in the{" "}
        <code className="font-mono">X-Api-Key</code> header.
      </p>
      <div className="flex gap-2">
        <Input
          readOnly
          value={apiKey.key}
          aria-label="Your new API key"
          className="font-mono"
          onFocus={(event) => event.currentTarget.select()}
        />
        <Button type="button" variant="outline" onClick={copy}>
          <CopyIcon aria-hidden />
          Copy
        </Button>
      </div>
      <div>
        <Button type="button" variant="secondary" onClick={onDone}>
          I've saved it
        </Button>
      </div>
    </section>
  );
}
