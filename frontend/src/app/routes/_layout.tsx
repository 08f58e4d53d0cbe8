import { createFileRoute, Outlet, redirect, useNavigate } from "@tanstack/react-router";
import { AppShell } from "@/components/layout/app-shell";
import { Badge } from "@/components/ui/badge";
import { env } from "@/config/env";
import { paths } from "@/config/paths";
import { usePendingApprovals } from "@/features/chat/api/get-pending-approvals";
import { useScoreRefresh } from "@/features/evaluations/hooks/use-score-refresh";
import { ApiError } from "@/lib/api-error";
import { currentUserQueryOptions, useCurrentUser, useLogout } from "@/lib/auth";
import { clearToken } from "@/lib/auth-token";
import { restoreSession } from "@/lib/refresh-session";
import { isSessionError } from "@/lib/session";
import { buildNav } from "../nav";

export const Route = createFileRoute("/_layout")({
  beforeLoad: async ({ context, location }) => {
    // After a reload the token is gone from memory: the refresh cookie brings a new one.
    if (!(await restoreSession())) {
      throw redirect({ to: paths.login, search: { redirect: location.href } });
    }
    try {
      await context.queryClient.ensureQueryData(currentUserQueryOptions());
    } catch (error) {
      const gone =
        error instanceof ApiError && (isSessionError(error.status, error.detail) || error.status === 404);
      if (!gone) throw error;
      clearToken();
      throw redirect({ to: paths.login, search: { expired: true, redirect: location.href } });
    }
  },
  component: Layout,
});

function Layout() {
  const { data: user } = useCurrentUser();
  const logout = useLogout();
  const navigate = useNavigate();
  const pending = usePendingApprovals(env.enableAgent && Boolean(user));
  useScoreRefresh();
  if (!user) return null;

  const pendingCount = pending.data?.count ?? 0;
  const nav = buildNav({ isSuperuser: user.is_superuser ?? false, enableAgent: env.enableAgent }).map(
    (item) =>
      item.to === paths.chat && pendingCount > 0
        ? {
            ...item,
            badge: (
              <Badge
                variant="destructive"
                aria-label={`${pendingCount} pending approvals`}
                data-testid="approvals-badge"
              >
                {pendingCount}
              </Badge>
            ),
          }
        : item,
  );

  return (
    <AppShell
      nav={nav}
      userLabel={user.full_name || user.email}
      userEmail={user.email}
      settingsPath={paths.settings}
      onLogout={async () => {
        await logout();
        void navigate({ to: paths.login });
      }}
    >
      <Outlet />
    </AppShell>
  );
}
