// Helpers every browser test shares (not a test file: node --test runs only
// *.test.mjs here).
import net from "node:net";

/** A TCP port free on 127.0.0.1 right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` every 200 ms until it returns something truthy, or throws
 * naming `what` and the last value or error after `timeoutMs`. */
export async function waitFor(what, fn, timeoutMs = 30_000) {
  const started = Date.now();
  let last;
  while (Date.now() - started < timeoutMs) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await sleep(200);
  }
  const shown = last instanceof Error || typeof last !== "object" ? last : JSON.stringify(last);
  throw new Error(`timed out waiting for ${what} (last: ${shown})`);
}
