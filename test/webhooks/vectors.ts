import { verifySignature } from "../../src/webhooks/verify";
import type { SignatureScheme } from "../../src/webhooks/types";

/** Runs a scheme on a fixed request, at a fixed time, with one secret: for pinned vendor-recipe vectors. */
export function verifiesVector(
  scheme: SignatureScheme,
  v: { body: string; headers: Record<string, string>; secret: string; atSeconds?: number; url?: string },
): Promise<boolean> {
  return verifySignature(
    scheme,
    {
      method: "POST",
      url: v.url ?? "https://dock.example/webhooks/x",
      headers: new Headers(v.headers),
      body: new TextEncoder().encode(v.body),
    },
    [v.secret],
    { nowSeconds: v.atSeconds ?? Math.floor(Date.now() / 1000), toleranceSeconds: 300, config: {} },
  );
}
