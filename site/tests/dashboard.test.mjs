// End to end: the built dashboard (site/dist) in real headless Chromium against a
// real `anomalog up`, fed with known logs over POST /ingest.
//
// Run by ./scripts/test (after ./scripts/build-site and a debug build of the
// binary). Environment:
//   ANOMALOG_BIN        the anomalog binary (default target/debug/anomalog)
//   CHROMIUM            the browser (default /usr/bin/chromium)
//   UPDATE_SCREENSHOTS  when 1, also writes docs/screenshot-*.png (committed)

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { freePort, launchBrowser, root, siteDir, sleep, startUp, waitFor } from "./helpers.mjs";

const outDir = path.join(root, "site/test-output");

// ---------- known data ----------

/** A small deterministic PRNG (mulberry32), so every run posts the same logs. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Events per 10 s; every service stays under the tail's 300 lines in total.
const SERVICES = [
  { name: "checkout", rate: 2.2, hosts: ["web-1", "web-2"] },
  { name: "search", rate: 2.5, hosts: ["search-a"] },
  { name: "payments", rate: 1.5, hosts: ["pay-1"] },
  { name: "auth", rate: 1.2, hosts: ["auth-1"] },
  { name: "inventory", rate: 0.8, hosts: ["inv-1"] },
];
const MESSAGES = {
  TRACE: ["cache probe key=%d", "span closed after %dus"],
  DEBUG: ["pool stats: %d idle connections", "feature flag evaluated in %dus"],
  INFO: ["GET /api/items 200 in %dms", "order %d placed", "session refreshed for user %d", "request completed in %dms"],
  WARN: ["slow query took %dms", "retrying upstream call (attempt %d)"],
  ERROR: ["upstream timeout after %dms", "database connection reset (code %d)"],
  FATAL: ["worker crashed with exit code %d"],
};
const BURST_MESSAGE = "card processor timeout: gateway answered 504";

/** Background traffic over the last 14 minutes, a bump of checkout errors, a payments burst. */
function makeDataset(now) {
  const rand = rng(20261123);
  const events = [];
  const stepMs = 10_000;
  const buckets = 84; // 14 minutes of 10 s buckets, inside the dashboard's default 15 min
  const start = Math.floor(now / stepMs) * stepMs - buckets * stepMs;
  const pick = (list) => list[Math.floor(rand() * list.length)];
  for (let b = 0; b < buckets; b++) {
    const t0 = start + b * stepMs;
    if (t0 + stepMs > now - 3_000) break;
    const wave = 1 + 0.35 * Math.sin(b / 9);
    for (const svc of SERVICES) {
      const n = Math.floor(svc.rate * wave + rand() * 2);
      for (let i = 0; i < n; i++) {
        const r = rand();
        let level = r < 0.01 ? "TRACE" : r < 0.12 ? "DEBUG" : r < 0.87 ? "INFO" : r < 0.96 ? "WARN" : "ERROR";
        // Checkout's error rate rises for half a minute, five minutes ago.
        if (svc.name === "checkout" && b >= 52 && b < 55 && rand() < 0.6) level = "ERROR";
        const message = pick(MESSAGES[level]).replace("%d", String(Math.floor(rand() * 900) + 10));
        events.push({
          ts: new Date(t0 + Math.floor(rand() * stepMs)).toISOString(),
          service: svc.name,
          host: pick(svc.hosts),
          level,
          message,
        });
      }
    }
  }
  // The burst: 40 ERROR lines for payments within 8 s, 90 s ago.
  const burstStart = now - 90_000;
  for (let i = 0; i < 40; i++) {
    events.push({
      ts: new Date(burstStart + i * 200).toISOString(),
      service: "payments",
      host: "pay-1",
      level: "ERROR",
      message: `${BURST_MESSAGE} (order ${7000 + i})`,
    });
  }
  // Distinctive newest lines for the tail.
  events.push({
    ts: new Date(now - 2_000).toISOString(),
    service: "checkout",
    host: "web-1",
    level: "INFO",
    message: "order 4242 placed for customer alice",
    attrs: { order_id: 4242, customer: "alice", cart: { items: 3, total_eur: 59.9 } },
    trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
  });
  events.push({
    ts: new Date(now - 1_500).toISOString(),
    service: "search",
    host: "search-a",
    level: "FATAL",
    message: "index shard 7 unreadable, search degraded",
  });
  return events;
}

function counts(events, pred = () => true) {
  const out = { TRACE: 0, DEBUG: 0, INFO: 0, WARN: 0, ERROR: 0, FATAL: 0, total: 0 };
  for (const e of events.filter(pred)) {
    out[e.level]++;
    out.total++;
  }
  return out;
}

// ---------- the server ----------

let up;
let base;
// The port of the static host on another origin (its test below), allowed by
// the server's CORS configuration as a deployment would allow its site.
let otherOriginPort;
let browser;
let dataset;
const problems = []; // console errors, page errors, failed requests

async function post(events) {
  for (let i = 0; i < events.length; i += 500) {
    const r = await fetch(`${base}/ingest`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(events.slice(i, i + 500)),
    });
    const body = await r.json();
    assert.equal(r.status, 202, JSON.stringify(body));
    assert.equal(body.accepted, Math.min(500, events.length - i), JSON.stringify(body));
  }
}

async function newPage(viewport = { width: 1440, height: 900 }, colorScheme = "dark") {
  const context = await browser.newContext({ viewport, colorScheme, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`console: ${msg.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => {
    // Navigating away cancels in-flight fetches; that is not a failure of ours.
    if (!/ERR_ABORTED/.test(r.failure()?.errorText ?? "")) {
      problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
    }
  });
  page.on("response", (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  // A fast refresh so the tests see new data within seconds.
  await page.addInitScript(() => localStorage.setItem("anomalog.refresh", "2"));
  return page;
}

async function shot(page, name, { fullPage = true } = {}) {
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  if (process.env.UPDATE_SCREENSHOTS === "1") {
    mkdirSync(path.join(root, "docs"), { recursive: true });
    copyFileSync(file, path.join(root, "docs", `${name}.png`));
  }
}

/** Sum of a numeric data attribute over the elements matching a selector. */
function sumAttr(page, selector, attr) {
  return page.$$eval(
    selector,
    (els, a) => els.reduce((s, el) => s + Number(el.getAttribute(a) ?? 0), 0),
    attr,
  );
}

before(async () => {
  otherOriginPort = await freePort();
  up = await startUp({ name: "site", env: { ANOMALOG_CORS_ORIGINS: `http://127.0.0.1:${otherOriginPort}` } });
  base = up.base;

  dataset = makeDataset(Date.now());
  await post(dataset);
  const want = dataset.length;
  await waitFor(
    "every posted event in the rollups",
    async () => (await up.getJson("/api/stats/breakdown?from=now-1h")).total === want,
  );
  await waitFor("the payments burst as an anomaly", async () => {
    const list = await up.getJson("/api/anomalies?service=payments&kind=burst");
    return list.items.length > 0;
  });

  browser = await launchBrowser(["--disable-quic"]);
});

after(async () => {
  await browser?.close();
  await up?.stop();
});

describe("dashboard", { timeout: 180_000 }, () => {
  test("the overview charts show the posted counts", async () => {
    const page = await newPage();
    await page.goto(`${base}/`);
    await page.waitForSelector('[data-chart="volume"] rect.bar');
    const all = counts(dataset);

    // Headline numbers.
    const events = await page.getAttribute('[data-testid="stat-events"]', "data-value");
    assert.equal(Number(events), all.total);
    const errors = await page.getAttribute('[data-testid="stat-errors"]', "data-value");
    assert.equal(Number(errors), all.ERROR + all.FATAL);

    // Volume stacked by level: the bars of each level add up to what was posted.
    for (const level of ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"]) {
      const drawn = await sumAttr(page, `[data-chart="volume"] rect.bar[data-level="${level}"]`, "data-count");
      assert.equal(drawn, all[level], `volume bars of ${level}`);
      const legend = await page.getAttribute(`[data-chart="levels"] .legenditem[data-level="${level}"]`, "data-count");
      assert.equal(Number(legend), all[level], `level legend of ${level}`);
    }

    // Distribution by service, and one error-rate chart per service.
    for (const svc of SERVICES) {
      const c = counts(dataset, (e) => e.service === svc.name);
      const row = `[data-chart="services"] .svcrow[data-service="${svc.name}"]`;
      assert.equal(Number(await page.getAttribute(row, "data-total")), c.total, `${svc.name} total`);
      assert.equal(Number(await page.getAttribute(row, "data-errors")), c.ERROR + c.FATAL, `${svc.name} errors`);
      assert.equal(await sumAttr(page, `${row} .part`, "data-count"), c.total);
      const rate = `[data-chart="error-rate"][data-service="${svc.name}"]`;
      assert.equal(Number(await page.getAttribute(rate, "data-errors")), c.ERROR + c.FATAL);
      assert.equal(Number(await page.getAttribute(rate, "data-total")), c.total);
    }

    // The burst is marked on payments' error rate and counted as open.
    const burst = (await up.getJson("/api/anomalies?service=payments&kind=burst")).items[0];
    await page.waitForSelector(`[data-chart="error-rate"][data-service="payments"] .marker[data-anomaly-id="${burst.id}"]`);
    await page.waitForSelector(`[data-chart="error-rate"][data-service="payments"] rect.anomalyspan[data-anomaly-id="${burst.id}"]`);
    // The open count is the API's (the burst may have resolved by now).
    await waitFor("the open count to match the API", async () => {
      const open = (await up.getJson("/api/anomalies?status=open")).items.length;
      return Number(await page.getAttribute('[data-testid="stat-open"]', "data-value")) === open;
    });
    // The band is drawn once history exists, and checkout's bump breaches it.
    assert.ok((await page.$$('[data-chart="error-rate"][data-service="checkout"] path.band')).length > 0);
    assert.ok((await page.$$('[data-chart="error-rate"][data-service="checkout"] rect.breach')).length > 0);

    // Tooltips: hovering a bucket shows its counts.
    const box = await page.locator('[data-chart="volume"] .plotarea').boundingBox();
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2);
    const tip = await page.waitForSelector('[data-chart="volume"] .tooltip');
    assert.match(await tip.innerText(), /Total/);
    await page.mouse.move(5, 5);

    await shot(page, "screenshot-overview");
    await page.context().close();
  });

  test("one overview refresh makes five API calls, whatever the number of services", async () => {
    const page = await newPage();
    // No auto refresh: only the initial load and the one refresh asked for.
    await page.addInitScript(() => localStorage.setItem("anomalog.refresh", "0"));
    const calls = [];
    page.on("request", (r) => {
      const u = new URL(r.url());
      if (u.pathname.startsWith("/api/")) calls.push(u.pathname);
    });
    await page.goto(`${base}/`);
    await page.waitForSelector('[data-chart="error-rate"]');
    await page.waitForLoadState("networkidle");
    const initial = calls.splice(0);
    await page.click('button[aria-label="Refresh now"]');
    // The per-service series come last, after the breakdown and anomalies.
    await waitFor("the refresh's volume request", async () => calls.includes("/api/stats/volume"));
    await sleep(1_500);
    const tally = (list) => list.reduce((t, p) => ({ ...t, [p]: (t[p] ?? 0) + 1 }), {});
    // The shell's open anomalies and services, then breakdown, anomalies in
    // range and every service's series in one volume request.
    const expected = { "/api/anomalies": 2, "/api/services": 1, "/api/stats/breakdown": 1, "/api/stats/volume": 1 };
    assert.deepEqual(tally(calls), expected, calls.join("\n"));
    assert.deepEqual(tally(initial), expected, initial.join("\n"));
    // ...and still one error-rate chart per service.
    assert.equal(await page.locator('[data-chart="error-rate"]').count(), SERVICES.length);
    await page.context().close();
  });

  test("the overview works in light theme and on a phone", async () => {
    const page = await newPage({ width: 390, height: 844 }, "light");
    await page.goto(`${base}/`);
    await page.waitForSelector('[data-chart="volume"] rect.bar');
    assert.equal(await page.getAttribute("html", "data-theme"), "light");
    // Nothing wider than the screen.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone`);
    await shot(page, "screenshot-phone");
    await page.click('[data-testid="theme-toggle"]');
    assert.equal(await page.getAttribute("html", "data-theme"), "dark");
    await page.context().close();
  });

  test("the live tail shows the posted lines and filters them", async () => {
    const page = await newPage();
    await page.goto(`${base}/#/tail`);
    await page.waitForSelector('[data-testid="tail"] .logrow');
    const rows = () =>
      page.$$eval('[data-testid="tail"] .logrow', (els) =>
        els.map((el) => ({ service: el.dataset.service, level: el.dataset.level, text: el.innerText })),
      );

    // Newest first, with level colours and expandable attributes.
    const first = await rows();
    assert.match(first[0].text, /index shard 7 unreadable/);
    assert.equal(first[0].level, "FATAL");
    const order = page.locator('[data-testid="tail"] .logrow', { hasText: "order 4242 placed for customer alice" });
    await order.locator("button.logline").click();
    const attrs = await order.locator('[data-testid="attrs"]').innerText();
    assert.match(attrs, /customer/);
    assert.match(attrs, /alice/);
    assert.match(attrs, /4bf92f3577b34da6a3ce929d0e0e4736/);

    // Service filter.
    await page.selectOption('[data-testid="filter-service"]', "search");
    const search = counts(dataset, (e) => e.service === "search");
    await waitFor("only search lines", async () => {
      const r = await rows();
      return r.length === search.total && r.every((x) => x.service === "search");
    });

    // Minimum level, across services.
    await page.selectOption('[data-testid="filter-service"]', "");
    await page.selectOption('[data-testid="filter-level"]', "ERROR");
    const errors = counts(dataset, (e) => e.level === "ERROR" || e.level === "FATAL");
    await waitFor("only ERROR and FATAL lines", async () => {
      const r = await rows();
      return r.length === errors.total && r.every((x) => x.level === "ERROR" || x.level === "FATAL");
    });

    // Text, highlighted in the lines.
    await page.fill('[data-testid="filter-text"]', "card processor");
    await waitFor("only the burst lines", async () => {
      const r = await rows();
      return r.length === 40 && r.every((x) => x.text.includes(BURST_MESSAGE));
    });
    assert.equal(await page.locator('[data-testid="tail"] mark').count(), 40);

    // Pause holds new lines back; resume shows them.
    await page.click("text=Clear");
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="tail"] .logrow').length > 100);
    await page.click('[data-testid="pause"]');
    const late = { ts: new Date().toISOString(), service: "auth", level: "WARN", message: "posted while the tail was paused" };
    await post([late]);
    dataset.push(late); // later tests count it too
    await waitFor(
      "the new line to be stored",
      async () => (await up.getJson("/api/logs?q=posted%20while")).items.length === 1,
    );
    // The live query sees it and says so, but the screen stays still.
    await page.waitForSelector("text=1 new line is waiting", { timeout: 10_000 });
    assert.equal(await page.locator("text=posted while the tail was paused").count(), 0, "paused tail moved");
    await page.click('[data-testid="pause"]');
    await page.waitForSelector("text=posted while the tail was paused", { timeout: 10_000 });
    await shot(page, "screenshot-tail", { fullPage: false });
    await page.context().close();
  });

  test("the burst is listed as an anomaly and its detail shows its lines", async () => {
    const page = await newPage();
    await page.goto(`${base}/#/anomalies`);
    const row = await page.waitForSelector('.arow[data-kind="burst"][data-service="payments"]');
    await row.click();
    await page.waitForSelector('[data-testid="anomaly-detail"]');
    assert.match(page.url(), /#\/anomalies\//);
    assert.match(await page.innerText('[data-testid="explanation"]'), /ERROR and FATAL lines/);
    assert.ok(Number(await page.innerText('[data-testid="observed"]')) >= 30);

    const samples = await page.$$eval('[data-testid="samples"] .sample', (els) => els.map((e) => e.innerText));
    assert.ok(samples.length > 0, "no sample lines");
    assert.ok(samples.every((s) => s.includes(BURST_MESSAGE)), samples.join("\n"));
    const windowLines = await page.$$eval('[data-testid="window-logs"] .logrow', (els) => els.map((e) => e.innerText));
    assert.ok(windowLines.filter((s) => s.includes(BURST_MESSAGE)).length >= 30);

    // The series around the window holds the burst's errors.
    const charted = await sumAttr(page, '[data-chart="window"] rect[data-errors]', "data-errors");
    assert.ok(charted >= 40, `window chart shows ${charted} errors`);
    assert.ok((await page.$$('[data-chart="window"] rect.anomalyspan')).length === 1);
    await shot(page, "screenshot-anomaly", { fullPage: false });
    await page.context().close();
  });

  test("the range picker switches the buckets and keeps the counts", async () => {
    const page = await newPage();
    await page.goto(`${base}/`);
    await page.waitForSelector('[data-chart="volume"] rect.bar');
    // 15 min of 10 s buckets (one more when "now" is not on a bucket boundary).
    const buckets = async () => Number(await page.getAttribute('[data-chart="volume"]', "data-buckets"));
    assert.ok([90, 91].includes(await buckets()), `${await buckets()} buckets`);
    await page.click('button[data-range="1h"]');
    await waitFor("1 h of 30 s buckets", async () => [120, 121].includes(await buckets()));
    const all = counts(dataset);
    assert.equal(await sumAttr(page, '[data-chart="volume"] rect.bar', "data-count"), all.total);

    // A custom window around the burst only: the burst's 40 errors, nothing from an hour ago.
    await page.click('button[data-range="custom"]');
    const burstStart = Date.parse(dataset.find((e) => e.message.startsWith(BURST_MESSAGE)).ts);
    const local = (ms) => {
      const d = new Date(ms);
      const p = (n) => String(n).padStart(2, "0");
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
    };
    // The inputs take whole minutes, and the burst (8 s) may straddle a minute
    // boundary: the window runs from the minute the burst starts to the minute
    // after it ends, so it always holds all 40 lines.
    const burstEnd = Date.parse(dataset.findLast((e) => e.message.startsWith(BURST_MESSAGE)).ts);
    const from = Math.floor(burstStart / 60_000) * 60_000;
    const to = (Math.floor(burstEnd / 60_000) + 1) * 60_000;
    await page.fill('.popover input >> nth=0', local(from));
    await page.fill('.popover input >> nth=1', local(to));
    await page.click(".popover >> text=Apply");
    const inWindow = counts(dataset, (e) => Date.parse(e.ts) >= from && Date.parse(e.ts) < to);
    await waitFor("the custom window's counts", async () => {
      const errors = await page.getAttribute('[data-testid="stat-errors"]', "data-value");
      return Number(errors) === inWindow.ERROR + inWindow.FATAL;
    });
    assert.ok(inWindow.ERROR >= 40);
    assert.match(await page.innerText("footer"), / – /);
    await page.context().close();
  });

  test("the same files work from another origin with apiBase in config.js", async () => {
    // A static host on another port (another origin), as S3/CloudFront would be.
    const { createServer } = await import("node:http");
    const { readFile } = await import("node:fs/promises");
    const types = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".wasm": "application/wasm", ".svg": "image/svg+xml" };
    const host = createServer(async (req, res) => {
      const url = new URL(req.url, "http://x");
      const file = url.pathname === "/" ? "/index.html" : url.pathname;
      if (file === "/config.js") {
        res.writeHead(200, { "content-type": "text/javascript" });
        res.end(`window.ANOMALOG_CONFIG = { apiBase: ${JSON.stringify(base + "/")} };`);
        return;
      }
      try {
        const body = await readFile(path.join(siteDir, path.normalize(file)));
        res.writeHead(200, { "content-type": types[path.extname(file)] ?? "application/octet-stream" });
        res.end(body);
      } catch {
        res.writeHead(404);
        res.end();
      }
    });
    const port = otherOriginPort;
    await new Promise((r) => host.listen(port, "127.0.0.1", r));
    try {
      const page = await newPage();
      // The last hour holds the whole dataset however long the earlier tests took
      // (the default 15 min would start dropping its oldest lines after ~50 s).
      await page.addInitScript(() => localStorage.setItem("anomalog.range", "60"));
      const apiCalls = [];
      page.on("request", (r) => {
        if (r.url().includes("/api/")) apiCalls.push(r.url());
      });
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.waitForSelector('[data-chart="volume"] rect.bar');
      assert.equal(Number(await page.getAttribute('[data-testid="stat-events"]', "data-value")), counts(dataset).total);
      assert.ok(apiCalls.length > 0 && apiCalls.every((u) => u.startsWith(`${base}/api/`)), apiCalls.join("\n"));
      await page.context().close();
    } finally {
      await new Promise((r) => host.close(r));
    }
  });

  test("the tail pages back past the first page with Load older, without duplicates", async () => {
    // 450 lines of one service: more than the 300 of the live page.
    const start = Date.now() - 60_000;
    const paged = [];
    for (let i = 0; i < 450; i++) {
      const n = String(i).padStart(3, "0");
      paged.push({ ts: new Date(start + i * 100).toISOString(), service: "pager", level: "INFO", message: `paged line ${n}` });
    }
    await post(paged);
    dataset.push(...paged);
    await waitFor(
      "the paged lines to be stored",
      async () => (await up.getJson("/api/logs?service=pager&limit=1000")).items.length === paged.length,
    );
    const page = await newPage();
    await page.goto(`${base}/#/tail?service=pager`);
    const rows = () =>
      page.$$eval('[data-testid="tail"] .logrow', (els) =>
        els.map((el) => ({ id: el.dataset.id, message: el.querySelector(".logmsg").innerText })),
      );
    await waitFor("the live page", async () => (await rows()).length === 300);
    assert.equal((await rows())[0].message, "paged line 449");

    // New lines arrive while paging back: they join the live page on top,
    // and the lines they push out of it stay on screen.
    const late = [];
    for (let i = 0; i < 5; i++) {
      late.push({ ts: new Date(Date.now() - 1_000 + i * 100).toISOString(), service: "pager", level: "INFO", message: `late line ${i}` });
    }
    await post(late);
    dataset.push(...late);
    await page.click('[data-testid="load-older"]');
    await waitFor("every paged and late line", async () => (await rows()).length === paged.length + late.length, 20_000);
    await page.waitForSelector('[data-testid="no-older"]');
    assert.equal(await page.locator('[data-testid="load-older"]').count(), 0);

    const shown = await rows();
    assert.equal(new Set(shown.map((r) => r.id)).size, shown.length, "duplicate lines");
    // Exactly the posted lines, newest first.
    const want = [...paged, ...late]
      .sort((a, b) => Date.parse(b.ts) - Date.parse(a.ts))
      .map((e) => e.message);
    assert.deepEqual(
      shown.map((r) => r.message),
      want,
    );
    await page.context().close();
  });

  test("the API docs page renders every endpoint, offline", async () => {
    const doc = await up.getJson("/api/openapi.json");
    const page = await newPage();
    // Every request must stay on this server; anything else is recorded and refused.
    const outside = [];
    await page.route("**/*", (route) => {
      const u = new URL(route.request().url());
      if (u.protocol === "data:" || u.protocol === "blob:" || u.hostname === "127.0.0.1") return route.continue();
      outside.push(route.request().url());
      return route.abort();
    });
    const started = Date.now();
    await page.goto(`${base}/api/docs`);
    await page.waitForSelector(".opblock-summary-path");
    const loadMs = Date.now() - started;
    const operations = await page.$$eval(".opblock", (els) =>
      els.map((el) => {
        const method = el.querySelector(".opblock-summary-method").innerText.toLowerCase();
        const p = el.querySelector(".opblock-summary-path").getAttribute("data-path");
        return `${method} ${p}`;
      }),
    );
    const documented = Object.entries(doc.paths).flatMap(([p, item]) => Object.keys(item).map((m) => `${m} ${p}`));
    assert.deepEqual([...operations].sort(), [...documented].sort());
    assert.ok(documented.includes("post /ingest") && documented.includes("get /api/stats/volume"));

    // An operation opens with its parameters, and "Try it out" (on by
    // default) calls this server.
    const health = page.locator('.opblock-get:has([data-path="/api/health"])');
    await health.locator(".opblock-summary").click();
    await health.locator(".execute").click();
    await health.locator(".live-responses-table .response-col_status", { hasText: "200" }).waitFor();
    const logs = page.locator('.opblock-get:has([data-path="/api/logs"])');
    await logs.locator(".opblock-summary").click();
    for (const name of ["service", "level", "cursor", "limit"]) {
      await logs.locator(`.parameters [data-param-name="${name}"]`).waitFor();
    }
    assert.deepEqual(outside, [], "requests left 127.0.0.1");
    console.log(`docs page: ${operations.length} operations rendered in ${loadMs} ms`);
    await shot(page, "docs-page", { fullPage: false });
    await page.context().close();
  });

  test("no console errors, page errors or failed requests", () => {
    assert.deepEqual(problems, [], up.log());
  });
});
