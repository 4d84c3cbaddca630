// The web interface in a real headless Chromium (Debian's), driven by playwright-core:
// an auditor signs in, searches evidence, opens a deployment's trace, exports a CSV, walks
// every page, checks an inclusion proof, and every page passes axe-core's WCAG A/AA rules.
// A screenshot of each page is saved. Run by crates/andon/tests/cli/browser.rs, which starts
// the server and fills it with the demo; it fails on the first broken expectation.
//
// Environment: ANDON_URL, ANDON_AUDITOR_TOKEN, SCREENSHOTS (a directory), BROWSER_DEPS
// (where .ci/browser.sh installed playwright-core and axe-core), CHROMIUM (the browser).

import { createRequire } from "node:module";
import { mkdirSync, readFileSync } from "node:fs";
import assert from "node:assert/strict";

const require = createRequire(`${process.env.BROWSER_DEPS}/node_modules/`);
const { chromium } = require("playwright-core");
const axePath = require.resolve("axe-core/axe.min.js");

const url = process.env.ANDON_URL;
const token = process.env.ANDON_AUDITOR_TOKEN;
const shots = process.env.SCREENSHOTS;
mkdirSync(shots, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox"],
});

// The walk happens with JavaScript off: every page must work without it.
const context = await browser.newContext({ javaScriptEnabled: false, acceptDownloads: true, viewport: { width: 1280, height: 900 } });
const page = await context.newPage();
const visited = [];
const errors = [];
page.on("response", (r) => {
  if (r.status() >= 500) errors.push(`${r.status()} ${r.url()}`);
});

async function shot(name) {
  visited.push(page.url());
  await page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
}

// Signed out, a page sends us to the sign-in form, and back after.
await page.goto(`${url}/ui/deployments`);
assert.match(page.url(), /\/ui\/sign-in\?next=/);
await shot("01-sign-in");
await page.getByLabel("API token").fill("andon_not-a-real-token");
await page.getByRole("button", { name: "Sign in" }).click();
assert.equal(await page.getByRole("alert").innerText(), "That token is not valid.");
await page.getByLabel("API token").fill(token);
await page.getByRole("button", { name: "Sign in" }).click();
assert.match(page.url(), /\/ui\/deployments$/, "back where we were going");
const cookies = await context.cookies();
const session = cookies.find((c) => c.name === "andon_session");
assert.ok(session && session.httpOnly && session.sameSite === "Strict", JSON.stringify(cookies));
assert.ok(!session.value.includes(token), "the token itself is not in the cookie");

// The overview: every application with its last production deployment and the four keys.
await page.goto(`${url}/ui/`);
const cards = page.locator("section.card");
assert.ok((await cards.count()) >= 4, "an application card each");
await assert.doesNotReject(page.getByText("Deployment frequency").first().waitFor());
assert.match(await page.locator("header .who").innerText(), /auditor/);
await shot("02-overview");

// Evidence search: the payments application's JUnit reports.
await page.goto(`${url}/ui/evidence`);
const payments = (await page.locator("#f-app option").allTextContents()).find((t) => t.startsWith("payments-"));
assert.ok(payments, "the demo's payments application is offered");
// The application with a quarter of delivery history, for the charts.
const checkout = (await page.locator("#f-app option").allTextContents()).find((t) => t.startsWith("checkout-"));
await page.getByLabel("Application", { exact: true }).selectOption(payments);
await page.getByLabel("Type", { exact: true }).selectOption("https://andon.dev/attestations/junit/v1");
await page.getByRole("button", { name: "Search" }).click();
assert.match(page.url(), /predicate_type=https%3A%2F%2Fandon.dev%2Fattestations%2Fjunit%2Fv1/);
const rows = page.locator("table tbody tr");
assert.ok((await rows.count()) > 0, "JUnit evidence found");
for (const kind of await rows.locator("td:nth-child(4)").allTextContents()) assert.equal(kind, "junit");
await shot("03-evidence-search");

// The search exports as CSV: the API's own answer, one line per record plus the header.
const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "CSV" }).click()]);
const csv = readFileSync(await download.path(), "utf8");
const lines = csv.trim().split("\r\n");
assert.match(lines[0], /^accepted_at,/);
assert.equal(lines.length - 1, await rows.count(), "a CSV row per record on the page");
assert.ok(lines.slice(1).every((l) => l.includes("/junit/v1")), csv.slice(0, 500));

// One record: its ledger index, and its inclusion proof checked on the ledger page.
await rows.first().getByRole("link", { name: /open/ }).click();
assert.match(page.url(), /\/ui\/evidence\/[0-9a-f]{64}$/);
await assert.doesNotReject(page.getByText("https://andon.dev/attestations/junit/v1").first().waitFor());
await shot("04-evidence-record");
// Its raw document: the DSSE envelope as the pipeline signed it.
const record = page.url();
await page.getByRole("link", { name: "Raw document (DSSE envelope)" }).click();
assert.match(await page.locator("body").innerText(), /"payloadType":\s*"application\/vnd.in-toto\+json"/);
await page.goto(record);
await page.getByRole("link", { name: "Check its inclusion proof" }).click();
await assert.doesNotReject(page.getByRole("status").getByText(/is included/).waitFor());
const fromPath = await page.locator("dt:text-is('Root from the path') + dd").innerText();
const inCheckpoint = await page.locator("dt:text-is('Root in the checkpoint') + dd").innerText();
assert.match(fromPath, /^[0-9a-f]{64}$/);
assert.equal(fromPath, inCheckpoint, "the path leads to the signed root");
await shot("05-ledger-inclusion");

// A production deployment's trace: decision with each control's verdict, artifact
// evidence, commits with their reviews, the change record.
await page.goto(`${url}/ui/deployments?application=${payments}`);
await shot("06-deployments");
// Sorted by a column header: when it happened, newest first; again for oldest first; the
// filter stays, and the column says how it is sorted.
const whenColumn = async () => (await page.locator("tbody tr td:nth-child(2)").allInnerTexts()).map((t) => t.replace(/\s/g, " "));
await page.getByRole("link", { name: "When", exact: true }).click();
assert.match(page.url(), /sort=deployed/);
assert.match(page.url(), new RegExp(`application=${payments}`));
assert.equal(await page.locator("th[aria-sort]").getAttribute("aria-sort"), "descending");
const newest = await whenColumn();
assert.ok(newest.length > 2);
assert.deepEqual(newest, [...newest].sort().reverse(), "newest first");
await page.getByRole("link", { name: "When", exact: true }).click();
assert.equal(await page.locator("th[aria-sort]").getAttribute("aria-sort"), "ascending");
const oldest = await whenColumn();
assert.deepEqual(oldest, [...oldest].sort(), "oldest first");
assert.ok(oldest[0] <= newest[newest.length - 1], "the oldest page starts no later than the newest ends");
assert.match(await page.locator("caption").innerText(), /first deployed first/);
await shot("06-deployments-sorted");
await page.goto(`${url}/ui/deployments?application=${payments}`);
const gated = page.locator("tbody tr", { has: page.locator("span.pass", { hasText: "gated" }) }).filter({ hasText: "production" });
await gated.first().locator("td:first-child a").click();
assert.match(page.url(), /\/ui\/deployments\/D-/);
await assert.doesNotReject(page.getByRole("heading", { name: "Gate decision" }).waitFor());
const verdicts = await page.locator("#decision ~ table").first().locator("tbody tr td:nth-child(2)").allTextContents();
assert.ok(verdicts.length >= 5 && verdicts.every((v) => ["pass", "fail", "missing", "waived", "not_applicable"].includes(v)), verdicts.join());
await assert.doesNotReject(page.getByText("Pull request #").first().waitFor());
await assert.doesNotReject(page.getByText(/independently approved by/).first().waitFor());
await assert.doesNotReject(page.getByRole("heading", { name: "Change record" }).waitFor());
await shot("07-deployment-trace");

// The organisation's Risk Control Matrix is the default; an application's is a filter of it.
await page.goto(`${url}/ui/controls`);
assert.match(await page.locator("main").innerText(), /The organisation: every application under its own policy/);
assert.ok((await page.locator("tbody tr").count()) >= 5);
await shot("08-controls-organisation");

// The Risk Control Matrix, and one control's cases.
await page.goto(`${url}/ui/controls?application=${payments}`);
const controls = page.locator("tbody tr");
assert.ok((await controls.count()) >= 5);
await shot("08-controls");
await controls.first().locator("td:first-child a").click();
assert.match(page.url(), /\/ui\/controls\/[a-z-]+\?application=/);
assert.ok((await page.locator("tbody tr").count()) > 0, "the decisions behind the figures");
await shot("09-control-cases");

// The other pages render with their data.
for (const [path, name, expect] of [
  ["/ui/changes", "10-changes", /CHG-/],
  ["/ui/access", "11-access", /Standing-access register/],
  ["/ui/alerts", "12-alerts", /unauthorized_change|emergency_review_overdue/],
  [`/ui/metrics?application=${checkout}`, "13-metrics", /Production deployments per week/],
  ["/ui/ledger", "14-ledger", /Current checkpoint/],
  ["/ui/vulnerabilities?q=CVE-2022-40897", "16-vulnerabilities", /CVE-2022-40897[\s\S]*vex not affected/],
]) {
  await page.goto(`${url}${path}`);
  assert.match(await page.locator("main").innerText(), expect, path);
  await shot(name);
}
assert.doesNotMatch(await page.locator("main").innerText(), /FAILED/, "the ledger's self-check");
assert.ok((await page.goto(`${url}/ui/metrics?application=${checkout}`)).ok());
assert.equal(await page.locator("svg[role=img]").count(), 6, "six charts: the four keys, access debt, pass rates");
assert.ok((await page.locator("svg line[stroke-dasharray]").count()) > 0, "band boundaries drawn");
// The changes, filtered by application.
await page.goto(`${url}/ui/changes`);
const allChanges = await page.locator("tbody tr").count();
await page.locator("#f-app").selectOption(payments);
await page.getByRole("button", { name: "Show" }).click();
assert.match(page.url(), /\/ui\/changes\?application=payments-/);
const some = await page.locator("tbody tr").count();
assert.ok(some > 0 && some < allChanges, `filtered: ${some} of ${allChanges}`);
for (const cell of await page.locator("tbody tr td:nth-child(3)").allInnerTexts()) assert.equal(cell, payments);
await page.goto(`${url}/ui/changes`);
await page.locator("tbody tr td:first-child a").first().click();
await assert.doesNotReject(page.getByRole("heading", { name: "Request for change" }).first().waitFor());
// The RFC is a document, not Markdown in a box, and prints as the document alone.
assert.equal(await page.locator("article.document h1").count(), 1, "the RFC rendered as a document");
assert.equal(await page.locator("main pre:not(article.document pre)").count(), 0, "no raw Markdown box");
assert.doesNotMatch(await page.locator("article.document").innerText(), /^#+ /m, "no Markdown markup shown");
await shot("15-change-rfc");
await page.emulateMedia({ media: "print" });
assert.ok(!(await page.locator("header.top").isVisible()), "printed: no navigation");
assert.ok(!(await page.locator("dl.facts").isVisible()), "printed: the RFC alone");
assert.ok(await page.locator("article.document h1").isVisible());
await page.pdf({ path: `${shots}/15-change-rfc.pdf`, format: "A4" });
await page.emulateMedia({ media: "screen" });

// Every page fits the window on a laptop and on a phone: nothing runs past the right edge
// (a table too wide for a phone scrolls inside itself). Screenshots of each at phone size.
for (const [width, height, tag] of [[1400, 900, "wide"], [390, 844, "phone"]]) {
  await page.setViewportSize({ width, height });
  const wide = [];
  for (const u of [...new Set(visited)].filter((u) => !u.includes("sign-in"))) {
    await page.goto(u);
    const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (over > 1) wide.push(`${u}: ${over}px too wide`);
    // No column squeezed until its words break: a word in a table cell (ids and digests
    // aside) stays on one line; a table too wide scrolls instead.
    const broken = await page.evaluate(() => {
      const found = [];
      for (const cell of document.querySelectorAll("main th, main td")) {
        const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
        while (walker.nextNode()) {
          const node = walker.currentNode;
          if (node.parentElement.closest("code, .mono")) continue;
          // Words of tokens short enough to fit any column (a URL or digest may break).
          for (const t of node.data.matchAll(/\S+/g)) {
            if (t[0].length > 24) continue;
            for (const m of t[0].matchAll(/(?<![A-Za-z0-9])[A-Za-z]{3,20}(?![A-Za-z0-9])/g)) {
              const r = document.createRange();
              r.setStart(node, t.index + m.index);
              r.setEnd(node, t.index + m.index + m[0].length);
              if ([...r.getClientRects()].filter((x) => x.width > 0).length > 1) found.push(`${m[0]} in ${cell.tagName.toLowerCase()}.${cell.className} "${t[0]}"`);
            }
          }
        }
      }
      return found;
    });
    if (broken.length) wide.push(`${u}: words broken across lines: ${broken.slice(0, 8).join(", ")}`);
  }
  assert.deepEqual(wide, [], `at ${width}x${height}:\n${wide.join("\n")}`);
  if (tag === "phone") {
    for (const [path, name] of [["/ui/alerts", "phone-alerts"], ["/ui/changes", "phone-changes"], [`/ui/metrics?application=${checkout}`, "phone-metrics"]]) {
      await page.goto(`${url}${path}`);
      await page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
    }
  }
}
await page.setViewportSize({ width: 1280, height: 900 });

// Keyboard: the first Tab reaches the skip link, which leads into the page.
await page.goto(`${url}/ui/`);
await page.keyboard.press("Tab");
assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Skip to content");

// Accessibility: axe-core's WCAG 2 A and AA rules on every page visited (scripts on for
// axe only, in a context of its own; the pages themselves have none).
const checker = await browser.newContext({ bypassCSP: true, storageState: await context.storageState() });
const probe = await checker.newPage();
const problems = [];
for (const u of [...new Set(visited)].filter((u) => !u.includes("sign-in"))) {
  await probe.goto(u);
  await probe.addScriptTag({ path: axePath });
  const result = await probe.evaluate(async () => await axe.run(document, { runOnly: ["wcag2a", "wcag2aa"] }));
  for (const v of result.violations) problems.push(`${u}: ${v.id} (${v.impact}) ${v.nodes.length}x: ${v.nodes[0].html.slice(0, 120)}`);
}
assert.deepEqual(problems, [], problems.join("\n"));

// Signing out ends the session.
await page.getByRole("button", { name: "Sign out" }).click();
await page.goto(`${url}/ui/alerts`);
assert.match(page.url(), /\/ui\/sign-in/);

assert.deepEqual(errors, [], "no server errors");
await browser.close();
console.log(`ok: ${visited.length} pages, screenshots in ${shots}`);
