import { Link } from "@tanstack/react-router";
import type { LucideIcon } from "lucide-react";
import { LogOutIcon, MenuIcon, UserIcon } from "lucide-react";
import { useState } from "react";
import { ModeToggle } from "@/components/theme/mode-toggle";
import { Button } from "@/components/ui/button";
import {
  DropdownMenu,
  DropdownMenuContent,
  DropdownMenuItem,
  DropdownMenuLabel,
  DropdownMenuSeparator,
  DropdownMenuTrigger,
} from "@/components/ui/dropdown-menu";
import { Sheet, SheetContent, SheetDescription, SheetTitle } from "@/components/ui/sheet";

export type NavItem = { to: string; label: string; icon: LucideIcon; badge?: React.ReactNode };

type AppShellProps = {
  nav: NavItem[];
  userLabel: string;
  userEmail: string;
  onLogout: () => void;
  settingsPath: string;
  children: React.ReactNode;
};

function NavLinks({ nav, onNavigate }: { nav: NavItem[]; onNavigate?: () => void }) {
  return (
    <nav aria-label="Main" className="grid gap-1 p-2">
      {nav.map((item) => (
        <Link
          key={item.to}
          to={item.to}
          onClick={onNavigate}
          activeOptions={{ exact: item.to === "/" }}
          className="flex items-center gap-3 rounded-md px-3 py-2 text-sm font-medium text-sidebar-foreground/80 outline-none hover:bg-sidebar-accent hover:text-sidebar-foreground focus-visible:ring-[3px] focus-visible:ring-ring/50 data-[status=active]:bg-sidebar-accent data-[status=active]:text-sidebar-foreground"
        >
          <item.icon className="size-4" aria-hidden />
          <span className="flex-1">{item.label}</span>
          {item.badge}
        </Link>
      ))}
    </nav>
  );
}

/** Sidebar (a drawer on phones), top bar with theme and user menu, page content. */
export function AppShell({ nav, userLabel, userEmail, onLogout, settingsPath, children }: AppShellProps) {
  const [drawerOpen, setDrawerOpen] = useState(false);
  return (
    <div className="flex min-h-dvh">
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:z-50 focus:rounded focus:bg-background focus:px-3 focus:py-2"
      >
        Skip to content
      </a>
      <aside className="sticky top-0 hidden h-dvh w-60 shrink-0 flex-col border-r border-sidebar-border bg-sidebar md:flex">
        <div className="flex h-14 items-center px-5 font-semibold tracking-tight">Agent Template</div>
        <NavLinks nav={nav} />
      </aside>
      <Sheet open={drawerOpen} onOpenChange={setDrawerOpen}>
        <SheetContent side="left" className="w-64 bg-sidebar p-0">
          <SheetTitle className="px-5 pt-4">Agent Template</SheetTitle>
          <SheetDescription className="sr-only">Main navigation</SheetDescription>
          <NavLinks nav={nav} onNavigate={() => setDrawerOpen(false)} />
        </SheetContent>
      </Sheet>
      <div className="flex min-w-0 flex-1 flex-col">
        <header className="sticky top-0 z-30 flex h-14 items-center gap-2 border-b bg-background/95 px-3 backdrop-blur md:px-6">
          <Button
            variant="ghost"
            size="icon"
            className="md:hidden"
            aria-label="Open navigation"
            onClick={() => setDrawerOpen(true)}
          >
            <MenuIcon />
          </Button>
          <div className="flex-1" />
          <ModeToggle />
          <DropdownMenu>
            <DropdownMenuTrigger asChild>
              <Button variant="ghost" size="icon" aria-label="User menu">
                <UserIcon />
              </Button>
            </DropdownMenuTrigger>
            <DropdownMenuContent align="end" className="w-56">
              <DropdownMenuLabel className="grid">
                <span className="truncate">{userLabel}</span>
                <span className="truncate text-xs font-normal text-muted-foreground">{userEmail}</span>
              </DropdownMenuLabel>
              <DropdownMenuSeparator />
              <DropdownMenuItem asChild>
                <Link to={settingsPath}>
                  <UserIcon /> Settings
                </Link>
              </DropdownMenuItem>
              <DropdownMenuItem onSelect={onLogout}>
                <LogOutIcon /> Log out
              </DropdownMenuItem>
            </DropdownMenuContent>
          </DropdownMenu>
        </header>
        <main id="main" className="flex min-w-0 flex-1 flex-col p-4 md:p-6">
          {children}
        </main>
      </div>
    </div>
  );
}
