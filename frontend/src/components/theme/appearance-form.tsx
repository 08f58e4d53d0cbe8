import { Label } from "@/components/ui/label";
import { cn } from "@/lib/utils";
import { type Theme, useTheme } from "./theme-provider";

const OPTIONS: { value: Theme; label: string }[] = [
  { value: "light", label: "Light" },
  { value: "dark", label: "Dark" },
  { value: "system", label: "System" },
];

/** Choose light, dark or the system's theme (a native radio group: arrow keys work). */
export function AppearanceForm() {
  const { theme, setTheme } = useTheme();
  return (
    <fieldset className="grid gap-3">
      <legend className="pb-2 text-sm font-medium">Theme</legend>
      <div className="flex flex-wrap gap-3">
        {OPTIONS.map((option) => (
          <Label
            key={option.value}
            htmlFor={`theme-${option.value}`}
            className={cn(
              "cursor-pointer rounded-md border px-4 py-2 has-[:checked]:border-primary has-[:checked]:bg-accent has-[:focus-visible]:ring-[3px] has-[:focus-visible]:ring-ring/50",
            )}
          >
            <input
              id={`theme-${option.value}`}
              type="radio"
              name="theme"
              value={option.value}
              checked={theme === option.value}
              onChange={() => setTheme(option.value)}
              className="sr-only"
            />
            {option.label}
          </Label>
        ))}
      </div>
    </fieldset>
  );
}
