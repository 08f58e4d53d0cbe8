import { z } from "zod";

// The job summary is a free-form JSON object in the OpenAPI schema (the report's shape is
// versioned with the evaluator), so it is checked here before the page relies on it.
const metricSummary = z.object({
  success_count: z.number(),
  failure_count: z.number(),
  skipped_count: z.number().optional(),
  passed_count: z.number().optional(),
  avg_score: z.number(),
  pass_rate: z.number().nullable(),
  threshold: z.number(),
  higher_is_better: z.boolean(),
  min_pass_rate: z.number(),
  description: z.string().optional(),
});

const summarySchema = z.object({
  judge_label: z.string().optional(),
  model: z.string().nullable().optional(),
  source: z.string().optional(),
  total_traces: z.number().optional(),
  duration_seconds: z.number().optional(),
  metrics_summary: z.record(z.string(), metricSummary),
  judge_usage: z
    .object({
      calls: z.number(),
      input_tokens: z.number(),
      output_tokens: z.number(),
      cost_usd: z.number().nullable(),
      cost_known: z.boolean(),
    })
    .partial()
    .optional(),
});

export type MetricRow = z.infer<typeof metricSummary> & { name: string; gatePassed: boolean | null };
export type EvaluationSummary = Omit<z.infer<typeof summarySchema>, "metrics_summary"> & {
  metrics: MetricRow[];
};

/** The summary's metrics with a pass/fail against each metric's minimum pass rate (null: nothing judged). */
export function parseSummary(summary: unknown): EvaluationSummary | null {
  const parsed = summarySchema.safeParse(summary);
  if (!parsed.success) return null;
  const { metrics_summary, ...rest } = parsed.data;
  const metrics = Object.entries(metrics_summary)
    .map(([name, metric]) => ({
      ...metric,
      name,
      gatePassed: metric.pass_rate === null ? null : metric.pass_rate >= metric.min_pass_rate,
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
  return { ...rest, metrics };
}

export function formatPercent(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : `${(value * 100).toFixed(1)}%`;
}

export function formatCost(usage: EvaluationSummary["judge_usage"]): string {
  if (!usage || usage.cost_usd === null || usage.cost_usd === undefined) return "unknown";
  const cost = `$${usage.cost_usd.toFixed(4)}`;
  return usage.cost_known === false ? `≥ ${cost} (some prices unknown)` : cost;
}
