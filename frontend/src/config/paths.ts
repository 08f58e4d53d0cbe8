/** Every route path in one place, so links and redirects never drift apart. */
export const paths = {
  home: "/",
  login: "/login",
  signup: "/signup",
  recoverPassword: "/recover-password",
  resetPassword: "/reset-password",
  items: "/items",
  settings: "/settings",
  admin: "/admin",
  chat: "/chat",
  runs: "/runs",
  evaluations: "/evaluations",
} as const;
