// The dashboard with API keys, in real headless Chromium against a real
// `anomalog up` serving the built dashboard: with a read key created by
// `anomalog keys create`, the dashboard asks for a key (a labelled field under
// a heading), refuses a wrong key and a key without the read scope with a
// message, and shows the data once given the right key, which it keeps for
// the tab (sessionStorage) and sends as `Authorization: Bearer`.
//
// Needs the built dashboard (./scripts/build-site) and the same environment
// variables as dashboard.test.mjs (ANOMALOG_BIN, CHROMIUM).

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { freePort, sleep, waitFor } from "./helpers.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const bin = process.env.ANOMALOG_BIN ?? path.join(root, "target/debug/anomalog");
const browserPath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const siteDir = path.join(root, "site/dist");

let server;
let dataDir;
let base;
let browser;
let readKey;
let ingestKey;

function env() {
  const e = { ...process.env, ANOMALOG_DETECT_INTERVAL_SECS: "1", RUST_LOG: "warn" };
  delete e.ANOMALOG_API_KEYS;
  delete e.REDIS_URL;
  delete e.MONGODB_URI;
  delete e.DISCORD_WEBHOOK_URL;
  return e;
}

function createKey(name, scope) {
  const out = execFileSync(bin, ["keys", "create", "--name", name, "--scope", scope, "--data-dir", dataDir], {
    cwd: dataDir,
    env: env(),
    stdio: ["ignore", "pipe", "ignore"],
  });
  return out.toString().trim();
}

before(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), "anomalog-keys-test-"));
  readKey = createKey("dashboard", "read");
  ingestKey = createKey("shipper", "ingest");
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(bin, ["up", "--addr", `127.0.0.1:${port}`, "--data-dir", dataDir, "--site-dir", siteDir], {
    cwd: dataDir,
    env: env(),
    stdio: ["ignore", "ignore", "inherit"],
  });
  await waitFor("the server to be healthy", async () => (await fetch(`${base}/api/health`)).ok);
  const seed = await fetch(`${base}/ingest?service=keyed`, {
    method: "POST",
    headers: { "content-type": "text/plain", authorization: `Bearer ${ingestKey}` },
    body: "ERROR only key holders may read this line\n",
  });
  assert.equal(seed.status, 202);
  await waitFor("the seed line to be stored", async () => {
    const r = await fetch(`${base}/api/logs?q=key%20holders&from=now-1h`, {
      headers: { authorization: `Bearer ${readKey}` },
    });
    return r.ok && (await r.json()).items.length === 1;
  });
  browser = await chromium.launch({
    executablePath: browserPath,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
  });
});

after(async () => {
  await browser?.close();
  if (server && server.exitCode === null) {
    server.kill("SIGINT");
    await Promise.race([new Promise((r) => server.once("exit", r)), sleep(10_000)]);
    if (server.exitCode === null) server.kill("SIGKILL");
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe("the dashboard with API keys", { timeout: 120_000 }, () => {
  test("asks for a read key, refuses wrong ones, shows data with the right one", async () => {
    const page = await browser.newPage();
    const sent = [];
    page.on("request", (r) => {
      if (r.url().includes("/api/logs")) sent.push(r.headers().authorization ?? "");
    });
    await page.goto(`${base}/#/tail`);
    const heading = page.getByRole("heading", { name: "API key required" });
    await heading.waitFor();
    const field = page.getByLabel("Read key");
    assert.equal(await page.getByRole("dialog").count(), 1);
    assert.equal(await page.locator('[data-testid="tail"] .logrow').count(), 0, "no data without a key");

    await field.fill("alg_not-a-key");
    await page.getByRole("button", { name: "Use this key" }).click();
    const error = page.getByRole("dialog").getByRole("alert");
    await error.waitFor();
    assert.match(await error.innerText(), /refused: it is not a valid key/);

    await field.fill(ingestKey);
    await page.getByRole("button", { name: "Use this key" }).click();
    await page.getByText("it lacks the read scope").waitFor();
    assert.equal(await heading.isVisible(), true, "still asking");

    await field.fill(readKey);
    await page.getByRole("button", { name: "Use this key" }).click();
    await heading.waitFor({ state: "detached" });
    await page.locator('[data-testid="tail"] .logrow', { hasText: "only key holders may read this line" }).waitFor();
    assert.ok(sent.includes(`Bearer ${readKey}`), "the key is sent as a bearer key");
    assert.equal(await page.evaluate(() => sessionStorage.getItem("anomalog.key")), readKey);

    // A reload in the same tab keeps the key; no prompt.
    await page.reload();
    await page.locator('[data-testid="tail"] .logrow', { hasText: "only key holders" }).waitFor();
    assert.equal(await heading.count(), 0);
    await page.close();
  });
});
