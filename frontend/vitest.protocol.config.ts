import { fileURLToPath, URL } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// Contract tests of the Agent Protocol with @langchain/langgraph-sdk (`Client`, `useStream`) against
// the real backend, which globalSetup starts; kept apart so `npm test` stays fast and backend-free.
export default defineConfig({
  plugins: [react()],
  resolve: {
    alias: { "@": fileURLToPath(new URL("./src", import.meta.url)) },
  },
  test: {
    environment: "node",
    globals: false,
    include: ["protocol-tests/**/*.test.{ts,tsx}"],
    globalSetup: ["./protocol-tests/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    restoreMocks: true,
  },
});
