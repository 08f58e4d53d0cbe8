import { Badge } from "@/components/ui/badge";

const VARIANTS: Record<string, "success" | "destructive" | "secondary" | "outline" | "default"> = {
  success: "success",
  error: "destructive",
  blocked: "destructive",
  cancelled: "secondary",
  interrupted: "secondary",
  running: "outline",
  streaming: "outline",
  awaiting_approval: "default",
};

const LABELS: Record<string, string> = {
  awaiting_approval: "awaiting approval",
  streaming: "running",
};

/** A run's status as a coloured badge. */
export function RunStatusBadge({ status }: { status: string }) {
  return <Badge variant={VARIANTS[status] ?? "outline"}>{LABELS[status] ?? status}</Badge>;
}
