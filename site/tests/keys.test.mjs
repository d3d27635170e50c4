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
import { execFileSync } from "node:child_process";
import { bin, launchBrowser, newDataDir, startUp, upEnv, waitFor } from "./helpers.mjs";


let up;
let dataDir;
let base;
let browser;
let readKey;
let ingestKey;

function createKey(name, scope) {
  const out = execFileSync(bin, ["keys", "create", "--name", name, "--scope", scope, "--data-dir", dataDir], {
    cwd: dataDir,
    env: upEnv(),
    stdio: ["ignore", "pipe", "ignore"],
  });
  return out.toString().trim();
}

before(async () => {
  dataDir = newDataDir("keys");
  readKey = createKey("dashboard", "read");
  ingestKey = createKey("shipper", "ingest");
  up = await startUp({ dataDir });
  base = up.base;
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
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await up?.stop();
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
