import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import {
  createMemoryHistory,
  createRootRoute,
  createRoute,
  createRouter,
  Outlet,
  RouterProvider,
} from "@tanstack/react-router";
import { render } from "@testing-library/react";

/** Render a component inside a real (in-memory) router, so <Link> works. */
export async function renderWithRouter(ui: React.ReactNode) {
  const rootRoute = createRootRoute({ component: Outlet });
  const routes = ["/", "/runs/$runId", "/chat"].map((path) =>
    createRoute({ getParentRoute: () => rootRoute, path, component: () => <>{ui}</> }),
  );
  const router = createRouter({
    routeTree: rootRoute.addChildren(routes),
    history: createMemoryHistory({ initialEntries: ["/"] }),
  });
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const result = render(
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>,
  );
  await router.load();
  return { ...result, router };
}
