import { createFileRoute, redirect, useNavigate } from "@tanstack/react-router";
import { AuthLayout } from "@/features/auth/components/auth-layout";
import { SignupForm } from "@/features/auth/components/signup-form";
import { restoreSession } from "@/lib/refresh-session";

export const Route = createFileRoute("/signup")({
  beforeLoad: async () => {
    if (await restoreSession()) throw redirect({ to: "/" });
  },
  component: SignupPage,
});

function SignupPage() {
  const navigate = useNavigate();
  return (
    <AuthLayout title="Sign up" description="Create an account.">
      <SignupForm onSuccess={() => navigate({ to: "/", replace: true })} />
    </AuthLayout>
  );
}
