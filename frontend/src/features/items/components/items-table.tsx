import { PackageIcon, PencilIcon, Trash2Icon } from "lucide-react";
import { useState } from "react";
import { toast } from "sonner";
import type { ItemPublic } from "@/client";
import { ConfirmDeleteDialog } from "@/components/confirm-delete-dialog";
import { PaginationControls } from "@/components/pagination-controls";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Skeleton } from "@/components/ui/skeleton";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { errorMessage } from "@/lib/api-error";
import { useDeleteItem } from "../api/delete-item";
import { ITEMS_PAGE_SIZE, useItems } from "../api/get-items";
import { ItemFormDialog } from "./item-form-dialog";

/** Your items, a page at a time, with edit and delete per row. */
export function ItemsTable({ page, onPageChange }: { page: number; onPageChange: (page: number) => void }) {
  const items = useItems(page);
  const deleteItem = useDeleteItem();
  const [editing, setEditing] = useState<ItemPublic | null>(null);
  const [deleting, setDeleting] = useState<ItemPublic | null>(null);

  if (items.isPending) return <Skeleton className="h-48 w-full" />;
  if (items.isError) {
    return (
      <Alert variant="destructive">
        <AlertDescription>{errorMessage(items.error)}</AlertDescription>
      </Alert>
    );
  }
  if (items.data.count === 0) {
    return (
      <div className="flex flex-col items-center gap-2 rounded-lg border border-dashed p-10 text-center">
        <PackageIcon className="size-8 text-muted-foreground" aria-hidden />
        <p className="font-medium">No items yet</p>
        <p className="text-sm text-muted-foreground">Add an item to get started.</p>
      </div>
    );
  }

  return (
    <div className="grid gap-2">
      <Table>
        <TableHeader>
          <TableRow>
            <TableHead>Title</TableHead>
            <TableHead>Description</TableHead>
            <TableHead className="hidden md:table-cell">ID</TableHead>
            <TableHead className="w-24">
              <span className="sr-only">Actions</span>
            </TableHead>
          </TableRow>
        </TableHeader>
        <TableBody>
          {items.data.data.map((item) => (
            <TableRow key={item.id}>
              <TableCell className="font-medium">{item.title}</TableCell>
              <TableCell className="max-w-xs truncate text-muted-foreground">
                {item.description || "—"}
              </TableCell>
              <TableCell className="hidden font-mono text-xs text-muted-foreground md:table-cell">
                {item.id}
              </TableCell>
              <TableCell>
                <div className="flex justify-end gap-1">
                  <Button
                    variant="ghost"
                    size="icon-sm"
                    aria-label={`Edit ${item.title}`}
                    onClick={() => setEditing(item)}
                  >
                    <PencilIcon />
                  </Button>
                  <Button
                    variant="ghost"
                    size="icon-sm"
                    aria-label={`Delete ${item.title}`}
                    onClick={() => setDeleting(item)}
                  >
                    <Trash2Icon />
                  </Button>
                </div>
              </TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      <PaginationControls
        page={page}
        pageSize={ITEMS_PAGE_SIZE}
        count={items.data.count}
        onPageChange={onPageChange}
        label="Items pages"
      />
      <ItemFormDialog
        open={editing !== null}
        onOpenChange={(open) => !open && setEditing(null)}
        item={editing ?? undefined}
      />
      <ConfirmDeleteDialog
        open={deleting !== null}
        onOpenChange={(open) => !open && setDeleting(null)}
        title="Delete item"
        description={`Delete "${deleting?.title ?? ""}"? This can't be undone.`}
        pending={deleteItem.isPending}
        onConfirm={() => {
          if (!deleting) return;
          deleteItem.mutate(deleting.id, {
            onSuccess: () => {
              toast.success("Item deleted");
              setDeleting(null);
            },
            onError: (err) => toast.error(errorMessage(err)),
          });
        }}
      />
    </div>
  );
}
