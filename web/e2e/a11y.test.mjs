// Accessibility (axe-core, WCAG 2 A/AA, serious and critical) and the small-screen layout of
// the pages anyone can open; the signed-in pages are checked inside the journeys.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { accessibilityProblems, launch, newPage, screenshot } from "./browser.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

for (const [name, url, ready] of [
  ["catalog", "/", "Find your next course"],
  ["login", "/login/", "Log in"],
  ["register", "/register/", "Create your account"],
]) {
  test(`the ${name} page has no serious accessibility problems`, async () => {
    const page = await newPage(browser);
    await page.goto(url);
    await page.getByRole("heading", { name: ready }).waitFor();
    await page.waitForLoadState("networkidle");
    assert.deepEqual(await accessibilityProblems(page), []);
    assert.deepEqual(page.pageErrors, []);
  });
}

test("the catalog works on a phone-sized screen", async () => {
  const page = await newPage(browser);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto("/");
  await page.getByRole("heading", { name: "Find your next course" }).waitFor();
  await page.getByRole("combobox", { name: "Search courses" }).waitFor();
  await page.waitForLoadState("networkidle");
  // Nothing wider than the screen: no sideways scrolling.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
  await screenshot(page, "mobile-catalog");
});

test("a search that matches nothing says so", async () => {
  const page = await newPage(browser);
  await page.goto("/");
  const box = page.getByRole("combobox", { name: "Search courses" });
  await box.fill("qqxzvvkj wwpfzq");
  await box.press("Enter");
  await page.getByText("No courses match").waitFor();
  assert.equal(await page.getByRole("list", { name: "Courses" }).getByRole("listitem").count(), 0);
});
