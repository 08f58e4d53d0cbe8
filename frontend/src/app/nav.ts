import {
  BotIcon,
  FlaskConicalIcon,
  HistoryIcon,
  HomeIcon,
  PackageIcon,
  SettingsIcon,
  UsersIcon,
} from "lucide-react";
import type { NavItem } from "@/components/layout/app-shell";
import { paths } from "@/config/paths";

/** The sidebar's links for a user; agent pages only when the agent is enabled (VITE_ENABLE_AGENT). */
export function buildNav({
  isSuperuser,
  enableAgent,
}: {
  isSuperuser: boolean;
  enableAgent: boolean;
}): NavItem[] {
  return [
    { to: paths.home, label: "Dashboard", icon: HomeIcon },
    { to: paths.items, label: "Items", icon: PackageIcon },
    ...(enableAgent
      ? [
          { to: paths.chat, label: "Agent chat", icon: BotIcon },
          { to: paths.runs, label: "Run history", icon: HistoryIcon },
        ]
      : []),
    ...(enableAgent && isSuperuser
      ? [{ to: paths.evaluations, label: "Evaluations", icon: FlaskConicalIcon }]
      : []),
    ...(isSuperuser ? [{ to: paths.admin, label: "Admin", icon: UsersIcon }] : []),
    { to: paths.settings, label: "User settings", icon: SettingsIcon },
  ];
}
