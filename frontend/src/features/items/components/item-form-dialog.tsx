import { zodResolver } from "@hookform/resolvers/zod";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { toast } from "sonner";
import { z } from "zod";
import type { ItemPublic } from "@/client";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
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
import { errorMessage } from "@/lib/api-error";
import { useCreateItem } from "../api/create-item";
import { useUpdateItem } from "../api/update-item";

const schema = z.object({
  title: z.string().trim().min(1, "Title is required").max(255),
  description: z.string().max(255),
});
type Values = z.infer<typeof schema>;

type ItemFormDialogProps = {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  item?: ItemPublic;
};

/** Create an item, or edit one when `item` is given. */
export function ItemFormDialog({ open, onOpenChange, item }: ItemFormDialogProps) {
  return (
    <Dialog open={open} onOpenChange={onOpenChange}>
      <DialogContent>
        <DialogHeader>
          <DialogTitle>{item ? "Edit item" : "Add item"}</DialogTitle>
          <DialogDescription>{item ? "Change the item's details." : "Create a new item."}</DialogDescription>
        </DialogHeader>
        {open ? <ItemForm item={item} onDone={() => onOpenChange(false)} /> : null}
      </DialogContent>
    </Dialog>
  );
}

function ItemForm({ item, onDone }: { item?: ItemPublic; onDone: () => void }) {
  const create = useCreateItem();
  const update = useUpdateItem();
  const [error, setError] = useState<string | null>(null);
  const form = useForm<Values>({
    resolver: zodResolver(schema),
    defaultValues: { title: item?.title ?? "", description: item?.description ?? "" },
  });
  const { errors, isSubmitting } = form.formState;

  const onSubmit = form.handleSubmit(async ({ title, description }) => {
    setError(null);
    const body = { title, description: description || null };
    try {
      if (item) {
        await update.mutateAsync({ id: item.id, body });
        toast.success("Item updated");
      } else {
        await create.mutateAsync(body);
        toast.success("Item created");
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
      <FormField id="item-title" label="Title" error={errors.title?.message}>
        {(field) => <Input {...field} {...form.register("title")} />}
      </FormField>
      <FormField id="item-description" label="Description" error={errors.description?.message}>
        {(field) => <Input {...field} {...form.register("description")} />}
      </FormField>
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
