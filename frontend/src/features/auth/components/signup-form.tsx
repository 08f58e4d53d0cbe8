import { zodResolver } from "@hookform/resolvers/zod";
import { Link } from "@tanstack/react-router";
import { useForm } from "react-hook-form";
import type { z } from "zod";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { FormField } from "@/components/ui/form-field";
import { Input } from "@/components/ui/input";
import { paths } from "@/config/paths";
import { errorMessage } from "@/lib/api-error";
import { useLogin } from "../api/login";
import { useSignup } from "../api/signup";
import { signupSchema } from "../schemas";

type Values = z.infer<typeof signupSchema>;

/** Create an account, then log straight in. */
export function SignupForm({ onSuccess }: { onSuccess: () => void }) {
  const signup = useSignup();
  const login = useLogin();
  const form = useForm<Values>({
    resolver: zodResolver(signupSchema),
    defaultValues: { full_name: "", email: "", password: "", confirm_password: "" },
  });
  const { errors, isSubmitting } = form.formState;
  const error = signup.error ?? login.error;

  const onSubmit = form.handleSubmit(async ({ full_name, email, password }) => {
    try {
      await signup.mutateAsync({ email, password, full_name: full_name || null });
      await login.mutateAsync({ email, password });
      onSuccess();
    } catch {
      // Shown below.
    }
  });

  return (
    <form onSubmit={onSubmit} className="grid gap-4" noValidate>
      {error ? (
        <Alert variant="destructive">
          <AlertDescription>{errorMessage(error)}</AlertDescription>
        </Alert>
      ) : null}
      <FormField id="full_name" label="Full name" error={errors.full_name?.message}>
        {(field) => <Input {...field} autoComplete="name" {...form.register("full_name")} />}
      </FormField>
      <FormField id="email" label="Email" error={errors.email?.message}>
        {(field) => <Input {...field} type="email" autoComplete="email" {...form.register("email")} />}
      </FormField>
      <FormField id="password" label="Password" error={errors.password?.message}>
        {(field) => (
          <Input {...field} type="password" autoComplete="new-password" {...form.register("password")} />
        )}
      </FormField>
      <FormField id="confirm_password" label="Confirm password" error={errors.confirm_password?.message}>
        {(field) => (
          <Input
            {...field}
            type="password"
            autoComplete="new-password"
            {...form.register("confirm_password")}
          />
        )}
      </FormField>
      <Button type="submit" disabled={isSubmitting}>
        {isSubmitting ? "Creating account…" : "Sign up"}
      </Button>
      <p className="text-center text-sm text-muted-foreground">
        Already have an account?{" "}
        <Link to={paths.login} className="text-foreground underline underline-offset-4">
          Log in
        </Link>
      </p>
    </form>
  );
}
