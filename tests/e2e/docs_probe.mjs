// Load the API docs page in headless Chromium (the system's /usr/bin/chromium, driven by
// playwright-core) and print what a test needs as JSON: console and page errors, failed
// requests, the operations rendered, and a screenshot.
//
// usage: node docs_probe.mjs URL SCREENSHOT USER_DATA_DIR
import { chromium } from "playwright-core";

const [url, screenshot, userDataDir] = process.argv.slice(2);
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
  viewport: { width: 1280, height: 900 },
});
const result = { consoleErrors: [], pageErrors: [], failedRequests: [] };
try {
  const page = context.pages()[0] || (await context.newPage());
  page.on("console", (m) => { if (m.type() === "error") result.consoleErrors.push(m.text()); });
  page.on("pageerror", (e) => result.pageErrors.push(String(e)));
  page.on("requestfailed", (r) => result.failedRequests.push(r.url() + " " + (r.failure() || {}).errorText));
  page.on("response", (r) => { if (r.status() >= 400) result.failedRequests.push(r.url() + " " + r.status()); });
  await page.goto(url, { waitUntil: "load" });
  await page.waitForSelector("body[data-loaded]", { timeout: 30000 });
  result.loaded = await page.evaluate(() => document.body.dataset.loaded);
  result.operations = await page.$$eval("section[data-operation]", (nodes) => nodes.map((n) => n.dataset.operation));
  result.historyText = await page.$eval("#history_get", (n) => n.textContent).catch(() => null);
  result.requests = await page.evaluate(() => performance.getEntriesByType("resource").map((e) => e.name));
  await page.screenshot({ path: screenshot, fullPage: false });
} finally {
  await context.close();
}
process.stdout.write(JSON.stringify(result) + "\n");
