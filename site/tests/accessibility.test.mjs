// Accessibility: every dashboard page, with data, passes axe-core with no
// serious or critical violation, at laptop and phone sizes, in both themes.
//
// The built dashboard (site/dist) in headless Chromium against a real
// `anomalog up` fed over POST /ingest; axe-core (npm, pinned in
// package.json) is injected into each page. A page other developers add is
// covered by appending it to PAGES. Environment as dashboard.test.mjs:
//   ANOMALOG_BIN  the anomalog binary (default target/debug/anomalog)
//   CHROMIUM      the browser (default /usr/bin/chromium)

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { launchBrowser, postEvents, startUp, waitFor } from "./helpers.mjs";

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

const VIEWPORTS = {
  laptop: { width: 1366, height: 768 },
  phone: { width: 390, height: 844 },
};
const SCHEMES = ["dark", "light"];

/**
 * Every page: its URL fragment (a function of the data, for detail pages) and
 * a selector that is present once its data is drawn.
 */
const PAGES = [
  { name: "overview", hash: () => "#/", ready: '[data-chart="volume"] rect.bar' },
  { name: "tail", hash: () => "#/tail", ready: ".logrow" },
  { name: "anomalies", hash: () => "#/anomalies", ready: ".arow, .anomalyrow, [data-anomaly-id]" },
  {
    name: "anomaly detail",
    hash: (data) => `#/anomalies/${encodeURIComponent(data.anomalyId)}`,
    ready: "h1",
  },
  { name: "incidents", hash: () => "#/incidents", ready: "[data-incident-id]" },
  {
    name: "incident",
    hash: (data) => `#/incidents/${encodeURIComponent(data.incidentId)}`,
    ready: '[data-testid="incident"]',
  },
  { name: "patterns", hash: () => "#/patterns", ready: ".prow" },
  {
    name: "pattern",
    hash: (data) => `#/patterns/${encodeURIComponent(data.patternId)}`,
    ready: '[data-testid="pattern-detail"]',
  },
];

/** Steady traffic of three services over ten minutes, and a burst of errors. */
function dataset(now) {
  const levels = ["DEBUG", "INFO", "INFO", "INFO", "WARN", "ERROR", "TRACE"];
  const services = ["checkout", "search", "payments"];
  const events = [];
  for (let i = 0; i < 360; i++) {
    events.push({
      ts: new Date(now - 600_000 + i * 1_600).toISOString(),
      service: services[i % 3],
      host: `host-${i % 2}`,
      level: levels[i % levels.length],
      message: `request ${i} served in ${(i * 7) % 300}ms`,
    });
  }
  for (let i = 0; i < 40; i++) {
    events.push({
      ts: new Date(now - 90_000 + i * 200).toISOString(),
      service: "payments",
      host: "pay-1",
      level: "ERROR",
      message: `card processor timeout (order ${7000 + i})`,
    });
  }
  events.push({
    ts: new Date(now - 2_000).toISOString(),
    service: "search",
    level: "FATAL",
    message: "index shard 7 unreadable",
  });
  return events;
}

let up;
let base;
let browser;
const data = {};

before(async () => {
  up = await startUp({ name: "a11y" });
  base = up.base;
  const events = dataset(Date.now());
  await postEvents(base, events);
  await waitFor(
    "every posted event in the rollups",
    async () => (await up.getJson("/api/stats/breakdown?from=now-1h")).total === events.length,
  );
  data.anomalyId = await waitFor("an anomaly", async () => (await up.getJson("/api/anomalies")).items[0]?.id);
  data.incidentId = await waitFor("an incident", async () => (await up.getJson("/api/incidents")).items[0]?.id);
  data.patternId = await waitFor("a pattern", async () => (await up.getJson("/api/patterns")).items[0]?.id);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await up?.stop();
});

/** The serious and critical violations axe finds in the page as it is now. */
async function violations(page) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    axe.run(document, { resultTypes: ["violations"] }),
  );
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({
      rule: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.length,
      first: v.nodes.slice(0, 3).map((n) => `${n.target.join(" ")}: ${n.failureSummary?.split("\n")[1] ?? ""}`),
    }));
}

describe("accessibility (axe-core)", { timeout: 300_000 }, () => {
  for (const [size, viewport] of Object.entries(VIEWPORTS)) {
    for (const scheme of SCHEMES) {
      test(`every page at ${size} size (${viewport.width}x${viewport.height}), ${scheme} theme`, async () => {
        const context = await browser.newContext({ viewport, colorScheme: scheme, deviceScaleFactor: 1 });
        await context.addInitScript((theme) => {
          localStorage.setItem("anomalog.theme", theme);
          localStorage.setItem("anomalog.refresh", "0");
        }, scheme);
        const page = await context.newPage();
        const found = {};
        for (const p of PAGES) {
          await page.goto(`${base}/${p.hash(data)}`);
          await page.waitForSelector(p.ready, { timeout: 20_000 });
          // Charts and lists fade in; let their final colours settle.
          await page.waitForLoadState("networkidle");
          const headings = await page.$$eval("h1", (hs) => hs.map((h) => h.textContent.trim()));
          assert.equal(headings.length, 1, `${p.name}: one h1 (found ${JSON.stringify(headings)})`);
          const v = await violations(page);
          if (v.length > 0) found[p.name] = v;
        }
        await context.close();
        assert.deepEqual(found, {}, `serious or critical axe violations:\n${JSON.stringify(found, null, 2)}`);
      });
    }
  }
});

process.on("exit", () => {
  if (process.exitCode && up) process.stderr.write(`server log:\n${up?.log()}\n`);
});
