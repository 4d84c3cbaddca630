// Single sign-on in a real headless Chromium (Debian's), driven by playwright-core: a person
// signs in to the web interface through the organisation's identity provider (a real
// oidc-provider), the session her sign-in starts reads but changes nothing, signing out ends
// it in the ledger (a copy of the cookie stops working too), and a person no person rule
// admits is sent back to the sign-in page with the reason. Run by
// crates/andon/tests/cli/sso_browser.rs, which starts the server with --sso-issuer, the
// provider with this server's callback registered, the issuer and a person rule; it fails on
// the first broken expectation, with the navigations it saw.
//
// Environment: ANDON_URL (the server as the provider sends people back to it, i.e. its
// --public-url), ANDON_PROVIDER_URL (the provider's issuer; optional), SCREENSHOTS (a
// directory), BROWSER_DEPS (where .ci/browser.sh installed playwright-core), CHROMIUM.

import { createRequire } from "node:module";
import { mkdirSync } from "node:fs";
import assert from "node:assert/strict";

const require = createRequire(`${process.env.BROWSER_DEPS}/node_modules/`);
const { chromium } = require("playwright-core");

const url = process.env.ANDON_URL.replace(/\/$/, "");
const andon = new URL(url).origin;
const provider = process.env.ANDON_PROVIDER_URL ? new URL(process.env.ANDON_PROVIDER_URL).origin : null;
const shots = process.env.SCREENSHOTS;
mkdirSync(shots, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox"],
});

// Every top-level navigation (redirects included) and every failed response, for the
// message when an expectation breaks.
const trail = [];
function watch(page, who) {
  page.on("response", async (r) => {
    const line = `${who}: ${r.request().method()} ${r.url()} -> ${r.status()}`;
    if (r.request().isNavigationRequest() && r.frame() === page.mainFrame()) {
      const at = trail.push(line) - 1;
      // Which cookies each step sets (and with which SameSite), and which it was sent.
      const set = ((await r.headerValue("set-cookie").catch(() => null)) || "").split("\n").filter(Boolean);
      const sent = ((await r.request().headerValue("cookie").catch(() => null)) || "").split(/;\s*/).filter(Boolean);
      const names = (cs) => cs.map((c) => c.split("=")[0]).join(", ");
      const attrs = (c) => c.split(";").slice(1).map((a) => a.trim()).filter((a) => /^samesite|^path/i.test(a)).join("; ");
      trail[at] += `${sent.length ? ` [sent ${names(sent)}]` : ""}${set.length ? ` [sets ${set.map((c) => `${c.split("=")[0]} (${attrs(c)})`).join(", ")}]` : ""}`;
    } else if (r.status() >= 400) {
      trail.push(line);
    }
  });
}

let current = null;
async function shot(page, name) {
  await page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
}

/** Signs in at the provider as `sub` from Andon's sign-in page, and waits to be back at Andon. */
async function signInAtProvider(page, sub) {
  await page.goto(`${url}/ui/sign-in`);
  const link = page.locator("a#sso");
  assert.equal(await link.count(), 1, "the sign-in page offers the identity provider (a#sso)");
  assert.equal((await link.innerText()).trim(), "Sign in with your identity provider");
  await link.click();
  await page.waitForURL((u) => u.origin !== andon, { timeout: 15000 }).catch(() => {
    throw new Error(`clicking #sso did not leave Andon: still at ${page.url()}`);
  });
  if (provider) assert.equal(new URL(page.url()).origin, provider, `#sso leads to the provider, not ${page.url()}`);
  const form = page.locator("form#login-form");
  await form.waitFor({ timeout: 15000 });
  assert.match(new URL(page.url()).pathname, /^\/interaction\//, "the provider's sign-in form");
  await form.locator("input[name=login]").fill(sub);
  await form.locator("input[name=password]").fill("any password");
  await Promise.all([
    page.waitForURL((u) => u.origin === andon, { timeout: 15000, waitUntil: "load" }),
    form.locator("button#sign-in").click(),
  ]).catch((e) => {
    throw new Error(`signing in as ${sub} at the provider did not lead back to Andon (at ${page.url()}): ${e.message}`);
  });
}

const seen = {};
// Broken expectations the walk can go on after; any other ends it at once.
const failures = [];
try {
  // (a) Alice signs in at her identity provider and lands on the overview, signed in.
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  current = page;
  watch(page, "alice");
  await signInAtProvider(page, "alice");
  // The callback answers a page that moves on by itself (a same-site navigation, so the
  // Strict session cookie goes along): wait for it to.
  if (new URL(page.url()).pathname === "/ui/sso/callback") {
    await page.waitForURL((u) => u.pathname !== "/ui/sso/callback", { timeout: 15000 }).catch(() => {});
  }
  seen.alice_landed_at = page.url();
  const landed = new URL(page.url());
  if (landed.pathname === "/ui/sign-in" && (await context.cookies(andon)).some((c) => c.name === "andon_session")) {
    // The session was started, but the browser did not send it on the callback's redirect:
    // a broken expectation, recorded; the rest of the walk goes on from the overview opened
    // directly (as the person would, puzzled), so one failure does not hide the others.
    failures.push(
      `back from the provider, alice lands on ${page.url()} (the sign-in page), not on the overview /ui/ signed in: ` +
        `the callback set andon_session (SameSite=Strict) and redirected to /ui/, but the browser did not send that cookie ` +
        `on the redirect, because the navigation began at the provider, another site (see the navigations below); ` +
        `opened directly, /ui/ then shows her signed in`,
    );
    await shot(page, "sso-00-landed-on-sign-in");
    await page.goto(`${url}/ui/`);
  } else {
    assert.equal(
      landed.pathname + landed.search,
      "/ui/",
      `back from the provider, alice should be on the overview /ui/, signed in; she is at ${page.url()}: ` +
        JSON.stringify((await page.locator("body").innerText()).slice(0, 300)),
    );
  }
  const who = (await page.locator("header .who span").innerText()).trim();
  assert.equal(who, "alice (approver)", "the header names the viewer and her role");
  seen.viewer = who;
  const cookies = await context.cookies(andon);
  const session = cookies.find((c) => c.name === "andon_session");
  assert.ok(session, `a session cookie: ${JSON.stringify(cookies.map((c) => c.name))}`);
  assert.ok(session.httpOnly && session.sameSite === "Strict", JSON.stringify(session));
  assert.ok(!cookies.some((c) => c.name === "andon_sso"), "the sign-in in progress is dropped once done");
  assert.equal(await page.evaluate(() => document.cookie), "", "no script can read the session");
  await shot(page, "sso-01-signed-in");

  // (b) The session reads everything she may read, and changes nothing: a script on an
  // Andon page (the pages' CSP forbids any script fetching; a context of its own bypasses
  // it, with the same cookies) reads /v1/whoami but cannot request access.
  const probeContext = await browser.newContext({ bypassCSP: true, storageState: await context.storageState() });
  const probe = await probeContext.newPage();
  watch(probe, "probe");
  await probe.goto(`${url}/ui/`);
  const call = (method, path, body) =>
    probe.evaluate(
      async ([method, path, body]) => {
        const r = await fetch(path, {
          method,
          credentials: "same-origin",
          headers: body ? { "content-type": "application/json" } : {},
          body: body ? JSON.stringify(body) : undefined,
        });
        const text = await r.text();
        let json = null;
        try {
          json = JSON.parse(text);
        } catch {}
        return { status: r.status, json, text: text.slice(0, 300) };
      },
      [method, path, body],
    );
  const whoami = await call("GET", "/v1/whoami");
  assert.equal(whoami.status, 200, `the session reads: GET /v1/whoami ${whoami.status} ${whoami.text}`);
  assert.equal(whoami.json?.name, "alice", whoami.text);
  const request = {
    application: "pay",
    environment: "production",
    level: "read",
    reason: "INC-7 payments stuck",
    ticket: "INC-7",
    minutes: 30,
  };
  const write = await call("POST", "/v1/access/requests", request);
  assert.equal(write.status, 401, `the session cookie must not change anything: POST /v1/access/requests answered ${write.status} ${write.text}`);
  assert.equal(write.json?.error?.code, "unauthorized", write.text);
  seen.write_with_cookie = `${write.status} ${write.json?.error?.code}`;

  // (c) Signing out: back to the sign-in page; the overview sends her there again; and her
  // session is revoked, not only forgotten by this browser (the copy in the probe is dead).
  const signOut = page.locator('header .who form[action="/ui/sign-out"] button[type=submit]');
  assert.equal(await signOut.count(), 1, "a sign-out button in the header");
  await Promise.all([page.waitForURL((u) => u.pathname === "/ui/sign-in", { timeout: 15000 }), signOut.click()]).catch((e) => {
    throw new Error(`signing out did not lead to the sign-in page (at ${page.url()}): ${e.message}`);
  });
  seen.signed_out_to = page.url();
  assert.ok(!(await context.cookies(andon)).some((c) => c.name === "andon_session"), "the session cookie is dropped");
  await page.goto(`${url}/ui/`);
  assert.equal(page.url(), `${url}/ui/sign-in?next=%2Fui%2F`, "signed out, the overview sends her to sign in");
  seen.after_sign_out = page.url();
  await shot(page, "sso-02-signed-out");
  const dead = await call("GET", "/v1/whoami");
  assert.equal(dead.status, 401, `a copy of the session cookie still reads after sign-out: ${dead.status} ${dead.text}`);
  seen.copied_cookie_after_sign_out = dead.status;
  await probeContext.close();

  // (d) Bob has no group a person rule admits: back on the sign-in page, told why, with no
  // session.
  const bobContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const bobPage = await bobContext.newPage();
  current = bobPage;
  watch(bobPage, "bob");
  await signInAtProvider(bobPage, "bob");
  seen.bob_landed_at = bobPage.url();
  assert.equal(new URL(bobPage.url()).pathname, "/ui/sso/callback", `bob is answered at the callback, not ${bobPage.url()}`);
  assert.equal(await bobPage.locator("h1").innerText(), "Sign in to Andon", "bob sees the sign-in page");
  const alert = await bobPage.getByRole("alert").innerText();
  assert.match(alert, /no_person_rule/, `bob is told why: ${alert}`);
  seen.bob_error = alert;
  assert.equal(await bobPage.locator("a#sso").count(), 1, "and can try again");
  assert.ok(!(await bobContext.cookies(andon)).some((c) => c.name === "andon_session"), "bob has no session");
  await shot(bobPage, "sso-03-refused");
  await bobPage.goto(`${url}/ui/`);
  assert.match(bobPage.url(), /\/ui\/sign-in\?next=/, "bob is not signed in");
  await bobContext.close();
  await context.close();
} catch (e) {
  if (current) await shot(current, "sso-failed").catch(() => {});
  const earlier = failures.length ? `\nand before it:\n- ${failures.join("\n- ")}` : "";
  console.error(`sso.mjs: ${e.message}${earlier}\nseen so far: ${JSON.stringify(seen)}\nnavigations:\n  ${trail.join("\n  ")}`);
  await browser.close();
  process.exit(1);
}
await browser.close();
if (failures.length) {
  console.error(`sso.mjs: ${failures.length} broken expectation(s):\n- ${failures.join("\n- ")}\nseen: ${JSON.stringify(seen)}\nnavigations:\n  ${trail.join("\n  ")}`);
  process.exit(1);
}
console.log(JSON.stringify({ ok: true, ...seen, screenshots: shots }));
