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
import { useResetPassword } from "../api/reset-password";
import { resetPasswordSchema } from "../schemas";

type Values = z.infer<typeof resetPasswordSchema>;

export function ResetPasswordForm({ token, onSuccess }: { token: string; onSuccess: () => void }) {
  const reset = useResetPassword();
  const form = useForm<Values>({
    resolver: zodResolver(resetPasswordSchema),
    defaultValues: { new_password: "", confirm_password: "" },
  });
  const { errors, isSubmitting } = form.formState;

  if (!token) {
    return (
      <Alert variant="destructive">
        <AlertDescription>
          This link has no reset token.{" "}
          <Link to={paths.recoverPassword} className="underline">
            Ask for a new one
          </Link>
          .
        </AlertDescription>
      </Alert>
    );
  }

  const onSubmit = form.handleSubmit(async ({ new_password }) => {
    try {
      await reset.mutateAsync({ token, new_password });
      onSuccess();
    } catch {
      // Shown below.
    }
  });

  return (
    <form onSubmit={onSubmit} className="grid gap-4" noValidate>
      {reset.error ? (
        <Alert variant="destructive">
          <AlertDescription>{errorMessage(reset.error)}</AlertDescription>
        </Alert>
      ) : null}
      <FormField id="new_password" label="New password" error={errors.new_password?.message}>
        {(field) => (
          <Input {...field} type="password" autoComplete="new-password" {...form.register("new_password")} />
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
        {isSubmitting ? "Saving…" : "Reset password"}
      </Button>
    </form>
  );
}
