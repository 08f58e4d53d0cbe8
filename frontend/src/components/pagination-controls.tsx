import { ChevronLeftIcon, ChevronRightIcon } from "lucide-react";
import { Button } from "@/components/ui/button";

type PaginationControlsProps = {
  page: number;
  pageSize: number;
  count: number;
  /** The server estimated `count` (long lists): shown as "about n". */
  countIsEstimate?: boolean;
  /** Whether a next page exists, when the server says so (cursor pages); else from `count`. */
  hasNext?: boolean;
  onPageChange: (page: number) => void;
  label?: string;
};

/** Previous / next buttons with "x–y of n", for server-side `{data, count}` pages (1-based). */
export function PaginationControls({
  page,
  pageSize,
  count,
  countIsEstimate = false,
  hasNext,
  onPageChange,
  label = "Pagination",
}: PaginationControlsProps) {
  const pages = Math.max(1, Math.ceil(count / pageSize));
  const first = count === 0 ? 0 : (page - 1) * pageSize + 1;
  const last = countIsEstimate ? page * pageSize : Math.min(count, page * pageSize);
  const about = countIsEstimate ? "about " : "";
  return (
    <nav aria-label={label} className="flex items-center justify-between gap-2 pt-2 text-sm">
      <p className="text-muted-foreground" aria-live="polite">
        {first}–{last} of {about + count}
      </p>
      <div className="flex items-center gap-2">
        <Button
          variant="outline"
          size="sm"
          onClick={() => onPageChange(page - 1)}
          disabled={page <= 1}
          aria-label="Previous page"
        >
          <ChevronLeftIcon /> Previous
        </Button>
        <span className="tabular-nums">
          Page {page} of {about + pages}
        </span>
        <Button
          variant="outline"
          size="sm"
          onClick={() => onPageChange(page + 1)}
          disabled={hasNext === undefined ? page >= pages : !hasNext}
          aria-label="Next page"
        >
          Next <ChevronRightIcon />
        </Button>
      </div>
    </nav>
  );
}
