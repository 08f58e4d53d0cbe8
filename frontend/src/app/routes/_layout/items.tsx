import { createFileRoute } from "@tanstack/react-router";
import { PlusIcon } from "lucide-react";
import { useState } from "react";
import { z } from "zod";
import { PageHeader } from "@/components/page-header";
import { Button } from "@/components/ui/button";
import { ItemFormDialog } from "@/features/items/components/item-form-dialog";
import { ItemsTable } from "@/features/items/components/items-table";

export const Route = createFileRoute("/_layout/items")({
  validateSearch: z.object({ page: z.number().int().min(1).catch(1).default(1) }),
  component: ItemsPage,
});

function ItemsPage() {
  const { page } = Route.useSearch();
  const navigate = Route.useNavigate();
  const [adding, setAdding] = useState(false);
  return (
    <div>
      <PageHeader
        title="Items"
        description="Create, edit and delete your items."
        actions={
          <Button onClick={() => setAdding(true)}>
            <PlusIcon /> Add item
          </Button>
        }
      />
      <ItemsTable page={page} onPageChange={(next) => navigate({ search: { page: next } })} />
      <ItemFormDialog open={adding} onOpenChange={setAdding} />
    </div>
  );
}
