import { createFileRoute, redirect, useNavigate } from "@tanstack/react-router";
import { z } from "zod";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { AuthLayout } from "@/features/auth/components/auth-layout";
import { LoginForm } from "@/features/auth/components/login-form";
import { restoreSession } from "@/lib/refresh-session";
import { safeRedirect } from "@/lib/safe-redirect";
import { SESSION_EXPIRED_MESSAGE } from "@/lib/session";

const searchSchema = z.object({
  redirect: z.string().optional().catch(undefined),
  expired: z.boolean().optional().catch(undefined),
  reset: z.boolean().optional().catch(undefined),
});

export const Route = createFileRoute("/login")({
  validateSearch: searchSchema,
  beforeLoad: async ({ search }) => {
    if (await restoreSession()) throw redirect({ to: safeRedirect(search.redirect) });
  },
  component: LoginPage,
});

function LoginPage() {
  const { redirect: target, expired, reset } = Route.useSearch();
  const navigate = useNavigate();
  return (
    <AuthLayout title="Log in" description="Enter your email and password.">
      {expired ? (
        <Alert className="mb-4">
          <AlertDescription>{SESSION_EXPIRED_MESSAGE}</AlertDescription>
        </Alert>
      ) : null}
      {reset ? (
        <Alert className="mb-4">
          <AlertDescription>Your password was reset. Log in with the new one.</AlertDescription>
        </Alert>
      ) : null}
      <LoginForm onSuccess={() => navigate({ to: safeRedirect(target), replace: true })} />
    </AuthLayout>
  );
}
