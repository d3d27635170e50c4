// End to end: log lines posted to a real `anomalog up` are mined into
// patterns; the Patterns page in real headless Chromium lists their
// templates with the posted counts, marks the new ones, sorts by count and by
// recency, and opens one pattern (its rate, examples, lines, and the live tail
// filtered by it); a burst's anomaly page lists the pattern that grew.
//
// Run by ./scripts/test (after ./scripts/build-site and a debug build of the
// binary). Environment: ANOMALOG_BIN, CHROMIUM as in dashboard.test.mjs.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { launchBrowser, postEvents, root, startUp, waitFor } from "./helpers.mjs";

const outDir = path.join(root, "site/test-output");

// The templates the miner must find (every variable has a digit, so the
// masking alone decides them), with the lines of each in the last 15 minutes.
const LOGIN = "user <*> logged in from <*>";
const CART = "cart <*> updated with <*> items";
const TIMEOUT = "payment provider timed out after <*> ms for order <*>";
const QUERY = "query returned <*> results in <*>";
const IN_RANGE = { [LOGIN]: 120, [CART]: 60, [TIMEOUT]: 40, [QUERY]: 90 };
/** Logins 40 to 20 minutes ago: before the 15-minute range, so not new. */
const OLD_LOGINS = 20;

/**
 * checkout: logins since 40 minutes ago, cart updates for the last 10, and a
 * burst of 40 payment timeouts (ERROR) within the last 90 seconds; search:
 * queries for the last 10 minutes. Oldest first, as a shipper sends them.
 */
function makeDataset(now) {
  const events = [];
  const at = (ms) => new Date(ms).toISOString();
  for (let i = 0; i < OLD_LOGINS; i++) {
    events.push({ ts: at(now - 40 * 60_000 + i * 60_000), service: "checkout", level: "INFO",
      message: `user ${4000 + i} logged in from 10.0.${i % 7}.${i % 250}` });
  }
  for (let i = 0; i < 120; i++) {
    events.push({ ts: at(now - 600_000 + i * 4_900), service: "checkout", level: "INFO",
      message: `user ${5000 + i} logged in from 10.1.${i % 9}.${(i * 7) % 250}` });
  }
  for (let i = 0; i < 60; i++) {
    events.push({ ts: at(now - 590_000 + i * 9_500), service: "checkout", level: "INFO",
      message: `cart ${900 + i} updated with ${1 + (i % 6)} items` });
  }
  for (let i = 0; i < 90; i++) {
    events.push({ ts: at(now - 595_000 + i * 6_500), service: "search", level: "DEBUG",
      message: `query returned ${i % 40} results in ${10 + (i % 90)}ms` });
  }
  for (let i = 0; i < 40; i++) {
    events.push({ ts: at(now - 90_000 + i * 200), service: "checkout", level: "ERROR",
      message: `payment provider timed out after ${3000 + (i % 5) * 250} ms for order ${7000 + i}` });
  }
  return events.sort((a, b) => a.ts.localeCompare(b.ts));
}

let up;
let base;
let browser;

before(async () => {
  up = await startUp({ name: "patterns" });
  base = up.base;
  const events = makeDataset(Date.now());
  await postEvents(base, events);
  await waitFor(
    "every posted line counted in a pattern",
    async () => {
      const items = (await up.getJson("/api/patterns?from=now-1h")).items;
      return items.reduce((n, p) => n + p.count, 0) === events.length;
    },
    30_000,
  );
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await up?.stop();
});

/** A page with auto refresh off (so rows do not redraw under the test). */
async function newPage(viewport = { width: 1366, height: 900 }) {
  const context = await browser.newContext({ viewport });
  await context.addInitScript(() => {
    localStorage.setItem("anomalog.refresh", "0");
    localStorage.setItem("anomalog.range", "15");
  });
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(e.message));
  return { page, problems };
}

/** The table's rows as {template, count, isNew, id}, in page order. */
async function rows(page) {
  return page.$$eval(".prow", (trs) =>
    trs.map((tr) => ({
      template: tr.querySelector('[data-testid="template"]').textContent,
      count: Number(tr.querySelector('[data-testid="count"]').textContent.replace(/,/g, "")),
      isNew: tr.querySelector('[data-testid="new"]') !== null,
      id: tr.dataset.patternId,
    })),
  );
}

describe("patterns pages", { timeout: 180_000 }, () => {
  test("the Patterns page lists the mined templates with their counts, new ones marked, sortable", async () => {
    const { page, problems } = await newPage();
    await page.goto(`${base}/#/`);
    await page.click('nav a[href="#/patterns"]');
    await page.waitForSelector(".prow");
    const shown = await rows(page);
    const counts = Object.fromEntries(shown.map((r) => [r.template, r.count]));
    assert.deepEqual(counts, IN_RANGE, "one row per template, with the lines posted in the range");
    assert.deepEqual(
      shown.map((r) => r.template),
      [LOGIN, QUERY, CART, TIMEOUT],
      "most lines first",
    );
    const fresh = Object.fromEntries(shown.map((r) => [r.template, r.isNew]));
    assert.deepEqual(fresh, { [LOGIN]: false, [CART]: true, [TIMEOUT]: true, [QUERY]: true });

    await page.click('[data-sort="first_seen"]');
    await waitFor("the newest pattern on top", async () => (await rows(page))[0]?.template === TIMEOUT);
    assert.equal((await rows(page)).at(-1).template, LOGIN, "the oldest pattern last");

    await page.selectOption('[data-testid="pattern-service"]', "search");
    await waitFor("only search's pattern", async () => {
      const r = await rows(page);
      return r.length === 1 && r[0].template === QUERY;
    });
    const sparkTotal = await page.$$eval('.prow [data-chart="sparkline"] rect', (rs) =>
      rs.reduce((n, r) => n + Number(r.dataset.count), 0),
    );
    assert.equal(sparkTotal, 90, "the sparkline's bars add up to the count");
    assert.deepEqual(problems, []);
    mkdirSync(outDir, { recursive: true });
    await page.selectOption('[data-testid="pattern-service"]', "");
    await waitFor("every pattern again", async () => (await rows(page)).length === 4);
    await page.screenshot({ path: path.join(outDir, "screenshot-patterns.png"), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    assert.equal((await rows(page)).length, 4, "every row on a phone too");
    await page.screenshot({ path: path.join(outDir, "screenshot-patterns-phone.png"), fullPage: true });
    await page.context().close();
  });

  test("a pattern's page shows its rate, examples and lines, and opens the tail filtered by it", async () => {
    const { page, problems } = await newPage();
    await page.goto(`${base}/#/patterns`);
    await page.waitForSelector(".prow");
    const timeout = (await rows(page)).find((r) => r.template === TIMEOUT);
    await page.click(`.prow[data-pattern-id="${timeout.id}"] a.plink`);
    await page.waitForSelector('[data-testid="pattern-detail"]');
    assert.equal(await page.innerText('h1 [data-testid="template"]'), TIMEOUT);
    assert.equal(await page.innerText('[data-testid="pattern-count"]'), "40");
    assert.equal(await page.getAttribute('[data-chart="pattern-rate"]', "data-total"), "40");
    const examples = await page.$$eval('[data-testid="examples"] li', (li) => li.map((l) => l.textContent));
    assert.ok(examples.length > 0 && examples.every((e) => e.startsWith("payment provider timed out after")), `${examples}`);
    const lines = Number(await page.getAttribute('[data-testid="pattern-logs"]', "data-count"));
    assert.ok(lines > 0 && lines <= 40, `newest lines: ${lines}`);
    await page.screenshot({ path: path.join(outDir, "screenshot-pattern.png"), fullPage: true });

    await page.click('[data-testid="tail-link"]');
    await page.waitForSelector('[data-testid="filter-pattern"]');
    await waitFor("the tail with the pattern's 40 lines", async () => {
      const messages = await page.$$eval(".logrow .logmsg", (ms) => ms.map((m) => m.textContent));
      return messages.length === 40 && messages.every((m) => m.startsWith("payment provider timed out after"));
    });
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  test("a burst's anomaly page lists the pattern that grew, linking to it", async () => {
    const burst = await waitFor(
      "checkout's burst with its explanation",
      async () =>
        (await up.getJson("/api/anomalies?service=checkout&kind=burst")).items.find((a) => a.explanation?.length > 0),
      30_000,
    ).catch((e) => {
      throw new Error(`${e.message}\nserver log:\n${up?.log()}`);
    });
    const top = burst.explanation[0];
    assert.equal(top.template, TIMEOUT, JSON.stringify(burst.explanation));

    const { page, problems } = await newPage();
    await page.goto(`${base}/#/anomalies/${burst.id}`);
    await page.waitForSelector('[data-testid="pattern-changes"] .pchange');
    const changes = await page.$$eval(".pchange", (trs) =>
      trs.map((tr) => ({
        template: tr.querySelector('[data-testid="template"]').textContent,
        during: Number(tr.querySelector('[data-testid="during"]').textContent.replace(/,/g, "")),
        isNew: tr.dataset.new === "true",
        href: tr.querySelector("a").getAttribute("href"),
      })),
    );
    assert.equal(changes.length, burst.explanation.length);
    assert.equal(changes[0].template, TIMEOUT);
    assert.equal(changes[0].during, top.during);
    assert.ok(top.during > 0 && top.during <= 40, `${top.during}`);
    assert.equal(changes[0].isNew, top.new);
    assert.equal(changes[0].href, `#/patterns/${top.pattern}`);
    const shares = await page.$$eval('.pchange [data-testid="share"]', (tds) => tds.map((t) => t.textContent));
    assert.ok(shares.every((s) => /^\d+(\.\d)?%$/.test(s)), `shares: ${shares}`);
    const summed = shares.reduce((n, s) => n + Number.parseFloat(s), 0);
    assert.ok(summed <= 100 + shares.length, `shares of one window's lines add up to at most 100%: ${shares}`);
    await page.screenshot({ path: path.join(outDir, "screenshot-anomaly-patterns.png"), fullPage: true });

    await page.click(".pchange a");
    await page.waitForSelector('[data-testid="pattern-detail"]');
    assert.equal(await page.innerText('h1 [data-testid="template"]'), TIMEOUT);
    assert.deepEqual(problems, []);
    await page.context().close();
  });
});

process.on("exit", () => {
  if (process.exitCode && up) process.stderr.write(`server log:\n${up?.log()}\n`);
});
