// End to end: the Incidents pages of the built dashboard (site/dist) in real
// headless Chromium against a real `anomalog up`, fed over POST /ingest with a
// payments error burst and checkout errors naming payments (one cause).
//
// Environment: ANOMALOG_BIN (default target/debug/anomalog), CHROMIUM
// (default /usr/bin/chromium).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { launchBrowser, postEvents, startUp, waitFor } from "./helpers.mjs";


let up;
let base;
let browser;
const problems = [];

/** 40 payments errors 90 s ago, then 40 checkout errors naming payments 60 s ago. */
function cascade(now) {
  const events = [];
  for (let i = 0; i < 40; i++) {
    events.push({
      ts: new Date(now - 90_000 + i * 200).toISOString(),
      service: "payments",
      level: "ERROR",
      message: `card processor timeout: gateway answered 504 (order ${7000 + i})`,
    });
    events.push({
      ts: new Date(now - 60_000 + i * 200).toISOString(),
      service: "checkout",
      level: "ERROR",
      message: `payments returned 503 for order ${8000 + i}`,
    });
  }
  return events;
}

before(async () => {
  up = await startUp({ name: "incidents" });
  base = up.base;
  await postEvents(base, cascade(Date.now()));
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await up?.stop();
});

test("the cascade is one incident, listed and shown with its root guess, timeline and anomalies", async () => {
  const incident = await waitFor(
    "one incident holding payments and checkout",
    async () => {
      const { items } = await up.getJson("/api/incidents");
      return items.length === 1 && items[0].services.length === 2 ? items[0] : null;
    },
    40_000,
  ).catch((e) => {
    throw new Error(`${e.message}\nserver log:\n${up?.log()}`);
  });
  assert.deepEqual(incident.services, ["checkout", "payments"]);
  assert.equal(incident.root.service, "payments");

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`console: ${msg.text()}`);
  });

  await page.goto(`${base}/#/incidents`);
  const row = page.locator(`[data-incident-id="${incident.id}"]`);
  await row.waitFor({ timeout: 15_000 });
  assert.match(await row.innerText(), /checkout, payments/);
  assert.equal(await page.locator("[data-incident-id]").count(), 1);
  assert.equal(await page.getByRole("heading", { level: 1, name: "Incidents" }).count(), 1);

  await row.click();
  await page.locator('[data-testid="incident"]').waitFor({ timeout: 15_000 });
  const root = await page.locator('[data-testid="root-guess"]').innerText();
  assert.match(root, /^payments: .*checkout errors name payments/);
  const anomalyLinks = page.locator('[data-testid="incident"] a.arow[data-anomaly-id]');
  assert.equal(await anomalyLinks.count(), incident.anomaly_ids.length);
  const timeline = page.locator('[data-testid="timeline"] li');
  assert.equal(await timeline.count(), incident.timeline.length);

  // An anomaly of the incident links to its own detail page.
  const first = await anomalyLinks.first().getAttribute("data-anomaly-id");
  await anomalyLinks.first().click();
  await page.waitForURL(`**/#/anomalies/${first}`);
  assert.deepEqual(problems, []);
  await context.close();
});
