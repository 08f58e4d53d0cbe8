import { z } from "zod";

const password = z.string().min(8, "Password must be at least 8 characters").max(128);

export const userFormSchema = z
  .object({
    email: z.email("Enter a valid email address").max(255),
    full_name: z.string().max(255),
    password: z.union([password, z.literal("")]),
    confirm_password: z.string(),
    is_superuser: z.boolean(),
    is_active: z.boolean(),
  })
  .refine((values) => values.password === values.confirm_password, {
    message: "Passwords don't match",
    path: ["confirm_password"],
  });

export type UserFormValues = z.infer<typeof userFormSchema>;

export const profileSchema = z.object({
  full_name: z.string().max(255),
  email: z.email("Enter a valid email address").max(255),
});

export const passwordSchema = z
  .object({
    current_password: z.string().min(8, "Password must be at least 8 characters"),
    new_password: password,
    confirm_password: z.string(),
  })
  .refine((values) => values.new_password === values.confirm_password, {
    message: "Passwords don't match",
    path: ["confirm_password"],
  });
