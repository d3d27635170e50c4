// Cross-origin requests in real headless Chromium against a real `anomalog up`:
// a page served from another origin (a second local HTTP server) can neither
// read `/api/logs` nor inject logs through `POST /ingest`, while a page of the
// server's own origin can do both, and an origin listed in
// ANOMALOG_CORS_ORIGINS may read.
//
// Run by ./scripts/test like dashboard.test.mjs (same environment variables:
// ANOMALOG_BIN, CHROMIUM). It needs no built dashboard: the same-origin page is
// whatever the server serves at `/`.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { freePort, launchBrowser, startUp, waitFor } from "./helpers.mjs";


let up;
let base;
let foreign;
let foreignOrigin;
let allowedOrigin;
let allowedSite;
let browser;

/** A plain page on its own origin: the "other website". */
async function pageServer(port) {
  const srv = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html" });
    res.end("<!doctype html><title>another site</title><p>nothing here</p>");
  });
  await new Promise((r) => srv.listen(port, "127.0.0.1", r));
  return srv;
}

/** Messages of stored logs containing `text` (read from node: no CORS). */
async function stored(text) {
  const r = await fetch(`${base}/api/logs?q=${encodeURIComponent(text)}&from=now-1h`);
  assert.equal(r.status, 200);
  return (await r.json()).items.map((i) => i.message);
}

/** In the page: fetch and report what the page could see. */
function tryFetch(page, url, init) {
  return page.evaluate(
    async ([u, i]) => {
      try {
        const r = await fetch(u, i);
        let body = null;
        try {
          body = await r.text();
        } catch {}
        return { ok: true, status: r.status, type: r.type, body };
      } catch (e) {
        return { ok: false, error: String(e) };
      }
    },
    [url, init],
  );
}

before(async () => {
  const foreignPort = await freePort();
  foreignOrigin = `http://127.0.0.1:${foreignPort}`;
  foreign = await pageServer(foreignPort);
  const allowedPort = await freePort();
  allowedOrigin = `http://127.0.0.1:${allowedPort}`;
  allowedSite = await pageServer(allowedPort);
  up = await startUp({ name: "cors", site: false, env: { ANOMALOG_CORS_ORIGINS: allowedOrigin } });
  base = up.base;
  const seed = await fetch(`${base}/ingest?service=cors`, {
    method: "POST",
    headers: { "content-type": "text/plain" },
    body: "ERROR secret token leaked in a log line\n",
  });
  assert.equal(seed.status, 202);
  await waitFor("the seed line to be stored", async () => (await stored("secret token")).length === 1);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  foreign?.close();
  allowedSite?.close();
  await up?.stop();
});

describe("cross-origin requests", { timeout: 120_000 }, () => {
  test("a page of another origin cannot read the logs", async () => {
    const page = await browser.newPage();
    await page.goto(`${foreignOrigin}/`);
    const read = await tryFetch(page, `${base}/api/logs?q=secret`);
    assert.equal(read.ok, false, `the page read: ${JSON.stringify(read)}`);
    const opaque = await tryFetch(page, `${base}/api/logs?q=secret`, { mode: "no-cors" });
    assert.equal(opaque.type, "opaque");
    assert.equal(opaque.body, "", "an opaque response shows nothing");
    await page.close();
  });

  test("a page of another origin cannot inject logs", async () => {
    const page = await browser.newPage();
    await page.goto(`${foreignOrigin}/`);
    // A "simple" request: no preflight, the browser sends it as is.
    await tryFetch(page, `${base}/ingest?service=cors`, {
      method: "POST",
      mode: "no-cors",
      headers: { "content-type": "text/plain" },
      body: "ERROR injected by another site\n",
    });
    // And one that needs a preflight, which the server does not grant.
    const json = await tryFetch(page, `${base}/ingest`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ service: "cors", message: "injected json" }),
    });
    assert.equal(json.ok, false, JSON.stringify(json));
    await page.close();
    // Whatever was accepted is stored within a couple of detect passes.
    const marker = await fetch(`${base}/ingest?service=cors`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "INFO marker after the attempts\n",
    });
    assert.equal(marker.status, 202);
    await waitFor("the marker", async () => (await stored("marker after")).length === 1);
    assert.deepEqual(await stored("injected"), []);
  });

  test("the server's own origin reads and writes", async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    const read = await tryFetch(page, "/api/logs?q=secret&from=now-1h");
    assert.equal(read.status, 200);
    assert.equal(JSON.parse(read.body).items.length, 1);
    const write = await tryFetch(page, "/ingest?service=cors", {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "INFO written by the dashboard's own origin\n",
    });
    assert.equal(write.status, 202, JSON.stringify(write));
    await page.close();
    await waitFor("the same-origin line", async () => (await stored("own origin")).length === 1);
  });

  test("a configured origin may read", async () => {
    const page = await browser.newPage();
    await page.goto(`${allowedOrigin}/`);
    const read = await tryFetch(page, `${base}/api/logs?q=secret&from=now-1h`);
    assert.equal(read.status, 200, JSON.stringify(read));
    assert.equal(JSON.parse(read.body).items.length, 1);
    await page.close();
  });
});
