// Helpers every browser test shares (not a test file: node --test runs only
// *.test.mjs here).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

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

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** The anomalog binary under test. */
export const bin = process.env.ANOMALOG_BIN ?? path.join(root, "target/debug/anomalog");
/** The built dashboard. */
export const siteDir = path.join(root, "site/dist");
/** Debian's Chromium (no browser downloads here). */
export const browserPath = process.env.CHROMIUM ?? "/usr/bin/chromium";

/** The environment of a local `anomalog up` under test: embedded storage,
 * detection every second, no keys and no alert channels unless `env` sets
 * them. */
export function upEnv(env = {}) {
  const e = { ...process.env, ANOMALOG_DETECT_INTERVAL_SECS: "1", RUST_LOG: "warn" };
  for (const name of [
    "ANOMALOG_API_KEYS",
    "REDIS_URL",
    "MONGODB_URI",
    "DISCORD_WEBHOOK_URL",
    "SLACK_WEBHOOK_URL",
    "ANOMALOG_WEBHOOK_URL",
  ]) {
    delete e[name];
  }
  return { ...e, ...env };
}

/** A fresh data directory for one test file. */
export const newDataDir = (name) => mkdtempSync(path.join(tmpdir(), `anomalog-${name}-test-`));

/** Starts `anomalog up` on a free port over `dataDir` (a fresh one named
 * after `name` when not given; serving the built dashboard unless `site` is
 * false) and waits until it is healthy. Returns its base URL, `getJson(path)`,
 * its stderr so far (`log()`) and `stop()`, which stops it and removes the
 * data directory. */
export async function startUp({ name, dataDir = newDataDir(name), env = {}, site = true }) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const args = ["up", "--addr", `127.0.0.1:${port}`, "--data-dir", dataDir];
  if (site) args.push("--site-dir", siteDir);
  const server = spawn(bin, args, { cwd: dataDir, env: upEnv(env), stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  server.stderr.on("data", (d) => {
    log += d.toString();
  });
  const up = {
    base,
    port,
    server,
    log: () => log,
    async getJson(p) {
      const r = await fetch(base + p);
      if (!r.ok) throw new Error(`${p}: ${r.status}`);
      return r.json();
    },
    async stop() {
      if (server.exitCode === null && server.signalCode === null) {
        server.kill("SIGINT");
        await Promise.race([new Promise((r) => server.once("exit", r)), sleep(10_000)]);
        if (server.exitCode === null && server.signalCode === null) server.kill("SIGKILL");
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  try {
    await waitFor("the server to be healthy", async () => (await fetch(`${base}/api/health`)).ok, 15_000);
  } catch (e) {
    await up.stop();
    throw new Error(`${e.message}\nserver log:\n${log}`);
  }
  return up;
}

/** Posts `events` as one JSON batch to `/ingest` and checks the 202. */
export async function postEvents(base, events, headers = {}) {
  const r = await fetch(`${base}/ingest`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(events),
  });
  assert.equal(r.status, 202, await r.text());
}

/** Headless Chromium as every browser test runs it. */
export function launchBrowser(extraArgs = []) {
  return chromium.launch({
    executablePath: browserPath,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--no-first-run",
      ...extraArgs,
    ],
  });
}
