import { ChevronRightIcon, ListChecksIcon } from "lucide-react";
import type { PlanStep } from "@/client";
import { Collapsible, CollapsibleContent, CollapsibleTrigger } from "@/components/ui/collapsible";

/** The planner's plan: numbered steps (or its text when only that is stored), collapsible. */
export function PlanView({
  text,
  steps,
  defaultOpen = true,
}: {
  text: string;
  steps: PlanStep[];
  defaultOpen?: boolean;
}) {
  return (
    <Collapsible defaultOpen={defaultOpen} className="rounded-md border bg-background/60" data-testid="plan">
      <CollapsibleTrigger className="group flex w-full items-center gap-2 px-3 py-2 text-left text-sm font-medium outline-none focus-visible:ring-[3px] focus-visible:ring-ring/50">
        <ChevronRightIcon
          className="size-4 transition-transform group-data-[state=open]:rotate-90"
          aria-hidden
        />
        <ListChecksIcon className="size-4 text-muted-foreground" aria-hidden />
        Plan
        {steps.length ? (
          <span className="text-xs font-normal text-muted-foreground">
            ({steps.length} {steps.length === 1 ? "step" : "steps"})
          </span>
        ) : null}
      </CollapsibleTrigger>
      <CollapsibleContent className="border-t px-3 py-2 text-sm">
        {steps.length ? (
          <ol className="ml-5 list-decimal space-y-1">
            {steps.map((step, index) => (
              // Steps have no id; their order is their identity.
              // biome-ignore lint/suspicious/noArrayIndexKey: see above
              <li key={index}>
                {step.description}
                {step.tool ? (
                  <span className="ml-1 font-mono text-xs text-muted-foreground">({step.tool})</span>
                ) : null}
              </li>
            ))}
          </ol>
        ) : (
          <p className="whitespace-pre-wrap">{text}</p>
        )}
      </CollapsibleContent>
    </Collapsible>
  );
}
