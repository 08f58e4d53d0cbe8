import { useMutation } from "@tanstack/react-query";
import { usersExportUserMe } from "@/client";

/** GET /users/me/export: the zip, as a Blob. */
export function useExportMe() {
  return useMutation({
    mutationFn: async () => (await usersExportUserMe({ parseAs: "blob" })) as unknown as Blob,
  });
}
