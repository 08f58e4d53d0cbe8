import type * as React from "react";
import { useEffect, useRef, useState } from "react";
import { cn } from "@/lib/utils";

/** Which way the container can still scroll sideways (both false: everything fits). */
function useSidewaysScroll(ref: React.RefObject<HTMLDivElement | null>) {
  const [more, setMore] = useState({ left: false, right: false });
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    const update = () => {
      const left = element.scrollLeft > 1;
      const right = element.scrollLeft + element.clientWidth < element.scrollWidth - 1;
      setMore((prev) => (prev.left === left && prev.right === right ? prev : { left, right }));
    };
    update();
    // (Absent in old browsers and jsdom: the hint then follows scrolling only.)
    const observer = typeof ResizeObserver === "undefined" ? null : new ResizeObserver(update);
    observer?.observe(element);
    if (element.firstElementChild) observer?.observe(element.firstElementChild);
    element.addEventListener("scroll", update, { passive: true });
    return () => {
      observer?.disconnect();
      element.removeEventListener("scroll", update);
    };
  }, [ref]);
  return more;
}

/** A table that scrolls sideways inside itself when it is wider than the screen, with a fade
 * on the side that has more columns and a line saying so. */
function Table({ className, ...props }: React.ComponentProps<"table">) {
  const ref = useRef<HTMLDivElement>(null);
  const more = useSidewaysScroll(ref);
  const scrolls = more.left || more.right;
  return (
    <div className="min-w-0 max-w-full">
      <div className="relative min-w-0">
        <div
          ref={ref}
          data-slot="table-container"
          // Focusable when it scrolls, so keyboard users can scroll it too.
          tabIndex={scrolls ? 0 : undefined}
          // relative: absolutely placed cells (sr-only labels) are clipped with the rest.
          className="relative w-full overflow-x-auto outline-none focus-visible:ring-[3px] focus-visible:ring-ring/50"
        >
          <table data-slot="table" className={cn("w-full caption-bottom text-sm", className)} {...props} />
        </div>
        <div
          aria-hidden
          className={cn(
            "pointer-events-none absolute inset-y-0 left-0 w-6 bg-gradient-to-r from-background to-transparent transition-opacity",
            more.left ? "opacity-100" : "opacity-0",
          )}
        />
        <div
          aria-hidden
          className={cn(
            "pointer-events-none absolute inset-y-0 right-0 w-8 bg-gradient-to-l from-background to-transparent transition-opacity",
            more.right ? "opacity-100" : "opacity-0",
          )}
        />
      </div>
      {scrolls ? (
        <p className="pt-1 text-right text-xs text-muted-foreground" data-testid="table-scroll-hint">
          {more.right ? "Scroll sideways for more columns →" : "← Scroll back for more columns"}
        </p>
      ) : null}
    </div>
  );
}

function TableHeader({ className, ...props }: React.ComponentProps<"thead">) {
  return <thead data-slot="table-header" className={cn("[&_tr]:border-b", className)} {...props} />;
}

function TableBody({ className, ...props }: React.ComponentProps<"tbody">) {
  return <tbody data-slot="table-body" className={cn("[&_tr:last-child]:border-0", className)} {...props} />;
}

function TableRow({ className, ...props }: React.ComponentProps<"tr">) {
  return (
    <tr
      data-slot="table-row"
      className={cn("border-b transition-colors hover:bg-muted/50 data-[state=selected]:bg-muted", className)}
      {...props}
    />
  );
}

function TableHead({ className, ...props }: React.ComponentProps<"th">) {
  return (
    <th
      data-slot="table-head"
      className={cn(
        "h-10 whitespace-nowrap px-2 text-left align-middle font-medium text-foreground",
        className,
      )}
      {...props}
    />
  );
}

function TableCell({ className, ...props }: React.ComponentProps<"td">) {
  return <td data-slot="table-cell" className={cn("p-2 align-middle", className)} {...props} />;
}

function TableCaption({ className, ...props }: React.ComponentProps<"caption">) {
  return (
    <caption
      data-slot="table-caption"
      className={cn("mt-4 text-sm text-muted-foreground", className)}
      {...props}
    />
  );
}

export { Table, TableBody, TableCaption, TableCell, TableHead, TableHeader, TableRow };
