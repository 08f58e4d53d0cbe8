import { ChevronLeftIcon, ChevronRightIcon } from "lucide-react";
import { Button } from "@/components/ui/button";

type BranchSwitcherProps = {
  /** Index of the version shown (0-based). */
  current: number;
  total: number;
  go: (index: number) => void;
  disabled?: boolean;
};

/** ‹ 2/3 ›: move between the versions of a message (its edits and regenerations). */
export function BranchSwitcher({ current, total, go, disabled }: BranchSwitcherProps) {
  return (
    <nav
      aria-label="Message versions"
      className="flex items-center text-xs text-muted-foreground"
      data-testid="branch-switcher"
    >
      <Button
        type="button"
        variant="ghost"
        size="icon"
        className="size-7"
        aria-label="Previous version"
        disabled={disabled || current <= 0}
        onClick={() => go(current - 1)}
      >
        <ChevronLeftIcon />
      </Button>
      <span className="tabular-nums" data-testid="branch-position">
        {current + 1}/{total}
      </span>
      <Button
        type="button"
        variant="ghost"
        size="icon"
        className="size-7"
        aria-label="Next version"
        disabled={disabled || current >= total - 1}
        onClick={() => go(current + 1)}
      >
        <ChevronRightIcon />
      </Button>
    </nav>
  );
}
