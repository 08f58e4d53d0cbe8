import { createFileRoute, Link } from "@tanstack/react-router";
import { BotIcon, PackageIcon } from "lucide-react";
import { PageHeader } from "@/components/page-header";
import { Card, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { env } from "@/config/env";
import { paths } from "@/config/paths";
import { useCurrentUser } from "@/lib/auth";

export const Route = createFileRoute("/_layout/")({
  component: Dashboard,
});

/** An account this young is new here: it gets a welcome, not a welcome back. */
const NEW_ACCOUNT_MS = 24 * 60 * 60 * 1000;

function Dashboard() {
  const { data: user } = useCurrentUser();
  const created = user?.created_at ? Date.parse(user.created_at) : Number.NaN;
  const returning = Number.isFinite(created) && Date.now() - created > NEW_ACCOUNT_MS;
  return (
    <div className="grid gap-6">
      <PageHeader
        title={`Hi, ${user?.full_name || user?.email} 👋`}
        description={
          returning
            ? "Welcome back, nice to see you again!"
            : "Welcome! Add some items, or ask the agent about them."
        }
      />
      <div className="grid gap-4 sm:grid-cols-2">
        <Link
          to={paths.items}
          className="rounded-xl outline-none focus-visible:ring-[3px] focus-visible:ring-ring/50"
        >
          <Card className="h-full transition-colors hover:bg-accent/50">
            <CardHeader>
              <CardTitle className="flex items-center gap-2">
                <PackageIcon className="size-4" aria-hidden /> Items
              </CardTitle>
              <CardDescription>Create and manage your items.</CardDescription>
            </CardHeader>
          </Card>
        </Link>
        {env.enableAgent ? (
          <Link
            to={paths.chat}
            className="rounded-xl outline-none focus-visible:ring-[3px] focus-visible:ring-ring/50"
          >
            <Card className="h-full transition-colors hover:bg-accent/50">
              <CardHeader>
                <CardTitle className="flex items-center gap-2">
                  <BotIcon className="size-4" aria-hidden /> Agent chat
                </CardTitle>
                <CardDescription>Ask the agent about your items and account.</CardDescription>
              </CardHeader>
            </Card>
          </Link>
        ) : null}
      </div>
    </div>
  );
}
