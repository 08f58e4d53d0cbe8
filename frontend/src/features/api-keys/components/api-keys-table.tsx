import type { ApiKeyPublic } from "@/client";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { type ApiKeyStatus, formatDay, keyStatus } from "../utils/key-status";

const STATUS_BADGE: Record<ApiKeyStatus, { label: string; variant: "success" | "secondary" | "outline" }> = {
  active: { label: "Active", variant: "success" },
  expired: { label: "Expired", variant: "outline" },
  revoked: { label: "Revoked", variant: "secondary" },
};

/** Your keys: name, the first characters, dates, status, and Revoke for the live ones. */
export function ApiKeysTable({
  keys,
  onRevoke,
  now = new Date(),
}: {
  keys: ApiKeyPublic[];
  onRevoke: (key: ApiKeyPublic) => void;
  now?: Date;
}) {
  return (
    <Table>
      <TableHeader>
        <TableRow>
          <TableHead>Name</TableHead>
          <TableHead>Key</TableHead>
          <TableHead className="hidden sm:table-cell">Created</TableHead>
          <TableHead>Expires</TableHead>
          <TableHead className="hidden sm:table-cell">Last used</TableHead>
          <TableHead>Status</TableHead>
          <TableHead className="w-20">
            <span className="sr-only">Actions</span>
          </TableHead>
        </TableRow>
      </TableHeader>
      <TableBody>
        {keys.map((key) => {
          const status = keyStatus(key, now);
          const badge = STATUS_BADGE[status];
          return (
            <TableRow key={key.id}>
              <TableCell className="max-w-40 truncate font-medium">{key.name}</TableCell>
              <TableCell className="font-mono text-xs text-muted-foreground">{key.prefix}…</TableCell>
              <TableCell className="hidden sm:table-cell">{formatDay(key.created_at)}</TableCell>
              <TableCell>{formatDay(key.expires_at)}</TableCell>
              <TableCell className="hidden sm:table-cell">{formatDay(key.last_used_at)}</TableCell>
              <TableCell>
                <Badge variant={badge.variant}>{badge.label}</Badge>
              </TableCell>
              <TableCell>
                {status === "active" ? (
                  <Button
                    variant="outline"
                    size="sm"
                    aria-label={`Revoke ${key.name}`}
                    onClick={() => onRevoke(key)}
                  >
                    Revoke
                  </Button>
                ) : null}
              </TableCell>
            </TableRow>
          );
        })}
      </TableBody>
    </Table>
  );
}
