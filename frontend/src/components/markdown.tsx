import { ImageOffIcon } from "lucide-react";
import { type ComponentProps, useRef } from "react";
import ReactMarkdown, { type Components } from "react-markdown";
import rehypeHighlight from "rehype-highlight";
import remarkGfm from "remark-gfm";
import { cn } from "@/lib/utils";
import { CopyButton } from "./copy-button";
import { imageUrl, isImageAllowed, useImageOrigins } from "./image-policy";

/** An image from an allowed origin, or a link naming the host (nothing loads without a click). */
function MarkdownImage({ src, alt }: { src?: string; alt?: string }) {
  const allowed = useImageOrigins();
  const url = imageUrl(src);
  if (url && isImageAllowed(url, allowed)) {
    return <img src={url.href} alt={alt ?? ""} loading="lazy" referrerPolicy="no-referrer" />;
  }
  const label = `Image from ${url ? url.host : "an unsupported source"} not loaded${alt ? `: ${alt}` : ""}`;
  if (!url) {
    return (
      <span data-testid="blocked-image" className="text-muted-foreground italic">
        [{label}]
      </span>
    );
  }
  return (
    <a
      href={url.href}
      target="_blank"
      rel="noopener noreferrer nofollow"
      data-testid="blocked-image"
      title={`Open ${url.href} in a new tab`}
      className="inline-flex items-center gap-1 rounded border border-dashed px-1.5 py-0.5 text-xs text-muted-foreground"
    >
      <ImageOffIcon className="size-3.5" aria-hidden />
      {label} (open)
    </a>
  );
}

/** A code block with a button that copies its text. */
function CodeBlock({ className, ...props }: ComponentProps<"pre">) {
  const ref = useRef<HTMLPreElement>(null);
  return (
    <div className="group/code relative min-w-0" data-testid="code-block">
      <pre
        ref={ref}
        // A long line scrolls inside the block (focusable, so keyboards can scroll it too); the
        // chat's grid column is minmax(0, 1fr), so the block never widens the answer or the page.
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be focusable
        tabIndex={0}
        className={cn(
          "max-w-full overflow-x-auto rounded-md border bg-muted/60 p-3 pr-10 text-[13px]",
          className,
        )}
        {...props}
      />
      <CopyButton
        text={() => ref.current?.textContent ?? ""}
        label="Copy code"
        className="absolute top-1.5 right-1.5 bg-background/80"
      />
    </div>
  );
}

// Model output is untrusted: react-markdown renders no raw HTML, links open in a new tab without
// handing the opener over, and images load only from allowed origins (others become a link that
// shows the host). Highlighting grammars ship inside highlight.js (no fetches).
const components: Components = {
  a: ({ node: _node, ...props }) => <a {...props} target="_blank" rel="noopener noreferrer nofollow" />,
  img: ({ node: _node, src, alt }) => (
    <MarkdownImage src={typeof src === "string" ? src : undefined} alt={alt} />
  ),
  pre: ({ node: _node, ...props }) => <CodeBlock {...props} />,
  code: ({ node: _node, className, ...props }) => (
    <code className={cn("rounded bg-muted/60 px-1 py-0.5 font-mono text-[0.9em]", className)} {...props} />
  ),
  table: ({ node: _node, ...props }) => (
    <div className="overflow-x-auto">
      <table {...props} />
    </div>
  ),
};

/** Render model or user text as GitHub-flavoured markdown with highlighted code blocks. */
export function Markdown({ children, className }: { children: string; className?: string }) {
  return (
    <div
      className={cn(
        "prose-chat grid min-w-0 grid-cols-[minmax(0,1fr)] gap-3 break-words text-sm leading-relaxed [&_li]:ml-5 [&_ol]:list-decimal [&_ul]:list-disc [&_a]:underline [&_a]:underline-offset-2 [&_h1]:text-lg [&_h1]:font-semibold [&_h2]:font-semibold [&_h3]:font-semibold [&_pre_code]:bg-transparent [&_pre_code]:p-0 [&_table]:w-full [&_td]:border [&_td]:px-2 [&_td]:py-1 [&_th]:border [&_th]:px-2 [&_th]:py-1 [&_blockquote]:border-l-2 [&_blockquote]:pl-3 [&_blockquote]:text-muted-foreground",
        className,
      )}
    >
      <ReactMarkdown
        remarkPlugins={[remarkGfm]}
        rehypePlugins={[[rehypeHighlight, { detect: false }]]}
        components={components}
      >
        {children}
      </ReactMarkdown>
    </div>
  );
}
