import { type QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { ImageOriginsProvider } from "@/components/image-policy";
import { ThemeProvider } from "@/components/theme/theme-provider";
import { Toaster } from "@/components/ui/sonner";
import { useClientConfig } from "@/lib/client-config";

const NO_ORIGINS: string[] = [];

/** Chat images load only from the origins the API allows (same origin until it answers). */
function ImagePolicy({ children }: { children: React.ReactNode }) {
  const { data } = useClientConfig();
  return (
    <ImageOriginsProvider origins={data?.chat_image_allowed_origins ?? NO_ORIGINS}>
      {children}
    </ImageOriginsProvider>
  );
}

/** Everything the app needs above the router: query cache, theme, image policy, toasts. */
export function AppProvider({
  queryClient,
  children,
}: {
  queryClient: QueryClient;
  children: React.ReactNode;
}) {
  return (
    <QueryClientProvider client={queryClient}>
      <ThemeProvider>
        <ImagePolicy>{children}</ImagePolicy>
        {/* Below the header (3.5rem): over it, toasts covered its buttons. */}
        <Toaster position="top-right" offset={{ top: "4.25rem" }} mobileOffset={{ top: "4.25rem" }} />
      </ThemeProvider>
    </QueryClientProvider>
  );
}
