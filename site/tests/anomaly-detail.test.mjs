// End to end: a real error-ratio spike, detected by a real `anomalog up` from
// logs posted over POST /ingest, shown on its detail page in real headless
// Chromium with the ratio, its baseline and its threshold in percent, read from
// the anomaly's measure (not its message).
//
// Run by ./scripts/test (after ./scripts/build-site and a debug build of the
// binary). Environment: ANOMALOG_BIN, CHROMIUM as in dashboard.test.mjs.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { launchBrowser, postEvents, root, startUp, waitFor } from "./helpers.mjs";

const outDir = path.join(root, "site/test-output");

/**
 * Checkout logging 500 lines a minute, 5 of them errors (1%), for 13 minutes;
 * three minutes ago one minute of 300 lines of which 18 are errors (6%): more
 * errors than usual but not many more (no count spike, no burst), a much
 * higher share of a smaller traffic (a ratio spike).
 */
function makeDataset(now) {
  const minute = 60_000;
  const start = Math.floor(now / minute) * minute - 16 * minute;
  const spikeMinute = 13;
  const events = [];
  for (let m = 0; m < 16; m++) {
    const [total, errors] = m === spikeMinute ? [300, 18] : [500, 5];
    const step = minute / total;
    for (let i = 0; i < total; i++) {
      const ts = start + m * minute + Math.floor(i * step);
      if (ts > now - 2_000) break;
      // Errors spread over the minute, one every total/errors lines.
      const error = i % Math.floor(total / errors) === 0 && Math.floor(i / Math.floor(total / errors)) < errors;
      events.push({
        ts: new Date(ts).toISOString(),
        service: "checkout",
        host: "web-1",
        level: error ? "ERROR" : "INFO",
        message: error ? `payments returned 503 for order ${i}` : `order ${i} placed`,
      });
    }
  }
  return events;
}

let up;
let base;
let browser;

before(async () => {
  up = await startUp({ name: "detail" });
  base = up.base;
  const events = makeDataset(Date.now());
  for (let i = 0; i < events.length; i += 1000) {
    await postEvents(base, events.slice(i, i + 1000));
  }
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await up?.stop();
});

const pct = (v) => `${(100 * v).toFixed(1)}%`;

describe("anomaly detail", { timeout: 120_000 }, () => {
  test("a ratio spike's detail shows the ratio, its baseline and threshold in percent", async () => {
    const spike = await waitFor(
      "checkout's ratio spike",
      async () =>
        (await up.getJson("/api/anomalies?service=checkout&kind=spike")).items.find(
          (a) => a.measure?.metric === "error_ratio",
        ),
      30_000,
    ).catch((e) => {
      throw new Error(`${e.message}\nserver log:\n${up?.log()}`);
    });
    assert.equal(spike.measure.unit, "ratio");
    // What was posted: 18 errors in 300 lines, against 1% before.
    assert.equal(pct(spike.observed), "6.0%");
    assert.equal(pct(spike.expected), "1.0%");
    assert.ok(spike.measure.threshold > spike.expected && spike.measure.threshold < spike.observed);

    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    const problems = [];
    page.on("pageerror", (e) => problems.push(e.message));
    await page.goto(`${base}/#/anomalies/${spike.id}`);
    await page.waitForSelector('[data-testid="anomaly-detail"]');
    assert.equal(await page.innerText('[data-testid="observed"]'), "6.0%");
    assert.equal(await page.innerText('[data-testid="expected"]'), "1.0%");
    assert.equal(await page.innerText('[data-testid="threshold"]'), pct(spike.measure.threshold));
    assert.match(await page.innerText('[data-testid="stddev"]'), new RegExp(`^± ${pct(spike.stddev).replace(".", "\\.")}, baseline `));
    assert.equal(
      await page.innerText('[data-testid="explanation"]'),
      `Error ratio 6.0% in 60 s, baseline 1.0% ± ${pct(spike.stddev)}, threshold ${pct(spike.measure.threshold)}.`,
    );
    assert.deepEqual(problems, []);
    mkdirSync(outDir, { recursive: true });
    await page.screenshot({ path: path.join(outDir, "screenshot-ratio-spike.png") });
    await page.context().close();
  });
});
