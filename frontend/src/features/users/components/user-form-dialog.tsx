import { zodResolver } from "@hookform/resolvers/zod";
import { useState } from "react";
import { Controller, useForm } from "react-hook-form";
import { toast } from "sonner";
import type { UserPublic } from "@/client";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Checkbox } from "@/components/ui/checkbox";
import {
  Dialog,
  DialogContent,
  DialogDescription,
  DialogFooter,
  DialogHeader,
  DialogTitle,
} from "@/components/ui/dialog";
import { FormField } from "@/components/ui/form-field";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { errorMessage } from "@/lib/api-error";
import { useCreateUser } from "../api/create-user";
import { useUpdateUser } from "../api/update-user";
import { type UserFormValues, userFormSchema } from "../schemas";

type UserFormDialogProps = {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  /** Edit this user; create a new one when absent. */
  user?: UserPublic;
};

/** Create or edit a user (superuser only). */
export function UserFormDialog({ open, onOpenChange, user }: UserFormDialogProps) {
  return (
    <Dialog open={open} onOpenChange={onOpenChange}>
      <DialogContent>
        <DialogHeader>
          <DialogTitle>{user ? "Edit user" : "Add user"}</DialogTitle>
          <DialogDescription>
            {user
              ? "Change the account's details. Leave the password empty to keep it."
              : "Create an account."}
          </DialogDescription>
        </DialogHeader>
        {open ? <UserForm user={user} onDone={() => onOpenChange(false)} /> : null}
      </DialogContent>
    </Dialog>
  );
}

function UserForm({ user, onDone }: { user?: UserPublic; onDone: () => void }) {
  const create = useCreateUser();
  const update = useUpdateUser();
  const [error, setError] = useState<string | null>(null);
  const form = useForm<UserFormValues>({
    resolver: zodResolver(userFormSchema),
    defaultValues: {
      email: user?.email ?? "",
      full_name: user?.full_name ?? "",
      password: "",
      confirm_password: "",
      is_superuser: user?.is_superuser ?? false,
      is_active: user?.is_active ?? true,
    },
  });
  const { errors, isSubmitting } = form.formState;

  const onSubmit = form.handleSubmit(async ({ confirm_password: _, password, full_name, ...rest }) => {
    setError(null);
    if (!user && !password) {
      form.setError("password", { message: "Password is required" });
      return;
    }
    try {
      const body = { ...rest, full_name: full_name || null };
      if (user) {
        await update.mutateAsync({ id: user.id, body: password ? { ...body, password } : body });
        toast.success("User updated");
      } else {
        await create.mutateAsync({ ...body, password });
        toast.success("User created");
      }
      onDone();
    } catch (err) {
      setError(errorMessage(err));
    }
  });

  return (
    <form onSubmit={onSubmit} className="grid gap-4" noValidate>
      {error ? (
        <Alert variant="destructive">
          <AlertDescription>{error}</AlertDescription>
        </Alert>
      ) : null}
      <FormField id="user-email" label="Email" error={errors.email?.message}>
        {(field) => <Input {...field} type="email" {...form.register("email")} />}
      </FormField>
      <FormField id="user-full-name" label="Full name" error={errors.full_name?.message}>
        {(field) => <Input {...field} {...form.register("full_name")} />}
      </FormField>
      <FormField
        id="user-password"
        label={user ? "New password" : "Password"}
        error={errors.password?.message}
      >
        {(field) => (
          <Input {...field} type="password" autoComplete="new-password" {...form.register("password")} />
        )}
      </FormField>
      <FormField id="user-confirm-password" label="Confirm password" error={errors.confirm_password?.message}>
        {(field) => (
          <Input
            {...field}
            type="password"
            autoComplete="new-password"
            {...form.register("confirm_password")}
          />
        )}
      </FormField>
      <div className="flex flex-wrap gap-6">
        <Controller
          control={form.control}
          name="is_superuser"
          render={({ field }) => (
            <div className="flex items-center gap-2">
              <Checkbox
                id="user-is-superuser"
                checked={field.value}
                onCheckedChange={(checked) => field.onChange(checked === true)}
              />
              <Label htmlFor="user-is-superuser">Superuser</Label>
            </div>
          )}
        />
        <Controller
          control={form.control}
          name="is_active"
          render={({ field }) => (
            <div className="flex items-center gap-2">
              <Checkbox
                id="user-is-active"
                checked={field.value}
                onCheckedChange={(checked) => field.onChange(checked === true)}
              />
              <Label htmlFor="user-is-active">Active</Label>
            </div>
          )}
        />
      </div>
      <DialogFooter>
        <Button type="button" variant="outline" onClick={onDone}>
          Cancel
        </Button>
        <Button type="submit" disabled={isSubmitting}>
          {isSubmitting ? "Saving…" : "Save"}
        </Button>
      </DialogFooter>
    </form>
  );
}
