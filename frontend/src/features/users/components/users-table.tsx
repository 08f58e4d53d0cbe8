import { MoreHorizontalIcon, PencilIcon, Trash2Icon } from "lucide-react";
import { useState } from "react";
import { toast } from "sonner";
import type { UserPublic } from "@/client";
import { ConfirmDeleteDialog } from "@/components/confirm-delete-dialog";
import { PaginationControls } from "@/components/pagination-controls";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import {
  DropdownMenu,
  DropdownMenuContent,
  DropdownMenuItem,
  DropdownMenuTrigger,
} from "@/components/ui/dropdown-menu";
import { Skeleton } from "@/components/ui/skeleton";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { errorMessage } from "@/lib/api-error";
import { useDeleteUser } from "../api/delete-user";
import { USERS_PAGE_SIZE, useUsers } from "../api/get-users";
import { UserFormDialog } from "./user-form-dialog";

type UsersTableProps = {
  page: number;
  onPageChange: (page: number) => void;
  currentUserId: string;
};

/** All users, a page at a time, with edit and delete per row. */
export function UsersTable({ page, onPageChange, currentUserId }: UsersTableProps) {
  const users = useUsers(page);
  const deleteUser = useDeleteUser();
  const [editing, setEditing] = useState<UserPublic | null>(null);
  const [deleting, setDeleting] = useState<UserPublic | null>(null);

  if (users.isPending) return <Skeleton className="h-48 w-full" />;
  if (users.isError) {
    return (
      <Alert variant="destructive">
        <AlertDescription>{errorMessage(users.error)}</AlertDescription>
      </Alert>
    );
  }

  return (
    <div className="grid gap-2">
      <Table>
        <TableHeader>
          <TableRow>
            <TableHead>Full name</TableHead>
            <TableHead>Email</TableHead>
            <TableHead>Role</TableHead>
            <TableHead>Status</TableHead>
            <TableHead className="w-12">
              <span className="sr-only">Actions</span>
            </TableHead>
          </TableRow>
        </TableHeader>
        <TableBody>
          {users.data.data.map((user) => (
            <TableRow key={user.id}>
              <TableCell className="font-medium">
                {user.full_name || <span className="text-muted-foreground">—</span>}
                {user.id === currentUserId ? (
                  <Badge variant="outline" className="ml-2">
                    You
                  </Badge>
                ) : null}
              </TableCell>
              <TableCell>{user.email}</TableCell>
              <TableCell>{user.is_superuser ? "Superuser" : "User"}</TableCell>
              <TableCell>
                <Badge variant={user.is_active ? "success" : "secondary"}>
                  {user.is_active ? "Active" : "Inactive"}
                </Badge>
              </TableCell>
              <TableCell>
                <DropdownMenu>
                  <DropdownMenuTrigger asChild>
                    <Button variant="ghost" size="icon-sm" aria-label={`Actions for ${user.email}`}>
                      <MoreHorizontalIcon />
                    </Button>
                  </DropdownMenuTrigger>
                  <DropdownMenuContent align="end">
                    <DropdownMenuItem onSelect={() => setEditing(user)}>
                      <PencilIcon /> Edit
                    </DropdownMenuItem>
                    <DropdownMenuItem
                      variant="destructive"
                      disabled={user.id === currentUserId}
                      onSelect={() => setDeleting(user)}
                    >
                      <Trash2Icon /> Delete
                    </DropdownMenuItem>
                  </DropdownMenuContent>
                </DropdownMenu>
              </TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      <PaginationControls
        page={page}
        pageSize={USERS_PAGE_SIZE}
        count={users.data.count}
        onPageChange={onPageChange}
        label="Users pages"
      />
      <UserFormDialog
        open={editing !== null}
        onOpenChange={(open) => !open && setEditing(null)}
        user={editing ?? undefined}
      />
      <ConfirmDeleteDialog
        open={deleting !== null}
        onOpenChange={(open) => !open && setDeleting(null)}
        title="Delete user"
        description={`Delete ${deleting?.email ?? "this user"} and all their items? This can't be undone.`}
        pending={deleteUser.isPending}
        onConfirm={() => {
          if (!deleting) return;
          deleteUser.mutate(deleting.id, {
            onSuccess: () => {
              toast.success("User deleted");
              setDeleting(null);
            },
            onError: (err) => toast.error(errorMessage(err)),
          });
        }}
      />
    </div>
  );
}
