import { zodResolver } from "@hookform/resolvers/zod";
import { useForm } from "react-hook-form";
import { toast } from "sonner";
import type { z } from "zod";
import type { UserPublic } from "@/client";
import { Button } from "@/components/ui/button";
import { FormField } from "@/components/ui/form-field";
import { Input } from "@/components/ui/input";
import { errorMessage } from "@/lib/api-error";
import { useUpdateMe } from "../api/update-me";
import { profileSchema } from "../schemas";

type Values = z.infer<typeof profileSchema>;

/** Change your own name and email. */
export function ProfileForm({ user }: { user: UserPublic }) {
  const updateMe = useUpdateMe();
  const form = useForm<Values>({
    resolver: zodResolver(profileSchema),
    values: { full_name: user.full_name ?? "", email: user.email },
  });
  const { errors, isSubmitting, isDirty } = form.formState;

  const onSubmit = form.handleSubmit(async ({ full_name, email }) => {
    try {
      await updateMe.mutateAsync({ full_name: full_name || null, email });
      toast.success("Profile updated");
    } catch (err) {
      toast.error(errorMessage(err));
    }
  });

  return (
    <form onSubmit={onSubmit} className="grid max-w-md gap-4" noValidate>
      <FormField id="profile-full-name" label="Full name" error={errors.full_name?.message}>
        {(field) => <Input {...field} autoComplete="name" {...form.register("full_name")} />}
      </FormField>
      <FormField id="profile-email" label="Email" error={errors.email?.message}>
        {(field) => <Input {...field} type="email" autoComplete="email" {...form.register("email")} />}
      </FormField>
      <div>
        <Button type="submit" disabled={isSubmitting || !isDirty}>
          {isSubmitting ? "Saving…" : "Save profile"}
        </Button>
      </div>
    </form>
  );
}
