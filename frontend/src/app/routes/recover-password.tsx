import { createFileRoute } from "@tanstack/react-router";
import { AuthLayout } from "@/features/auth/components/auth-layout";
import { RecoverPasswordForm } from "@/features/auth/components/recover-password-form";

export const Route = createFileRoute("/recover-password")({
  component: () => (
    <AuthLayout title="Password recovery" description="We'll email you a link to reset your password.">
      <RecoverPasswordForm />
    </AuthLayout>
  ),
});
