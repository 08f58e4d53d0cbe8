import { Toaster as Sonner, type ToasterProps } from "sonner";
import { useTheme } from "@/components/theme/theme-provider";

// sonner's light rich colours read under 4.5:1 on their own backgrounds (axe-core: success 4.25,
// error and info ~4.4, warning ~3.1); these darker shades of the same hues are 5.7:1 or more.
const LIGHT_RICH_TEXT = {
  "--success-text": "hsl(140, 100%, 22%)",
  "--error-text": "hsl(360, 100%, 38%)",
  "--info-text": "hsl(210, 92%, 38%)",
  "--warning-text": "hsl(31, 92%, 30%)",
};

function Toaster(props: ToasterProps) {
  const { resolvedTheme } = useTheme();
  return (
    <Sonner
      theme={resolvedTheme}
      className="toaster group"
      richColors
      closeButton
      style={
        {
          "--normal-bg": "var(--popover)",
          "--normal-text": "var(--popover-foreground)",
          "--normal-border": "var(--border)",
          ...(resolvedTheme === "light" ? LIGHT_RICH_TEXT : {}),
        } as React.CSSProperties
      }
      {...props}
    />
  );
}

export { Toaster };
