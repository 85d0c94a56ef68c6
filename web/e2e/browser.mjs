// Headless Chromium through playwright-core: Debian's /usr/bin/chromium (test tools'
// own browser downloads cannot work here), with the flags that keep it off the network.
import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";

export const BASE_URL = process.env.EDU_WEB_URL ?? "http://127.0.0.1:3000";
export const ARTIFACTS = process.env.EDU_WEB_ARTIFACTS ?? path.join(import.meta.dirname, "artifacts");
mkdirSync(ARTIFACTS, { recursive: true });

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--disable-dev-shm-usage"],
  });
}

/** A fresh browser context (its own localStorage: its own session) that fails the test on
 *  any page error and records console errors. */
export async function newPage(browser) {
  const context = await browser.newContext({ baseURL: BASE_URL, viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(20_000);
  const page = await context.newPage();
  page.pageErrors = [];
  page.on("pageerror", (err) => page.pageErrors.push(err));
  return page;
}

export async function screenshot(page, name) {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

export function unique(prefix) {
  return `${prefix}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

export const PASSWORD = "browser-test-password-1";

export async function register(page, { name, email, role }) {
  await page.goto("/register/");
  await page.getByLabel(role === "teacher" ? "teach (teacher)" : "learn (student)").check();
  await page.getByLabel("Full name").fill(name);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel(/^Password/).fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByLabel("Signed in as").filter({ hasText: name }).waitFor();
}

export async function login(page, email, password = PASSWORD) {
  await page.goto("/login/");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("button", { name: "Log out" }).waitFor();
}

const AXE = path.join(import.meta.dirname, "..", "node_modules", "axe-core", "axe.min.js");

/** axe-core's WCAG 2 A/AA rules on the page as it is now; the serious and critical
 *  violations, as "rule: target" lines (an empty list passes). */
export async function accessibilityProblems(page) {
  // Evaluated through the DevTools protocol, which the pages' Content-Security-Policy does
  // not govern (a <script> tag added to the page would be refused, as it should be).
  await page.evaluate(readFileSync(AXE, "utf8"));
  const result = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa"] } }));
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(" ")}`));
}
