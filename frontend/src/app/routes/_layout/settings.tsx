import { useQueryClient } from "@tanstack/react-query";
import { createFileRoute, useNavigate } from "@tanstack/react-router";
import { PageHeader } from "@/components/page-header";
import { AppearanceForm } from "@/components/theme/appearance-form";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { ApiKeysSection } from "@/features/api-keys/components/api-keys-section";
import { LogoutEverywhere } from "@/features/auth/components/logout-everywhere";
import { DeleteAccount } from "@/features/users/components/delete-account";
import { ExportData } from "@/features/users/components/export-data";
import { PasswordForm } from "@/features/users/components/password-form";
import { ProfileForm } from "@/features/users/components/profile-form";
import { useCurrentUser, useLogout } from "@/lib/auth";
import { clearToken } from "@/lib/auth-token";

export const Route = createFileRoute("/_layout/settings")({
  component: SettingsPage,
});

function SettingsPage() {
  const { data: user } = useCurrentUser();
  const logout = useLogout();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  if (!user) return null;
  return (
    <div className="grid max-w-3xl gap-6">
      <PageHeader
        title="User settings"
        description="Your profile, password, sessions, API keys, appearance and data."
      />
      <Card>
        <CardHeader>
          <CardTitle>
            <h2>Profile</h2>
          </CardTitle>
          <CardDescription>How you appear and the email you log in with.</CardDescription>
        </CardHeader>
        <CardContent>
          <ProfileForm user={user} />
        </CardContent>
      </Card>
      <Card>
        <CardHeader>
          <CardTitle>
            <h2>Password</h2>
          </CardTitle>
        </CardHeader>
        <CardContent>
          <PasswordForm />
        </CardContent>
      </Card>
      <Card>
        <CardHeader>
          <CardTitle>
            <h2>Sessions</h2>
          </CardTitle>
        </CardHeader>
        <CardContent>
          <LogoutEverywhere
            onLoggedOut={() => {
              clearToken();
              queryClient.clear();
              void navigate({ to: "/login" });
            }}
          />
        </CardContent>
      </Card>
      <Card>
        <CardHeader>
          <CardTitle>
            <h2>API keys</h2>
          </CardTitle>
          <CardDescription>
            Personal keys for programs that call the API as you (the <code>X-Api-Key</code> header).
          </CardDescription>
        </CardHeader>
        <CardContent>
          <ApiKeysSection />
        </CardContent>
      </Card>
      <Card>
        <CardHeader>
          <CardTitle>
            <h2>Appearance</h2>
          </CardTitle>
          <CardDescription>Light, dark, or follow your system.</CardDescription>
        </CardHeader>
        <CardContent>
          <AppearanceForm />
        </CardContent>
      </Card>
      <Card>
        <CardHeader>
          <CardTitle>
            <h2>Your data</h2>
          </CardTitle>
        </CardHeader>
        <CardContent>
          <ExportData />
        </CardContent>
      </Card>
      {!user.is_superuser ? (
        <Card>
          <CardHeader>
            <CardTitle>
              <h2>Danger zone</h2>
            </CardTitle>
          </CardHeader>
          <CardContent>
            <DeleteAccount
              onDeleted={async () => {
                await logout();
                void navigate({ to: "/login" });
              }}
            />
          </CardContent>
        </Card>
      ) : null}
    </div>
  );
}
