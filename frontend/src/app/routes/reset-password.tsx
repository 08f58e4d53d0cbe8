import { createFileRoute, useNavigate } from "@tanstack/react-router";
import { z } from "zod";
import { AuthLayout } from "@/features/auth/components/auth-layout";
import { ResetPasswordForm } from "@/features/auth/components/reset-password-form";

export const Route = createFileRoute("/reset-password")({
  validateSearch: z.object({ token: z.string().catch("") }),
  component: ResetPasswordPage,
});

function ResetPasswordPage() {
  const { token } = Route.useSearch();
  const navigate = useNavigate();
  return (
    <AuthLayout title="Reset password" description="Choose a new password.">
      <ResetPasswordForm
        token={token}
        onSuccess={() => navigate({ to: "/login", search: { reset: true } })}
      />
    </AuthLayout>
  );
}
