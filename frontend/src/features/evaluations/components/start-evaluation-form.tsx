import { zodResolver } from "@hookform/resolvers/zod";
import { PlayIcon } from "lucide-react";
import { useState } from "react";
import { Controller, useForm } from "react-hook-form";
import { toast } from "sonner";
import { z } from "zod";
import type { EvaluationJobPublic } from "@/client";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Checkbox } from "@/components/ui/checkbox";
import { FormField } from "@/components/ui/form-field";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { NativeSelect } from "@/components/ui/native-select";
import { errorMessage } from "@/lib/api-error";
import { useStartEvaluation } from "../api/start-evaluation";

const schema = z.object({
  hours: z.coerce
    .number<string>()
    .positive("Must be more than 0")
    .max(24 * 366),
  limit: z.union([z.literal(""), z.coerce.number<string>().int().min(1, "At least 1")]),
  metrics: z.string().regex(/^[\w\s,-]*$/, "Comma-separated metric names"),
  judge: z.enum(["auto", "llm", "offline"]),
  source: z.enum(["auto", "langfuse", "db"]),
  rescore: z.boolean(),
});
type Values = z.input<typeof schema>;
type Parsed = z.output<typeof schema>;

/** Start an LLM-as-judge evaluation job over recent runs. */
export function StartEvaluationForm({ onStarted }: { onStarted: (job: EvaluationJobPublic) => void }) {
  const start = useStartEvaluation();
  const [error, setError] = useState<string | null>(null);
  const form = useForm<Values, unknown, Parsed>({
    resolver: zodResolver(schema),
    defaultValues: { hours: "24", limit: "", metrics: "", judge: "auto", source: "auto", rescore: false },
  });
  const { errors, isSubmitting } = form.formState;

  const onSubmit = form.handleSubmit(async (values) => {
    setError(null);
    try {
      const job = await start.mutateAsync({
        hours: values.hours,
        limit: values.limit === "" ? null : values.limit,
        metrics: values.metrics
          .split(",")
          .map((m) => m.trim())
          .filter(Boolean),
        judge: values.judge,
        source: values.source,
        rescore: values.rescore,
      });
      toast.success("Evaluation started");
      onStarted(job);
    } catch (err) {
      setError(errorMessage(err));
    }
  });

  return (
    <form onSubmit={onSubmit} className="grid gap-4" noValidate aria-label="Start an evaluation">
      {error ? (
        <Alert variant="destructive">
          <AlertDescription>{error}</AlertDescription>
        </Alert>
      ) : null}
      <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
        <FormField id="eval-hours" label="Window (hours)" error={errors.hours?.message}>
          {(field) => <Input {...field} inputMode="decimal" {...form.register("hours")} />}
        </FormField>
        <FormField
          id="eval-limit"
          label="Max runs"
          error={errors.limit?.message}
          description="Empty: no limit"
        >
          {(field) => <Input {...field} inputMode="numeric" {...form.register("limit")} />}
        </FormField>
        <FormField
          id="eval-metrics"
          label="Metrics"
          error={errors.metrics?.message}
          description="Empty: all metrics"
        >
          {(field) => <Input {...field} placeholder="relevancy, helpfulness" {...form.register("metrics")} />}
        </FormField>
        <FormField id="eval-judge" label="Judge">
          {(field) => (
            <NativeSelect {...field} {...form.register("judge")}>
              <option value="auto">auto (LLM when configured)</option>
              <option value="llm">LLM judge</option>
              <option value="offline">offline heuristic judge</option>
            </NativeSelect>
          )}
        </FormField>
        <FormField id="eval-source" label="Runs from">
          {(field) => (
            <NativeSelect {...field} {...form.register("source")}>
              <option value="auto">auto</option>
              <option value="langfuse">Langfuse traces</option>
              <option value="db">the database</option>
            </NativeSelect>
          )}
        </FormField>
        <Controller
          control={form.control}
          name="rescore"
          render={({ field }) => (
            <div className="flex items-center gap-2 self-end pb-2">
              <Checkbox
                id="eval-rescore"
                checked={field.value}
                onCheckedChange={(checked) => field.onChange(checked === true)}
              />
              <Label htmlFor="eval-rescore">Re-score runs already evaluated</Label>
            </div>
          )}
        />
      </div>
      <div>
        <Button type="submit" disabled={isSubmitting}>
          <PlayIcon /> {isSubmitting ? "Starting…" : "Start evaluation"}
        </Button>
      </div>
    </form>
  );
}
