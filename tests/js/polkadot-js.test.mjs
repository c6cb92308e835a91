// @polkadot/api 16.5.x against the real node: properties, metadata and every storage item of the
// custom pallets decode without custom types; every user-facing call of the custom pallets is
// submitted from dev accounts and its events checked; fees come from payment_queryInfo.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { ApiPromise, WsProvider, Keyring } from "@polkadot/api";
import { cryptoWaitReady } from "@polkadot/util-crypto";
import { u8aToHex, u8aConcat, stringToU8a, bnToU8a } from "@polkadot/util";
import { execFileSync, spawn } from "node:child_process";
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { blake2AsHex } from "@polkadot/util-crypto";
import { startDevNode, NODE_BINARY } from "./dev-node.mjs";

const UNIT = 1_000_000_000_000n;
// `decline_job` on a job that is not assigned.
const DECLINE_PENDING_ERROR = "computeJobs.JobNotAssigned";
let node;
let api;
let keyring;
let provider;

async function connect(url) {
  for (let attempt = 0; attempt < 120; attempt++) {
    try {
      provider = new WsProvider(url, false);
      await provider.connect();
      await provider.isReadyOrError;
      return await ApiPromise.create({ provider, noInitWarn: true, throwOnConnect: true });
    } catch {
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
  throw new Error(`node never answered on ${url}:\n${readFileSync(node.logPath, "utf8")}`);
}

// Sends a transaction, resolves with its events once in a block; a dispatch error becomes
// `{ error: "pallet.Error" }` decoded by Polkadot.js from the metadata alone.
function send(tx, signer) {
  return new Promise((resolve, reject) => {
    tx.signAndSend(signer, ({ status, dispatchError, events }) => {
      if (!status.isInBlock) return;
      if (dispatchError) {
        const meta = dispatchError.isModule ? api.registry.findMetaError(dispatchError.asModule) : null;
        resolve({ error: meta ? `${meta.section}.${meta.name}` : dispatchError.toString(), events });
      } else {
        resolve({ events });
      }
    }).catch(reject);
  });
}

function eventsOf(result, section) {
  return result.events.filter(({ event }) => event.section === section).map(({ event }) => event);
}

const nodeSpec = (price) => ({
  gpuCount: 8,
  gpuMemoryGib: 80,
  bandwidthMbps: 150,
  latencyMs: 10,
  region: "eu-north",
  renewableShare: 90,
  carbonIntensity: 40,
  pricePerGpuHour: price,
});

// The built-in credit-scoring dataset's content hash, as the node's engine lists it.
async function creditScoring() {
  const datasets = await (await fetch(engineUrl() + "/datasets")).json();
  return datasets.find((d) => d.name === "credit-scoring.csv").hash;
}

const trainingSpec = (dataset, minScore = 0) => ({
  dataset, model: "MlpClassifier", hiddenUnits: 16, hiddenLayers: 1,
  learningRateMillionths: 5000, epochs: 3, seed: 1, minScore,
});

const requirements = (training) => ({
  gpus: 8,
  minBandwidthMbps: 100,
  maxLatencyMs: 15,
  gpuHours: 1,
  sustainability: "PreferRenewable",
  training,
});

before(async () => {
  await cryptoWaitReady();
  keyring = new Keyring({ type: "sr25519" });
  node = await startDevNode();
  api = await connect(node.url);
});

after(async () => {
  await api?.disconnect();
  await node?.stop();
});

test("system_properties: AICC with 12 decimals, SS58 42", async () => {
  const properties = await api.rpc.system.properties();
  assert.deepEqual(properties.tokenSymbol.unwrap().toJSON(), ["AICC"]);
  assert.deepEqual(properties.tokenDecimals.unwrap().toJSON(), [12]);
  assert.equal(properties.ss58Format.unwrap().toNumber(), 42);
  assert.equal(api.registry.chainDecimals[0], 12);
  assert.equal((await api.rpc.system.chain()).toString(), "AICChain Development");
});

test("metadata decodes and names the custom pallets' calls, events, errors and storage", async () => {
  for (const pallet of ["computeRegistry", "computeJobs", "communityFund", "aicg", "validatorSet", "session"]) {
    assert.ok(api.query[pallet], `storage of ${pallet}`);
    assert.ok(api.tx[pallet], `calls of ${pallet}`);
    assert.ok(api.events[pallet], `events of ${pallet}`);
  }
  assert.ok(api.tx.computeJobs.submitJob.meta.args.length === 2);
  assert.ok(api.errors.computeJobs.GpusOutOfRange);
  assert.ok(api.consts.computeJobs.providerShare.toHuman());
});

test("every storage item of the custom pallets decodes", async () => {
  let items = 0;
  for (const pallet of ["computeRegistry", "computeJobs", "communityFund"]) {
    for (const [name, entry] of Object.entries(api.query[pallet])) {
      const type = entry.creator.meta.type;
      if (type.isMap) {
        const entries = await entry.entries();
        for (const [key, value] of entries) {
          assert.ok(key.args.length >= 1, `${pallet}.${name} key`);
          value.toJSON();
        }
      } else {
        (await entry()).toJSON();
      }
      items += 1;
    }
  }
  assert.ok(items >= 15, `only ${items} storage items`);
});

test("registry calls: register, heartbeat, update, deregister, withdraw (and its named error)", async () => {
  const charlie = keyring.addFromUri("//Charlie");
  const registered = await send(api.tx.computeRegistry.registerNode(nodeSpec(2n * UNIT), charlie.address), charlie);
  assert.equal(registered.error, undefined);
  const [event] = eventsOf(registered, "computeRegistry");
  assert.equal(event.method, "NodeRegistered");
  const nodeId = (await api.query.computeRegistry.nodeByWorker(charlie.address)).unwrap().toNumber();
  const info = (await api.query.computeRegistry.nodes(nodeId)).unwrap();
  assert.equal(info.spec.gpuCount.toNumber(), 8);
  assert.equal(info.bond.toBigInt(), 100n * UNIT);

  const beat = await send(api.tx.computeRegistry.heartbeat(nodeId), charlie);
  assert.equal(eventsOf(beat, "computeRegistry")[0].method, "Heartbeat");

  const updated = await send(api.tx.computeRegistry.updateNode(nodeId, nodeSpec(3n * UNIT)), charlie);
  assert.equal(eventsOf(updated, "computeRegistry")[0].method, "NodeUpdated");
  assert.equal((await api.query.computeRegistry.nodes(nodeId)).unwrap().spec.pricePerGpuHour.toBigInt(), 3n * UNIT);

  const toppedUp = await send(api.tx.computeRegistry.topUpBond(nodeId, 10n * UNIT), charlie);
  assert.equal(eventsOf(toppedUp, "computeRegistry")[0].method, "BondToppedUp");
  assert.equal((await api.query.computeRegistry.nodes(nodeId)).unwrap().bond.toBigInt(), 110n * UNIT);
  const live = await send(api.tx.computeRegistry.pruneDeadNode(nodeId), charlie);
  assert.equal(live.error, "computeRegistry.NodeIsLive");

  const gone = await send(api.tx.computeRegistry.deregisterNode(nodeId), charlie);
  assert.equal(eventsOf(gone, "computeRegistry")[0].method, "NodeDeregistered");
  const early = await send(api.tx.computeRegistry.withdrawBond(nodeId), charlie);
  assert.equal(early.error, "computeRegistry.BondStillLocked");

  const stranger = await send(api.tx.computeRegistry.heartbeat(9_999), charlie);
  assert.equal(stranger.error, "computeRegistry.NodeNotFound");
});

test("worker consent: another key is only proposed until it accepts", async () => {
  // Eve's key is in no keystore of the dev node, so no worker acts for this node meanwhile.
  const ferdie = keyring.addFromUri("//Ferdie");
  const eve = keyring.addFromUri("//Eve");
  const registered = await send(api.tx.computeRegistry.registerNode(nodeSpec(2n * UNIT), eve.address), ferdie);
  const [event] = eventsOf(registered, "computeRegistry");
  assert.equal(event.method, "NodeRegistered");
  const nodeId = event.data.nodeId.toNumber();
  assert.equal((await api.query.computeRegistry.nodes(nodeId)).unwrap().workerBound.isTrue, false);
  assert.ok((await api.query.computeRegistry.nodeByWorker(eve.address)).isNone);
  const stranger = await send(api.tx.computeRegistry.acceptWorker(nodeId), ferdie);
  assert.equal(stranger.error, "computeRegistry.NotProposedWorker");
  const accepted = await send(api.tx.computeRegistry.acceptWorker(nodeId), eve);
  assert.equal(eventsOf(accepted, "computeRegistry")[0].method, "WorkerAccepted");
  assert.equal((await api.query.computeRegistry.nodes(nodeId)).unwrap().workerBound.isTrue, true);
  assert.equal((await api.query.computeRegistry.nodeByWorker(eve.address)).unwrap().toNumber(), nodeId);
  // Out of the market again before the training job below.
  const gone = await send(api.tx.computeRegistry.deregisterNode(nodeId), ferdie);
  assert.equal(eventsOf(gone, "computeRegistry")[0].method, "NodeDeregistered");
});

test("job calls: submit (escrow), cancel (refund), out-of-range requirements are a named error", async () => {
  const eve = keyring.addFromUri("//Eve");
  const training = trainingSpec(await creditScoring());
  const bad = await send(api.tx.computeJobs.submitJob({ ...requirements(training), gpus: 64 }, 10n * UNIT), eve);
  assert.equal(bad.error, "computeJobs.GpusOutOfRange");
  const untrained = await send(api.tx.computeJobs.submitJob(requirements(null), 10n * UNIT), eve);
  assert.equal(untrained.error, "computeJobs.NoTrainingSpec");
  const jobId = (await api.query.computeJobs.nextJobId()).toNumber();
  const submitted = await send(api.tx.computeJobs.submitJob(requirements(training), 10n * UNIT), eve);
  const [event] = eventsOf(submitted, "computeJobs");
  assert.equal(event.method, "JobSubmitted");
  assert.equal(event.data.budget.toBigInt(), 10n * UNIT);
  const job = (await api.query.computeJobs.jobs(jobId)).unwrap();
  assert.ok(job.status.isPending);
  const declined = await send(api.tx.computeJobs.declineJob(jobId), eve);
  assert.equal(declined.error, DECLINE_PENDING_ERROR);
  const cancelled = await send(api.tx.computeJobs.cancelJob(jobId), eve);
  assert.equal(eventsOf(cancelled, "computeJobs")[0].method, "JobCancelled");
  assert.ok((await api.query.computeJobs.jobs(jobId)).unwrap().status.isCancelled);
});

test("a training job settles through the workers; their events decode", async () => {
  const bob = keyring.addFromUri("//Bob");
  const ferdie = keyring.addFromUri("//Ferdie");
  await send(api.tx.computeRegistry.registerNode(nodeSpec(2n * UNIT), bob.address), bob);
  const training = trainingSpec(await creditScoring());
  const jobId = (await api.query.computeJobs.nextJobId()).toNumber();
  const seen = new Set();
  const unsubscribe = await api.query.system.events((records) => {
    for (const { event } of records) if (event.section === "computeJobs") seen.add(event.method);
  });
  await send(api.tx.computeJobs.submitJob(requirements(training), 100n * UNIT), ferdie);
  for (let i = 0; i < 120 && !seen.has("JobSettled"); i++) await new Promise((r) => setTimeout(r, 1_000));
  unsubscribe();
  for (const method of ["AssignmentProposed", "JobAssigned", "ResultSubmitted", "ResultAttested", "JobSettled"]) {
    assert.ok(seen.has(method), `no ${method} event (saw ${[...seen]})`);
  }
  const receipt = (await api.query.computeJobs.receipts(jobId)).unwrap();
  const cost = receipt.cost.toBigInt();
  assert.equal(cost, 16n * UNIT);
  // The split is the runtime's ProviderShare (90%, Perbill) of the cost, the fund the rest:
  // a wrong split that still adds up to the cost fails here.
  const share = BigInt(api.consts.computeJobs.providerShare.toString());
  assert.equal(share, 900_000_000n, "ProviderShare is 90% (Perbill parts)");
  const provider = perbillOf(share, cost);
  assert.equal(receipt.providerAmount.toBigInt(), provider);
  assert.equal(receipt.fundAmount.toBigInt(), cost - provider);
  assert.equal(receipt.providerAmount.toBigInt(), 14_400_000_000_000n);
  assert.equal(receipt.fundAmount.toBigInt(), 1_600_000_000_000n);
});

// A model's weights from an engine as `pair` (its owner) fetches them: the path names the
// version the job produced, and the request carries `X-AICChain-Fetch`, the sr25519 signature
// over "aicchain-fetch1" ++ genesis hash ++ expiry (u64 LE, Unix s) ++ path. Checks first that
// the same request unsigned is refused (a private model).
async function fetchModel(engine, jobId, modelHash, pair) {
  const version = (await api.query.modelRegistry.versionOfJob(jobId)).unwrap().toString();
  const path = `/models/${modelHash}?version=${version}`;
  assert.equal((await fetch(engine + path)).status, 401, "unsigned: refused");
  const expires = BigInt(Math.floor(Date.now() / 1000) + 300);
  const payload = u8aConcat(
    stringToU8a("aicchain-fetch1"),
    api.genesisHash.toU8a(),
    bnToU8a(expires, { bitLength: 64, isLe: true }),
    stringToU8a(path),
  );
  const header = `${u8aToHex(pair.publicKey)}.${expires}.${u8aToHex(pair.sign(payload))}`;
  return fetch(engine + path, { headers: { "X-AICChain-Fetch": header } });
}

// Trains `spec` on the shipped dataset `name` through the market to settlement, after checking
// that the same model on `unsuitable` (another dataset's hash) is refused by name; the provider's
// engine then serves the model the receipt records.
async function trainsOnShipped(name, spec, unsuitable) {
  const ferdie = keyring.addFromUri("//Ferdie");
  const datasets = await (await fetch(engineUrl() + "/datasets")).json();
  const dataset = datasets.find((d) => d.name === name).hash;
  const training = { ...spec, dataset };
  const refused = await send(api.tx.computeJobs.submitJob(requirements({ ...training, dataset: unsuitable }), 100n * UNIT), ferdie);
  assert.equal(refused.error, "computeJobs.DatasetDoesNotSuitModel");
  const jobId = (await api.query.computeJobs.nextJobId()).toNumber();
  const seen = new Set();
  const unsubscribe = await api.query.system.events((records) => {
    for (const { event } of records) {
      if (event.section === "computeJobs" && event.data[0]?.toString() === String(jobId)) seen.add(event.method);
    }
  });
  await send(api.tx.computeJobs.submitJob(requirements(training), 100n * UNIT), ferdie);
  for (let i = 0; i < 180 && !seen.has("JobSettled"); i++) await new Promise((r) => setTimeout(r, 1_000));
  unsubscribe();
  assert.ok(seen.has("ResultAttested") && seen.has("JobSettled"), `saw ${[...seen]}`);
  const status = (await api.query.computeJobs.jobs(jobId)).unwrap().status;
  assert.ok(status.isSettled, status.toString());
  const receipt = (await api.query.computeJobs.receipts(jobId)).unwrap();
  const model = await fetchModel(engineUrl(), jobId, receipt.modelHash.toHex(), ferdie);
  assert.equal(model.status, 200);
  return receipt;
}

test("a transformer language model trains on the shipped text corpus and settles", async () => {
  await trainsOnShipped("generated-corpus.txt", {
    model: "TransformerLm", hiddenUnits: 16, hiddenLayers: 1,
    learningRateMillionths: 3000, epochs: 1, seed: 7, minScore: 0,
  }, await creditScoring());
});

test("a CNN trains on the shipped images and settles; it refuses a table that is not images", async () => {
  const receipt = await trainsOnShipped("generated-shapes.csv", {
    model: "CnnClassifier", hiddenUnits: 16, hiddenLayers: 2,
    learningRateMillionths: 10000, epochs: 2, seed: 7, minScore: 0,
  }, await creditScoring());
  // Verified held-out accuracy on six shapes: well above chance (1 in 6) after two epochs.
  assert.ok(receipt.metrics.score.toNumber() > 400_000_000, receipt.metrics.toString());
});

// A user's own table: `rows` rows of five features and a label the first two decide.
function userTable(rows) {
  let state = 2026;
  const next = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  const lines = ["f0,f1,f2,f3,f4,label"];
  for (let i = 0; i < rows; i++) {
    const f = Array.from({ length: 5 }, () => next().toFixed(3));
    lines.push([...f, Number(f[0]) + Number(f[1]) > 1 ? 1 : 0].join(","));
  }
  return lines.join("\n") + "\n";
}

// A user's own text: `count` words of short sentences over a small vocabulary.
function userText(count) {
  const nouns = ["river", "stone", "lamp", "field", "crow", "bridge", "kettle", "garden"];
  const verbs = ["crosses", "holds", "lights", "follows", "finds", "mends"];
  const words = [];
  for (let i = 0; words.length < count; i++) {
    words.push("the", nouns[i % 8], verbs[(i * 3) % 6], "a", nouns[(i * 5 + 1) % 8], ".");
  }
  return words.slice(0, count).join(" ") + "\n";
}

// Runs the `aicchain` CLI (built next to the node) against the dev node.
function cli(...args) {
  const binary = join(dirname(NODE_BINARY), "aicchain");
  const rpc = node.url.replace("ws://", "http://");
  return execFileSync(binary, ["--url", rpc, ...args], { encoding: "utf8" });
}

// Starts `aicchain-worker serve` (built next to the node) on a free port with `args`.
async function startWorker(args) {
  const binary = join(dirname(NODE_BINARY), "aicchain-worker");
  const dir = mkdtempSync(join(tmpdir(), "aicchain-engine-"));
  const child = spawn(binary, ["serve", "--listen", "127.0.0.1:0", "--data-dir", dir, ...args]);
  const url = await new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const match = out.match(/serving on (http:\/\/[0-9.:]+)/);
      if (match) resolve(match[1]);
    });
    child.once("exit", (code) => reject(new Error(`aicchain-worker exited (${code}): ${out}`)));
  });
  return { url, stop: () => child.kill("SIGINT") };
}

async function settle(jobIds, signer, submissions) {
  const seen = new Map(jobIds.map((id) => [String(id), new Set()]));
  const unsubscribe = await api.query.system.events((records) => {
    for (const { event } of records) {
      const id = event.data[0]?.toString();
      if (event.section === "computeJobs" && seen.has(id)) seen.get(id).add(event.method);
    }
  });
  for (const tx of submissions) assert.equal((await send(tx, signer)).error, undefined);
  const done = () => [...seen.values()].every((s) => s.has("JobSettled"));
  for (let i = 0; i < 240 && !done(); i++) await new Promise((r) => setTimeout(r, 1_000));
  unsubscribe();
  return seen;
}

test("a user's own CSV and text: registered with the CLI, uploaded, trained and verified through the market", async () => {
  const charlie = keyring.addFromUri("//Charlie");
  const ferdie = keyring.addFromUri("//Ferdie");
  const dir = mkdtempSync(join(tmpdir(), "aicchain-data-"));
  const [table, text] = [join(dir, "churn.csv"), join(dir, "stories.txt")];
  writeFileSync(table, userTable(300));
  writeFileSync(text, userText(3_000));
  const engine = engineUrl();
  const tableOut = cli("--suri", "//Charlie", "dataset", "add", table, "--upload", engine);
  const textOut = cli("--suri", "//Charlie", "dataset", "add", text, "--private", "--upload", engine);
  const tableHash = blake2AsHex(readFileSync(table), 256);
  const textHash = blake2AsHex(readFileSync(text), 256);
  assert.match(tableOut, new RegExp(`registered ${tableHash} \\(churn.csv: 300 rows, 6 columns`));
  assert.match(textOut, /46 rows, .* private\)/);
  assert.match(textOut, /uploaded to/);

  // On chain: the records, Charlie as owner, the deposit held.
  const info = (await api.query.computeJobs.datasets(tableHash)).unwrap();
  assert.equal(info.bytes.toNumber(), readFileSync(table).length);
  assert.equal(info.public.isTrue, true);
  assert.equal((await api.query.computeJobs.datasets(textHash)).unwrap().public.isTrue, false);
  const [owner, deposit] = (await api.query.computeJobs.datasetOwners(textHash)).unwrap();
  assert.equal(owner.toString(), charlie.address);
  assert.equal(deposit.toBigInt(), api.consts.computeJobs.datasetDeposit.toBigInt());
  const listing = cli("datasets");
  assert.ok(listing.includes(tableHash) && listing.includes(charlie.address), listing);

  // The engine serves the public table, not the private text, and keeps no file that is
  // not the one the chain registered.
  assert.equal((await fetch(`${engine}/datasets/${tableHash}`)).status, 200);
  assert.equal((await fetch(`${engine}/datasets/${textHash}`)).status, 404);
  const forged = await fetch(`${engine}/datasets/${tableHash}`, {
    method: "PUT", body: readFileSync(table).map((b, i) => (i === 40 ? b ^ 1 : b)),
  });
  assert.equal(forged.status, 422);

  // A standalone engine reads the records from the node's JSON-RPC (`--node-rpc`): it takes
  // the registered table and refuses a file the chain does not know.
  const standalone = await startWorker(["--node-rpc", node.url.replace("ws://", "http://")]);
  try {
    const put = (body) => fetch(`${standalone.url}/datasets/${blake2AsHex(body, 256)}`, { method: "PUT", body });
    const kept = await put(readFileSync(table));
    assert.equal(kept.status, 200, await kept.text());
    assert.equal((await put(Buffer.from(userTable(50)))).status, 404);
  } finally {
    standalone.stop();
  }

  // Only its owner's jobs may train on the private text.
  const lm = {
    dataset: textHash, model: "TransformerLm", hiddenUnits: 16, hiddenLayers: 1,
    learningRateMillionths: 3000, epochs: 1, seed: 3, minScore: 0,
  };
  const refused = await send(api.tx.computeJobs.submitJob(requirements(lm), 100n * UNIT), ferdie);
  assert.equal(refused.error, "computeJobs.DatasetPrivate");

  const first = (await api.query.computeJobs.nextJobId()).toNumber();
  const seen = await settle([first, first + 1], charlie, [
    api.tx.computeJobs.submitJob(requirements(trainingSpec(tableHash)), 100n * UNIT),
    api.tx.computeJobs.submitJob(requirements(lm), 100n * UNIT),
  ]);
  for (const [id, events] of seen) {
    assert.ok(events.has("ResultAttested") && events.has("JobSettled"), `job ${id} saw ${[...events]}`);
    const receipt = (await api.query.computeJobs.receipts(Number(id))).unwrap();
    const model = await fetchModel(engine, Number(id), receipt.modelHash.toHex(), charlie);
    assert.equal(model.status, 200);
  }
});

test("engine: reads are public, /ocw answers only its own node; setEngineUrl publishes the address", async () => {
  const engine = engineUrl();
  assert.equal((await fetch(engine + "/health")).status, 200);
  // SCALE `EngineRequest::PendingOutcomes` (variant 3): harmless, but not for strangers.
  const post = (headers) => fetch(engine + "/ocw", { method: "POST", headers, body: new Uint8Array([3]) });
  assert.equal((await post({})).status, 401);
  assert.equal((await post({ authorization: "Bearer not-the-token" })).status, 401);

  const bob = keyring.addFromUri("//Bob");
  const nodeId = (await api.query.computeRegistry.nodeByWorker(bob.address)).unwrap().toNumber();
  const published = await send(api.tx.computeRegistry.setEngineUrl(nodeId, engine), bob);
  assert.equal(eventsOf(published, "computeRegistry")[0].method, "EngineUrlSet");
  const stored = (await api.query.computeRegistry.engineUrls(nodeId)).unwrap();
  assert.equal(stored.toUtf8(), engine);
  const bad = await send(api.tx.computeRegistry.setEngineUrl(nodeId, "ftp://x"), bob);
  assert.equal(bad.error, "computeRegistry.InvalidEngineUrl");
});

// `Perbill * amount` as the runtime computes it: rounded to the nearest, halves down.
function perbillOf(parts, amount) {
  const ACCURACY = 1_000_000_000n;
  const product = amount * parts;
  const floor = product / ACCURACY;
  return product % ACCURACY > ACCURACY / 2n ? floor + 1n : floor;
}

test("community fund calls: propose, vote, remove a vote", async () => {
  const alice = keyring.addFromUri("//Alice");
  const dave = keyring.addFromUri("//Dave");
  const terms = {
    share: 500_000_000, scope: "AllJobs", perJobCap: 5n * UNIT, totalBudget: 100n * UNIT, duration: 100,
  };
  const proposalId = (await api.query.communityFund.nextProposalId()).toNumber();
  const proposed = await send(api.tx.communityFund.proposeSubsidy(terms), alice);
  assert.equal(eventsOf(proposed, "communityFund")[0].method, "SubsidyProposed");
  const voted = await send(api.tx.communityFund.vote(proposalId, true, 1_000n * UNIT), dave);
  assert.equal(eventsOf(voted, "communityFund")[0].method, "Voted");
  const removed = await send(api.tx.communityFund.removeVote(proposalId), dave);
  assert.equal(eventsOf(removed, "communityFund")[0].method, "VoteRemoved");
  const again = await send(api.tx.communityFund.removeVote(proposalId), dave);
  assert.equal(again.error, "communityFund.NotVoted");
});

// Root's calls go through `sudo.sudo`; its `Sudid` event carries the inner call's result.
function sudoError(result) {
  const [sudid] = eventsOf(result, "sudo");
  assert.ok(sudid, "a Sudid event");
  const inner = sudid.data.sudoResult;
  if (inner.isOk) return undefined;
  const error = inner.asErr;
  if (!error.isModule) return error.toString();
  const meta = api.registry.findMetaError(error.asModule);
  return `${meta.section}.${meta.name}`;
}

test("validator set: keys from author_rotateKeysWithOwner, session.setKeys, root adds and removes", async () => {
  const alice = keyring.addFromUri("//Alice");
  const bob = keyring.addFromUri("//Bob");
  const keyless = keyring.addFromUri("//Ferdie");
  const refused = await send(api.tx.sudo.sudo(api.tx.validatorSet.addValidator(keyless.address)), alice);
  assert.equal(sudoError(refused), "validatorSet.NoSessionKeys");
  const notRoot = await send(api.tx.validatorSet.addValidator(bob.address), bob);
  assert.match(notRoot.error, /badOrigin/i);

  // New Aura, GRANDPA and worker keys in the node's keystore, with a proof made for Bob.
  const generated = await provider.send("author_rotateKeysWithOwner", [u8aToHex(bob.publicKey)]);
  assert.ok(generated.proof, "the runtime makes ownership proofs");
  assert.equal(await provider.send("author_hasSessionKeys", [generated.keys]), true);
  const wrongOwner = await send(api.tx.session.setKeys(generated.keys, generated.proof), keyless);
  assert.equal(wrongOwner.error, "session.InvalidProof");
  const set = await send(api.tx.session.setKeys(generated.keys, generated.proof), bob);
  assert.equal(set.error, undefined);
  assert.equal((await api.query.session.nextKeys(bob.address)).unwrap().toHex(), generated.keys);

  const added = await send(api.tx.sudo.sudo(api.tx.validatorSet.addValidator(bob.address)), alice);
  assert.equal(sudoError(added), undefined);
  assert.equal(eventsOf(added, "validatorSet")[0].method, "ValidatorAdded");
  const planned = (await api.query.validatorSet.validators()).map((v) => v.toString());
  assert.deepEqual(planned, [alice.address, bob.address]);
  // Applied at a session boundary, two sessions on: the current session still has Alice alone.
  assert.equal((await api.query.session.validators()).length, 1);

  const removed = await send(api.tx.sudo.sudo(api.tx.validatorSet.removeValidator(bob.address)), alice);
  assert.equal(eventsOf(removed, "validatorSet")[0].method, "ValidatorRemoved");
  const last = await send(api.tx.sudo.sudo(api.tx.validatorSet.removeValidator(alice.address)), alice);
  assert.equal(sudoError(last), "validatorSet.TooFewValidators");
});

test("payment_queryInfo gives a fee for a job submission", async () => {
  const alice = keyring.addFromUri("//Alice");
  const training = trainingSpec(await creditScoring());
  const info = await api.tx.computeJobs.submitJob(requirements(training), 10n * UNIT).paymentInfo(alice);
  assert.ok(info.partialFee.toBigInt() > 0n);
  assert.ok(info.weight.refTime.toBigInt() > 0n);
});

function engineUrl() {
  const log = readFileSync(node.logPath, "utf8");
  const match = log.match(/compute engine on (http:\/\/[0-9.:]+)/);
  assert.ok(match, "the node logged its compute engine address");
  return match[1];
}
