// Load the dashboard in headless Chromium (the system's /usr/bin/chromium, driven by
// playwright-core), optionally click "Run audit", and print what a test needs as JSON:
// console errors, page errors, failed requests, the rendered data, and a screenshot path.
//
// usage: node dashboard_probe.mjs URL SCREENSHOT USER_DATA_DIR [--audit] [--refreshed]
// (--refreshed: wait until the page has auto-refreshed once, for a URL with ?refresh=N)
import { chromium } from "playwright-core";

const [url, screenshot, userDataDir, ...flags] = process.argv.slice(2);
const ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ARGS,
  viewport: { width: 1440, height: 1000 },
});
const result = { consoleErrors: [], pageErrors: [], failedRequests: [], dialogs: [] };
try {
  const page = context.pages()[0] || (await context.newPage());
  page.on("console", (m) => { if (m.type() === "error") result.consoleErrors.push(m.text()); });
  page.on("pageerror", (e) => result.pageErrors.push(String(e)));
  page.on("requestfailed", (r) => result.failedRequests.push(r.url() + " " + (r.failure() || {}).errorText));
  page.on("response", (r) => { if (r.status() >= 400) result.failedRequests.push(r.url() + " " + r.status()); });
  page.on("dialog", async (d) => { result.dialogs.push(d.message()); await d.dismiss(); });

  await page.goto(url, { waitUntil: "load" });
  await page.waitForSelector("body[data-loaded]", { timeout: 30000 });
  if (flags.includes("--audit")) {
    await page.click("#audit");
    await page.waitForFunction(() => document.querySelector("#findings table") !== null, null, { timeout: 60000 });
  }
  if (flags.includes("--refreshed")) {
    await page.waitForFunction(() => Number(document.body.dataset.loadsDone || 0) >= 2, null, { timeout: 60000 });
  }
  result.loaded = await page.evaluate(() => document.body.dataset.loaded);
  result.loads = await page.evaluate(() => Number(document.body.dataset.loadsDone || 0));
  const bars = (name) => page.$$eval(`svg[data-chart="${name}"] rect.bar`, (rects) =>
    rects.map((r) => ({ group: r.dataset.group, series: r.dataset.series, value: Number(r.dataset.value),
      height: Number(r.getAttribute("height")) })));
  result.auditBars = await bars("findings-per-audit");
  result.actionBars = await bars("actions-per-day");
  result.rotations = await page.$$eval("#rotations tbody tr", (rows) =>
    rows.map((r) => [...r.cells].map((c) => c.innerText.trim())));
  result.fixLinks = await page.$$eval("#findings a.fix", (links) => links.map((a) => a.href));
  result.error = await page.textContent("#error");
  result.registries = await page.$$eval("section[data-registry]", (nodes) => nodes.map((n) => n.dataset.registry));
  result.credentialSets = await page.$$eval("section[data-registry] tbody tr", (rows) =>
    rows.map((r) => [r.closest("section").dataset.registry, ...[...r.cells].map((c) => c.innerText.trim())]));
  result.timeline = await page.$$eval(".tl-row", (rows) =>
    rows.map((r) => ({ secret: r.dataset.secret, text: r.innerText })));
  result.findings = await page.$$eval("#findings tbody tr", (rows) => rows.map((r) => r.innerText));
  result.actions = await page.$$eval("#actions tbody tr", (rows) => rows.map((r) => r.innerText));
  result.tiles = await page.$$eval(".tile", (tiles) => tiles.map((t) => t.innerText));
  result.injected = await page.evaluate(() => ({
    flag: window.__xss === undefined ? null : String(window.__xss),
    images: document.querySelectorAll("#actions img, #findings img").length,
  }));
  await page.screenshot({ path: screenshot, fullPage: true });
  result.screenshot = screenshot;
} finally {
  await context.close();
}
process.stdout.write(JSON.stringify(result) + "\n");
