import { defineConfig } from "@hey-api/openapi-ts";

// Generates src/client/ from openapi.json (dumped by ../scripts/generate-client.sh).
// OPENAPI_TS_INPUT / OPENAPI_TS_OUT_DIR let `npm run check-client` generate into a temp dir and compare.
export default defineConfig({
  input: process.env.OPENAPI_TS_INPUT ?? "./openapi.json",
  output: { path: process.env.OPENAPI_TS_OUT_DIR ?? "./src/client" },
  plugins: [
    // Base URL and auth are set at run time in src/lib/api-client.ts.
    { name: "@hey-api/client-fetch", baseUrl: false, throwOnError: true },
    // Tree-shakable functions named after the operation ids: `usersReadUsers()`.
    { name: "@hey-api/sdk", responseStyle: "data" },
    "@hey-api/typescript",
  ],
});
