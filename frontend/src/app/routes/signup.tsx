import { createFileRoute, redirect, useNavigate } from "@tanstack/react-router";
import { AuthLayout } from "@/features/auth/components/auth-layout";
import { SignupForm } from "@/features/auth/components/signup-form";
import { isLoggedIn } from "@/lib/auth-token";

export const Route = createFileRoute("/signup")({
  beforeLoad: () => {
    if (isLoggedIn()) throw redirect({ to: "/" });
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
