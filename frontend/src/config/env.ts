/** Build-time settings (Vite `VITE_*` variables). */
export const env = {
  /** Base URL of the API; '' means the same origin that served the page. */
  apiUrl: (import.meta.env.VITE_API_URL as string | undefined) ?? "",
  /** Show the agent pages (chat, runs, evaluations). On unless set to "false". */
  enableAgent: (import.meta.env.VITE_ENABLE_AGENT as string | undefined) !== "false",
};
