import { RouterProvider } from "@tanstack/react-router";
import { useState } from "react";
import { paths } from "@/config/paths";
import { configureApiClient } from "@/lib/api-client";
import { createQueryClient } from "@/lib/query-client";
import { setSessionExpiredHandler } from "@/lib/session";
import { AppProvider } from "./provider";
import { createAppRouter } from "./router";

configureApiClient();

export function App() {
  const [{ queryClient, router }] = useState(() => {
    const queryClient = createQueryClient();
    const router = createAppRouter(queryClient);
    setSessionExpiredHandler(() => {
      queryClient.clear();
      const here = router.state.location.href;
      void router.navigate({
        to: paths.login,
        search: { expired: true, redirect: here.startsWith(paths.login) ? undefined : here },
      });
    });
    return { queryClient, router };
  });
  return (
    <AppProvider queryClient={queryClient}>
      <RouterProvider router={router} />
    </AppProvider>
  );
}
