import { zodResolver } from "@hookform/resolvers/zod";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { z } from "zod";
import type { ApiKeyCreate } from "@/client";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { FormField } from "@/components/ui/form-field";
import { Input } from "@/components/ui/input";
import { NativeSelect } from "@/components/ui/native-select";
import { errorMessage } from "@/lib/api-error";

export const EXPIRY_CHOICES = [
  { value: "7", label: "7 days" },
  { value: "30", label: "30 days" },
  { value: "90", label: "90 days" },
  { value: "365", label: "1 year" },
  { value: "never", label: "No expiry" },
] as const;

const schema = z.object({
  name: z.string().trim().min(1, "Name is required").max(100, "At most 100 characters"),
  expiry: z.enum(EXPIRY_CHOICES.map((choice) => choice.value)),
});
type Values = z.infer<typeof schema>;

/** Name a new key and pick when it expires; `onSubmit` creates it (a rejection is shown). */
export function CreateApiKeyForm({ onSubmit }: { onSubmit: (body: ApiKeyCreate) => Promise<unknown> }) {
  const [error, setError] = useState<string | null>(null);
  const form = useForm<Values>({ resolver: zodResolver(schema), defaultValues: { name: "", expiry: "30" } });
  const { errors, isSubmitting } = form.formState;

  const submit = form.handleSubmit(async ({ name, expiry }) => {
    setError(null);
    try {
      await onSubmit({ name, expires_in_days: expiry === "never" ? null : Number(expiry) });
      form.reset();
    } catch (err) {
      setError(errorMessage(err));
    }
  });

  return (
    <form onSubmit={submit} className="grid gap-4 sm:grid-cols-[1fr_10rem_auto] sm:items-start" noValidate>
      {error ? (
        <Alert variant="destructive" className="sm:col-span-3">
          <AlertDescription>{error}</AlertDescription>
        </Alert>
      ) : null}
      <FormField id="api-key-name" label="Key name" error={errors.name?.message}>
        {(field) => (
          <Input {...field} placeholder="e.g. agent-chat-ui on my laptop" {...form.register("name")} />
        )}
      </FormField>
      <FormField id="api-key-expiry" label="Expires after">
        {(field) => (
          <NativeSelect {...field} {...form.register("expiry")}>
            {EXPIRY_CHOICES.map((choice) => (
              <option key={choice.value} value={choice.value}>
                {choice.label}
              </option>
            ))}
          </NativeSelect>
        )}
      </FormField>
      <Button type="submit" disabled={isSubmitting} className="sm:mt-[1.375rem]">
        {isSubmitting ? "Creating…" : "Create key"}
      </Button>
    </form>
  );
}
