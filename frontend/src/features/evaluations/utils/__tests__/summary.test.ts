import { describe, expect, it } from "vitest";
import { formatCost, formatPercent, parseSummary } from "../summary";

const metric = {
  success_count: 4,
  failure_count: 1,
  avg_score: 0.72,
  pass_rate: 0.75,
  threshold: 0.5,
  higher_is_better: true,
  min_pass_rate: 0.8,
};

describe("parseSummary", () => {
  it("computes each metric's gate against its minimum pass rate", () => {
    const summary = parseSummary({
      judge_label: "offline heuristic judge",
      metrics_summary: {
        relevancy: metric,
        conciseness: { ...metric, pass_rate: 0.9 },
        toxicity: { ...metric, success_count: 0, pass_rate: null },
      },
      judge_usage: { calls: 10, input_tokens: 100, output_tokens: 20, cost_usd: 0.0123, cost_known: true },
    });
    expect(summary?.metrics.map((m) => [m.name, m.gatePassed])).toEqual([
      ["conciseness", true],
      ["relevancy", false],
      ["toxicity", null],
    ]);
    expect(formatCost(summary?.judge_usage)).toBe("$0.0123");
  });

  it("returns null for a summary of another shape", () => {
    expect(parseSummary({ unexpected: true })).toBeNull();
    expect(parseSummary(null)).toBeNull();
  });

  it("formats unknown cost and missing rates", () => {
    expect(formatCost({ cost_usd: 0.5, cost_known: false })).toBe("≥ $0.5000 (some prices unknown)");
    expect(formatCost(undefined)).toBe("unknown");
    expect(formatPercent(null)).toBe("—");
    expect(formatPercent(0.756)).toBe("75.6%");
  });
});
