import { createFileRoute, redirect } from "@tanstack/react-router";
import { PlusIcon } from "lucide-react";
import { useState } from "react";
import { z } from "zod";
import { PageHeader } from "@/components/page-header";
import { Button } from "@/components/ui/button";
import { UserFormDialog } from "@/features/users/components/user-form-dialog";
import { UsersTable } from "@/features/users/components/users-table";
import { currentUserQueryOptions, useCurrentUser } from "@/lib/auth";

export const Route = createFileRoute("/_layout/admin")({
  validateSearch: z.object({ page: z.number().int().min(1).catch(1).default(1) }),
  beforeLoad: async ({ context }) => {
    const user = await context.queryClient.ensureQueryData(currentUserQueryOptions());
    if (!user.is_superuser) throw redirect({ to: "/" });
  },
  component: AdminPage,
});

function AdminPage() {
  const { page } = Route.useSearch();
  const navigate = Route.useNavigate();
  const { data: me } = useCurrentUser();
  const [adding, setAdding] = useState(false);
  return (
    <div>
      <PageHeader
        title="Users"
        description="Manage user accounts and permissions."
        actions={
          <Button onClick={() => setAdding(true)}>
            <PlusIcon /> Add user
          </Button>
        }
      />
      <UsersTable
        page={page}
        onPageChange={(next) => navigate({ search: { page: next } })}
        currentUserId={me?.id ?? ""}
      />
      <UserFormDialog open={adding} onOpenChange={setAdding} />
    </div>
  );
}
