import { zodResolver } from "@hookform/resolvers/zod";
import { Link } from "@tanstack/react-router";
import { useForm } from "react-hook-form";
import { z } from "zod";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { FormField } from "@/components/ui/form-field";
import { Input } from "@/components/ui/input";
import { paths } from "@/config/paths";
import { errorMessage } from "@/lib/api-error";
import { useRecoverPassword } from "../api/recover-password";
import { emailSchema } from "../schemas";

const schema = z.object({ email: emailSchema });
type Values = z.infer<typeof schema>;

export function RecoverPasswordForm() {
  const recover = useRecoverPassword();
  const form = useForm<Values>({ resolver: zodResolver(schema), defaultValues: { email: "" } });
  const { errors, isSubmitting } = form.formState;

  const onSubmit = form.handleSubmit(async ({ email }) => {
    try {
      await recover.mutateAsync(email);
    } catch {
      // Shown below.
    }
  });

  return (
    <form onSubmit={onSubmit} className="grid gap-4" noValidate>
      {recover.isSuccess ? (
        <Alert>
          <AlertDescription>{recover.data.message}</AlertDescription>
        </Alert>
      ) : null}
      {recover.error ? (
        <Alert variant="destructive">
          <AlertDescription>{errorMessage(recover.error)}</AlertDescription>
        </Alert>
      ) : null}
      <FormField id="email" label="Email" error={errors.email?.message}>
        {(field) => <Input {...field} type="email" autoComplete="email" {...form.register("email")} />}
      </FormField>
      <Button type="submit" disabled={isSubmitting}>
        {isSubmitting ? "Sending…" : "Send recovery email"}
      </Button>
      <p className="text-center text-sm">
        <Link to={paths.login} className="underline underline-offset-4">
          Back to log in
        </Link>
      </p>
    </form>
  );
}
