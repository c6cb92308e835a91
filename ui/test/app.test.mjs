// The web app in a real browser (Debian's Chromium, driven by playwright-core) against the real
// `aicchain-node --dev`: the market's figures from the chain, a provider registering a node, a
// renter's job from the form to its receipt, the policy's decision, a subsidy vote, and each
// page's error states; it writes a screenshot of each page to docs/ui/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, preview } from "vite";
import { chromium } from "playwright-core";
import { createServer } from "node:net";
import { startDevNode } from "../../tests/js/dev-node.mjs";

const UI = join(dirname(fileURLToPath(import.meta.url)), "..");
const SHOTS = join(UI, "..", "docs", "ui");
const UNIT = 1_000_000_000_000n;
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

let node;
let server;
let browser;
let page;
let base;

async function rpc(method, params = []) {
  const response = await fetch(node.url.replace("ws://", "http://"), {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = await response.json();
  if (body.error) throw new Error(body.error.message);
  return body.result;
}

async function waitForRpc() {
  for (let i = 0; i < 120; i++) {
    try {
      if ((await rpc("system_health")) !== undefined) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
  throw new Error("the dev node never answered");
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.on("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

const byId = (id) => page.locator(`[data-testid="${id}"]`);

/// Opens a page of the app as one account (a dev account on the dev chain).
async function open(hash, account) {
  await page.goto(`${base}/?rpc=${encodeURIComponent(node.url)}#${hash}`);
  const ready = `main[data-page="${hash}"][data-ready="true"]`;
  await page.waitForSelector(ready, { timeout: 60_000 });
  if (account) {
    await byId("account").selectOption({ label: `${account} (dev account)` });
    await page.waitForSelector(ready);
  }
}

async function shot(name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

function aicc(planck) {
  const value = BigInt(planck);
  const frac = ((value % UNIT) * 100n) / UNIT;
  return `${(value / UNIT).toLocaleString("en-US")}.${frac.toString().padStart(2, "0")}`;
}

before(async () => {
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: scripts/setup.sh installs Debian's chromium`);
  mkdirSync(SHOTS, { recursive: true });
  node = await startDevNode();
  await build({ root: UI, logLevel: "warn" });
  const port = await freePort();
  server = await preview({ root: UI, preview: { port, host: "127.0.0.1", strictPort: true }, logLevel: "warn" });
  base = `http://127.0.0.1:${port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(60_000);
  await waitForRpc();
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.httpServer.close(resolve) : resolve()));
  await node?.stop();
});

test("an unreachable node is a message with what to do, not a blank page", async () => {
  await page.goto(`${base}/?rpc=${encodeURIComponent("ws://127.0.0.1:1")}#market`);
  const text = await byId("unreachable").textContent({ timeout: 30_000 });
  assert.match(text, /Cannot reach the AICChain node at ws:\/\/127\.0\.0\.1:1.*make run/);
  await shot("unreachable");
});

test("market: the figures are the chain's and follow its blocks", async () => {
  await open("market");
  await byId("fig-nodes").waitFor();
  const [stats, fund] = [await rpc("compute_marketStats"), await rpc("compute_fund")];
  assert.equal(await byId("fig-nodes").textContent(), `${stats.activeNodes} / ${stats.nodes}`);
  assert.equal(await byId("fig-gpus").textContent(), String(stats.totalGpus));
  assert.equal(await byId("fig-fund").textContent(), aicc(fund.balance));
  assert.match(await byId("no-nodes").textContent(), /No node is registered yet/);
  // The charts gain a point per block.
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="jobs-chart"]')?.dataset.points) >= 2);
  await shot("market-empty");
});

let nodeId;

test("provide: a provider registers a node, sends a heartbeat; a bad form and a taken worker are refused", async () => {
  await open("provide", "Bob");
  assert.match(await byId("no-my-nodes").textContent(), /runs no node yet/);
  // A form error is caught before signing.
  await page.fill('input[name="region"]', "");
  await byId("register-node").click();
  await page.waitForSelector('[data-testid="provide-status"].error');
  assert.match(await byId("provide-status").textContent(), /region must be 1 to 32 characters/);
  await page.fill('input[name="region"]', "eu-north");
  await byId("register-node").click();
  await page.waitForSelector('[data-testid="provide-status"].ok', { timeout: 60_000 });
  assert.match(await byId("provide-status").textContent(), /NodeRegistered/);
  const { nodes } = await rpc("compute_nodes", [null, 0]);
  assert.equal(nodes.length, 1);
  nodeId = nodes[0].id;
  assert.equal(nodes[0].spec.region, "eu-north");
  assert.equal(nodes[0].spec.pricePerGpuHour, String(15n * UNIT / 10n));
  await byId(`status-${nodeId}`).waitFor();
  await byId(`heartbeat-${nodeId}`).click();
  await page.waitForSelector('[data-testid="provide-status"].ok');
  assert.match(await byId("provide-status").textContent(), new RegExp(`Heartbeat of node ${nodeId} recorded`));
  // Registering a second node with the same worker key: the chain's own words.
  await byId("register-node").click();
  await page.waitForSelector('[data-testid="provide-status"].error');
  assert.match(await byId("provide-status").textContent(), /This worker key already signs for a node.*WorkerAlreadyBound/);
  await shot("provide");
});

test("rent: a quote, refused requirements and funds, then a job from the form to its receipt", async () => {
  await open("rent", "Ferdie");
  await page.waitForFunction(() => /1 eligible node/.test(document.querySelector('[data-testid="quote-eligible"]')?.textContent ?? ""));
  assert.match(await byId("quote-cost").textContent(), /cost 12\.00 – 12\.00 AICC/);
  // Out of the chain's range: said before anything is signed.
  await page.fill('input[name="gpus"]', "64");
  await page.waitForSelector('[data-testid="quote-error"]');
  assert.match(await byId("quote-error").textContent(), /GPUs must be a whole number from 4 to 16/);
  await shot("rent-error");
  await page.fill('input[name="gpus"]', "8");
  // More than Ferdie holds: the chain refuses the escrow.
  await page.fill('input[name="budget"]', "5000000");
  await byId("submit-job").click();
  await page.waitForSelector('[data-testid="rent-status"].error');
  assert.match(await byId("rent-status").textContent(), /Insufficient funds/);
  await page.fill('input[name="budget"]', "100");
  await byId("submit-job").click();
  await page.waitForSelector('[data-testid="rent-status"].ok');
  const jobId = Number(await byId("job-progress").getAttribute("data-job"));
  await page.waitForSelector('[data-testid="job-progress"][data-stage="Settled"]', { timeout: 240_000 });
  const job = await rpc("compute_job", [jobId]);
  assert.equal(job.status.stage, "Settled");
  assert.equal(await byId("receipt-cost").textContent(), `${aicc(job.receipt.cost)} AICC`);
  assert.equal(await byId("receipt-paid").textContent(), `${aicc(job.receipt.userPaid)} AICC`);
  // Perbill figures arrive as percentages: shown as they are, never above 100%.
  assert.equal(await byId("receipt-score").textContent(), `${job.receipt.metrics.score.toFixed(1)}%`);
  assert.ok(job.receipt.metrics.score <= 100, String(job.receipt.metrics.score));
  for (const stage of ["Submitted", "Proposals", "Assigned", "Training", "Verification"]) {
    assert.equal(await page.locator(`.step[data-stage="${stage}"]`).getAttribute("class"), "step done", stage);
  }
  assert.match(await page.locator('.step[data-stage="Proposals"]').textContent(), /[1-9]\d* proposals? seen/);
  await shot("rent-settled");

  // The market page now counts it.
  await open("market");
  await page.waitForFunction(() => document.querySelector('[data-testid="fig-settled"]')?.textContent === "1");
  assert.equal(await byId("fig-volume").textContent(), aicc((await rpc("compute_marketStats")).volume));
  assert.equal(await page.locator('[data-testid="nodes-table"] tbody tr').count(), 1);
  const [listed] = (await rpc("compute_nodes", [null, 0])).nodes;
  assert.equal(await byId(`reputation-${nodeId}`).textContent(), `${listed.reputation.toFixed(1)}%`);
  await page.fill('input[name="minGpus"]', "32");
  assert.match(await byId("no-nodes").textContent(), /No node matches these filters/);
  await page.fill('input[name="minGpus"]', "0");
  await shot("market");

  // The policy's decision for it.
  await open("decisions");
  await byId("decision-chosen").waitFor();
  const selection = await rpc("compute_selection", [jobId]);
  assert.equal(await byId("decision-chosen").textContent(), String(selection.chosen));
  assert.match(await byId(`probability-${nodeId}`).textContent(), /%$/);
  assert.match(await byId("decision-stage").textContent(), new RegExp(`Settled on node ${nodeId}`));
  assert.equal(await byId("decision-expected").textContent(), selection.expectedReward.toFixed(3));
  const headers = await page.locator('[data-testid="decision-table"] th').allTextContents();
  assert.deepEqual(headers.slice(2), Object.keys(selection.scores[0].features));
  await shot("decisions");
  await page.fill('input[name="job"]', "999");
  await byId("show-decision").click();
  assert.match(await byId("decision-error").textContent(), /made no selection for job 999/);
});

test("govern: propose a subsidy, vote with AICG, remove the vote; a vote beyond one's AICG is refused", async () => {
  await open("govern", "Alice");
  await byId("propose").click();
  await page.waitForSelector('[data-testid="govern-status"].ok');
  assert.match(await byId("govern-status").textContent(), /SubsidyProposed/);
  // This test's own dev chain: the first proposal.
  const id = 0;
  assert.equal(await page.locator('[data-testid="proposals-table"] tbody tr').count(), 1);
  await open("govern", "Dave");
  await byId(`vote-aye-${id}`).waitFor();
  assert.equal(await byId(`my-vote-${id}`).textContent(), "none");
  await page.fill(`[data-testid="vote-amount-${id}"]`, "20000");
  await byId(`vote-aye-${id}`).click();
  await page.waitForSelector('[data-testid="govern-status"].error');
  assert.match(await byId("govern-status").textContent(), /does not hold that much AICG.*InsufficientAicg/);
  await page.fill(`[data-testid="vote-amount-${id}"]`, "1000");
  await byId(`vote-aye-${id}`).click();
  await page.waitForFunction((i) => document.querySelector(`[data-testid="my-vote-${i}"]`)?.textContent === "aye with 1,000 AICG", id);
  assert.match(await byId(`tally-${id}`).textContent(), /^1,000 aye \/ 0 nay$/);
  assert.match(await byId(`countdown-${id}`).textContent(), /^in \d+ (min \d+ s|s) \(\d+ blocks\)$/);
  await shot("govern");
  await byId(`remove-vote-${id}`).click();
  await page.waitForFunction((i) => document.querySelector(`[data-testid="my-vote-${i}"]`)?.textContent === "none", id);
});

test("a phone-width screen: no page scrolls sideways", async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  for (const hash of ["market", "rent", "provide", "govern", "decisions"]) {
    await open(hash, "Bob");
    const [scroll, width] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    assert.ok(scroll <= width, `${hash}: the page is ${scroll} px wide on a ${width} px screen`);
  }
  await open("rent", "Ferdie");
  await byId("quote-eligible").waitFor();
  await shot("rent-phone");
  await page.setViewportSize({ width: 1280, height: 900 });
});
