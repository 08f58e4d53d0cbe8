import { useEffect, useRef, useState } from "react";
import { env } from "@/config/env";

const HEALTH_PATH = "/api/v1/utils/health-check/";
const FIRST_DELAY_MS = 1000;
const MAX_DELAY_MS = 5000;

/**
 * While `down` (the server couldn't be reached), check its health every few seconds; once it
 * answers, call `onBack` (which reloads what the page shows). Returns whether we're reconnecting.
 */
export function useReconnect(down: boolean, onBack: () => void): boolean {
  const [reconnecting, setReconnecting] = useState(false);
  const back = useRef(onBack);
  back.current = onBack;

  useEffect(() => {
    // Requests that answer again mean the server is back (whoever noticed first).
    if (!down) {
      setReconnecting(false);
      return;
    }
    setReconnecting(true);
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const check = async (delay: number) => {
      const ok = await fetch(`${env.apiUrl}${HEALTH_PATH}`, { cache: "no-store" })
        .then((response) => response.ok)
        .catch(() => false);
      if (stopped) return;
      if (ok) {
        setReconnecting(false);
        back.current();
        return;
      }
      timer = setTimeout(() => void check(Math.min(delay * 2, MAX_DELAY_MS)), delay);
    };
    timer = setTimeout(() => void check(FIRST_DELAY_MS), FIRST_DELAY_MS);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [down]);

  return down || reconnecting;
}
