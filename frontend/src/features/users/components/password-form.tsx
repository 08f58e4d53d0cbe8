import { zodResolver } from "@hookform/resolvers/zod";
import { useForm } from "react-hook-form";
import { toast } from "sonner";
import type { z } from "zod";
import { Button } from "@/components/ui/button";
import { FormField } from "@/components/ui/form-field";
import { Input } from "@/components/ui/input";
import { errorMessage } from "@/lib/api-error";
import { useUpdatePassword } from "../api/update-password";
import { passwordSchema } from "../schemas";

type Values = z.infer<typeof passwordSchema>;

/** Change your own password. */
export function PasswordForm() {
  const updatePassword = useUpdatePassword();
  const form = useForm<Values>({
    resolver: zodResolver(passwordSchema),
    defaultValues: { current_password: "", new_password: "", confirm_password: "" },
  });
  const { errors, isSubmitting } = form.formState;

  const onSubmit = form.handleSubmit(async ({ current_password, new_password }) => {
    try {
      await updatePassword.mutateAsync({ current_password, new_password });
      toast.success("Password updated");
      form.reset();
    } catch (err) {
      toast.error(errorMessage(err));
    }
  });

  return (
    <form onSubmit={onSubmit} className="grid max-w-md gap-4" noValidate>
      <FormField id="current-password" label="Current password" error={errors.current_password?.message}>
        {(field) => (
          <Input
            {...field}
            type="password"
            autoComplete="current-password"
            {...form.register("current_password")}
          />
        )}
      </FormField>
      <FormField id="new-password" label="New password" error={errors.new_password?.message}>
        {(field) => (
          <Input {...field} type="password" autoComplete="new-password" {...form.register("new_password")} />
        )}
      </FormField>
      <FormField
        id="confirm-new-password"
        label="Confirm new password"
        error={errors.confirm_password?.message}
      >
        {(field) => (
          <Input
            {...field}
            type="password"
            autoComplete="new-password"
            {...form.register("confirm_password")}
          />
        )}
      </FormField>
      <div>
        <Button type="submit" disabled={isSubmitting}>
          {isSubmitting ? "Saving…" : "Update password"}
        </Button>
      </div>
    </form>
  );
}
