// Chain throughput on the real dev node (`make perf`, not part of `make test`): N providers
// register nodes whose worker keys the node holds (the dev node's Alice is the one validator),
// then tiny training jobs arrive, either all at once (`burst`: PERF_JOBS in one block) or as a
// stream (`stream`: PERF_RATE jobs in each of PERF_BLOCKS blocks). Every block is read: jobs
// submitted, assigned, settled, expired; the block's extrinsics and weight; finality lag.
// Prints one JSON object per block (`{"kind":"block",...}`) and a summary (`{"kind":"chain",...}`)
// on stdout.
//
// Environment: PERF_LABEL (names the run in every line), PERF_URL and PERF_ENGINES (see
// below), PERF_MODE (burst), PERF_PROVIDERS (20), PERF_GPUS per node (16: room for four
// 4-GPU jobs, the most a node runs at once), PERF_JOBS (48), PERF_RATE (25), PERF_BLOCKS (12),
// PERF_TIMEOUT_BLOCKS (60 after the last submission), AICCHAIN_NODE.
import { ApiPromise, WsProvider, Keyring } from "@polkadot/api";
import { cryptoWaitReady } from "@polkadot/util-crypto";
import { readFileSync } from "node:fs";
import { startDevNode } from "./dev-node.mjs";

const UNIT = 1_000_000_000_000n;
const mode = process.env.PERF_MODE ?? "burst";
const providers = Number(process.env.PERF_PROVIDERS ?? 20);
const gpus = Number(process.env.PERF_GPUS ?? 16);
const rate = mode === "stream" ? Number(process.env.PERF_RATE ?? 25) : Number(process.env.PERF_JOBS ?? 48);
const streamBlocks = mode === "stream" ? Number(process.env.PERF_BLOCKS ?? 12) : 1;
const jobs = rate * streamBlocks;
const timeoutBlocks = Number(process.env.PERF_TIMEOUT_BLOCKS ?? 60);
const label = process.env.PERF_LABEL ?? `${mode}`;
if (!["burst", "stream"].includes(mode) || !(rate > 0) || !(streamBlocks > 0) || !(providers > 0)) {
  throw new Error(`bad PERF_MODE/PERF_RATE/PERF_JOBS/PERF_BLOCKS/PERF_PROVIDERS`);
}
const log = (...args) => console.error("perf-chain:", ...args);

const nodeSpec = {
  gpuCount: gpus, gpuMemoryGib: 80, bandwidthMbps: 150, latencyMs: 10, region: "eu-north",
  renewableShare: 90, carbonIntensity: 40, pricePerGpuHour: 2n * UNIT,
};
// The smallest job the market takes: 4 GPUs for an hour, one epoch of a 1×8 classifier.
const requirements = (dataset) => ({
  gpus: 4, minBandwidthMbps: 100, maxLatencyMs: 15, gpuHours: 1, sustainability: "PreferRenewable",
  training: {
    dataset, model: "MlpClassifier", hiddenUnits: 8, hiddenLayers: 1,
    learningRateMillionths: 5000, epochs: 1, seed: 1, minScore: 0,
  },
});

async function connect(url, logPath) {
  for (let attempt = 0; attempt < 120; attempt++) {
    try {
      const provider = new WsProvider(url, false);
      await provider.connect();
      await provider.isReadyOrError;
      return await ApiPromise.create({ provider, noInitWarn: true, throwOnConnect: true });
    } catch {
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
  throw new Error(`node never answered on ${url}:\n${readFileSync(logPath, "utf8")}`);
}

// Signs `txs` with one account, consecutive nonces, all sent before any lands; resolves when
// every one is in a block (dispatch errors are thrown).
async function sendAll(api, signer, txs) {
  let nonce = (await api.rpc.system.accountNextIndex(signer.address)).toNumber();
  const landed = txs.map((tx) => new Promise((resolve, reject) => {
    tx.signAndSend(signer, { nonce: nonce++ }, ({ status, dispatchError }) => {
      if (!status.isInBlock) return;
      if (dispatchError) {
        const meta = dispatchError.isModule ? api.registry.findMetaError(dispatchError.asModule) : null;
        reject(new Error(`${signer.meta.name}: ${meta ? `${meta.section}.${meta.name}` : dispatchError.toString()}`));
      }
      else resolve(status.asInBlock);
    }).catch(reject);
  }));
  return Promise.all(landed);
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

await cryptoWaitReady();
const keyring = new Keyring({ type: "sr25519" });
const providerKeys = Array.from({ length: providers }, (_, i) => {
  const pair = keyring.addFromUri(`//PerfProvider${i}`);
  pair.meta.name = `provider ${i}`;
  return pair;
});
// PERF_URL: measure a running chain (the zombienet testnet) instead of starting a dev node; its
// nodes hold the `//PerfProvider<i>` worker keys, and provider i publishes the engine address
// PERF_ENGINES[i % n] on chain so that the other validators fetch its models from there.
const engines = (process.env.PERF_ENGINES ?? "").split(",").filter(Boolean);
const node = process.env.PERF_URL
  ? { url: process.env.PERF_URL, logPath: "/dev/null", stop: async () => {} }
  : await startDevNode(providerKeys.flatMap((_, i) => ["--worker-key", `//PerfProvider${i}`]));
const api = await connect(node.url, node.logPath);
try {
  const alice = keyring.addFromUri("//Alice");
  alice.meta.name = "alice";
  log(`funding and registering ${providers} provider nodes`);
  await sendAll(api, alice, providerKeys.map((p) => api.tx.balances.transferKeepAlive(p.address, 1_000n * UNIT)));
  // A chain measured before already has them (PERF_URL).
  await Promise.all(providerKeys.map(async (p) => {
    if ((await api.query.computeRegistry.nodeByWorker(p.address)).isNone) {
      await sendAll(api, p, [api.tx.computeRegistry.registerNode(nodeSpec, p.address)]);
    }
  }));
  if (engines.length) {
    await Promise.all(providerKeys.map(async (p, i) => {
      const nodeId = (await api.query.computeRegistry.nodeByWorker(p.address)).unwrap();
      await sendAll(api, p, [api.tx.computeRegistry.setEngineUrl(nodeId, engines[i % engines.length])]);
    }));
  }
  const engine = engines[0] ?? readFileSync(node.logPath, "utf8").match(/compute engine on (http:\/\/[0-9.:]+)/)[1];
  const dataset = (await (await fetch(engine + "/datasets")).json()).find((d) => d.name === "credit-scoring.csv").hash;

  // How many of each fit in a block by weight: the normal class's limit over a transaction's
  // weight (its call and extensions, from payment_queryInfo, plus the base every extrinsic pays).
  const limits = api.consts.system.blockWeights.perClass.normal;
  const base = limits.baseExtrinsic.refTime.toBigInt();
  const perBlock = async (tx, signer) =>
    Number(limits.maxTotal.unwrap().refTime.toBigInt() / ((await tx.paymentInfo(signer)).weight.refTime.toBigInt() + base));
  console.log(JSON.stringify({
    kind: "weights", label,
    transfers_per_block: await perBlock(api.tx.balances.transferKeepAlive(providerKeys[0].address, UNIT), alice),
    submissions_per_block: await perBlock(api.tx.computeJobs.submitJob(requirements(dataset), 100n * UNIT), alice),
  }));

  // Submitters: prefunded dev accounts that no node signs with (a worker key's own
  // transactions would race these for nonces), jobs dealt round robin, each with its own nonces.
  const submitters = await Promise.all(
    ["//Ferdie", "//Eve", "//Alice//stash", "//Bob//stash", "//Charlie//stash", "//Dave//stash", "//Eve//stash", "//Ferdie//stash"]
      .map(async (uri) => {
        const pair = keyring.addFromUri(uri);
        const nonce = (await api.rpc.system.accountNextIndex(pair.address)).toNumber();
        return { pair, nonce };
      }));
  let rounds = 0;
  let sent = 0;
  const rejected = [];
  // One round: `rate` submissions sent without waiting for them to land.
  const submitRound = () => {
    for (let j = 0; j < rate; j++) {
      const submitter = submitters[sent++ % submitters.length];
      api.tx.computeJobs.submitJob(requirements(dataset), 100n * UNIT)
        .signAndSend(submitter.pair, { nonce: submitter.nonce++ })
        .catch((e) => rejected.push(e.message));
    }
    rounds += 1;
  };

  // Per-block figures, from the first block with a submission until every job has ended.
  const submittedAt = new Map(); // job id -> [block, ms]
  const endedAt = new Map(); // job id -> [block, ms, status]
  const assignedBy = {}; // rule (Majority, Plurality, Fallback) -> jobs
  // Why validators did not agree: each job's proposals (block, proposer, node) before its
  // assignment, and the errors of failed extrinsics (a proposal too late, a node full, ...).
  const proposals = new Map(); // job id -> [[block, proposer, node]]
  const assignment = new Map(); // job id -> [block, rule, node]
  const failures = {}; // "section.Error" -> count
  const blocks = [];
  let first = null;
  let lastSubmission = null;
  const maxWeight = api.consts.system.blockWeights.perClass.normal.maxTotal.unwrap().refTime.toBigInt();
  log(mode === "burst" ? `submitting ${jobs} jobs at once` : `submitting ${rate} jobs per block for ${streamBlocks} blocks`);
  const done = new Promise((resolve, reject) => {
    const unsub = api.rpc.chain.subscribeNewHeads(async (header) => {
      try {
        if (rounds < streamBlocks) submitRound();
        const number = header.number.toNumber();
        const hash = header.hash;
        const [at, block, finalized] = await Promise.all([
          api.at(hash), api.rpc.chain.getBlock(hash), api.rpc.chain.getFinalizedHead(),
        ]);
        const [events, now, weight, finalHeader] = await Promise.all([
          at.query.system.events(), at.query.timestamp.now(), at.query.system.blockWeight(),
          api.rpc.chain.getHeader(finalized),
        ]);
        const ms = now.toNumber();
        const count = { submitted: 0, queued: 0, assigned: 0, results: 0, settled: 0, expired: 0, failed: 0 };
        for (const { event } of events) {
          if (event.section === "system" && event.method === "ExtrinsicFailed") {
            const error = event.data[0];
            const meta = error.isModule ? api.registry.findMetaError(error.asModule) : null;
            const name = meta ? `${meta.section}.${meta.name}` : error.type;
            failures[name] = (failures[name] ?? 0) + 1;
          }
          if (event.section !== "computeJobs") continue;
          const id = event.data[0]?.toString();
          switch (event.method) {
            case "JobSubmitted": count.submitted++; submittedAt.set(id, [number, ms]); break;
            case "JobQueued": count.queued++; break;
            case "AssignmentProposed": {
              const list = proposals.get(id) ?? [];
              list.push([number, event.data[2].toString(), event.data[1].toNumber()]);
              proposals.set(id, list);
              break;
            }
            case "JobAssigned": {
              count.assigned++;
              const rule = event.data[3].toString();
              assignment.set(id, [number, rule, event.data[1].toNumber()]);
              assignedBy[rule] = (assignedBy[rule] ?? 0) + 1;
              break;
            }
            case "ResultSubmitted": count.results++; break;
            case "JobSettled": count.settled++; endedAt.set(id, [number, ms, "settled"]); break;
            case "JobExpired": count.expired++; endedAt.set(id, [number, ms, "expired"]); break;
            case "JobRejected": case "JobTimedOut": case "JobUnverified":
              count.failed++; endedAt.set(id, [number, ms, event.method]); break;
          }
        }
        if (count.submitted > 0) lastSubmission = number;
        const normal = weight.normal.refTime.toBigInt();
        const row = {
          kind: "block", label, number, ms, extrinsics: block.block.extrinsics.length, ...count,
          normal_weight_share: Number((normal * 10_000n) / maxWeight) / 10_000,
          finality_lag: number - finalHeader.number.toNumber(),
        };
        if (first !== null || count.submitted > 0) {
          first ??= number;
          blocks.push(row);
          console.log(JSON.stringify(row));
        }
        const allEnded = submittedAt.size === jobs && [...submittedAt.keys()].every((id) => endedAt.has(id));
        if (allEnded || (lastSubmission !== null && number - lastSubmission > timeoutBlocks)) {
          (await unsub)();
          resolve();
        }
      } catch (e) {
        reject(e);
      }
    });
  });
  await done;
  if (rejected.length) log(`${rejected.length} submissions refused by the pool: ${rejected[0]}`);

  // Per job: how many proposals landed by its assignment, how many distinct nodes they named,
  // and the blocks from submission to the first and the last of them.
  function agreement() {
    const byRule = {};
    for (const [id, [block, rule]] of assignment) {
      const list = (proposals.get(id) ?? []).filter(([b]) => b <= block);
      const key = `${rule}: ${list.length} proposals, ${new Set(list.map(([, , n]) => n)).size} nodes`;
      byRule[key] = (byRule[key] ?? 0) + 1;
    }
    const delays = [...proposals].flatMap(([id, list]) =>
      list.map(([b]) => b - (submittedAt.get(id)?.[0] ?? b))).sort((a, b) => a - b);
    return {
      by_proposals: byRule,
      proposal_delay_blocks_p50: percentile(delays, 50),
      proposal_delay_blocks_p95: percentile(delays, 95),
      proposal_delay_blocks_max: delays.at(-1) ?? null,
      failed_extrinsics: failures,
    };
  }

  const latencies = [...submittedAt].filter(([id]) => endedAt.get(id)?.[2] === "settled")
    .map(([id, [, ms]]) => (endedAt.get(id)[1] - ms) / 1000).sort((a, b) => a - b);
  const blockLatencies = [...submittedAt].filter(([id]) => endedAt.get(id)?.[2] === "settled")
    .map(([id, [b]]) => endedAt.get(id)[0] - b).sort((a, b) => a - b);
  const settledBlocks = blocks.filter((b) => b.settled > 0);
  const settled = blocks.reduce((sum, b) => sum + b.settled, 0);
  // Sustained rate: jobs settled in the window as long as the submissions lasted, starting at
  // the first settlement (a burst: from the first to the last settlement).
  const from = settledBlocks[0]?.number;
  const span = from === undefined ? 0
    : mode === "stream" ? streamBlocks : settledBlocks.at(-1).number - from + 1;
  const inWindow = blocks.filter((b) => b.number >= from && b.number < from + span)
    .reduce((sum, b) => sum + b.settled, 0);
  console.log(JSON.stringify({
    kind: "chain", label, mode, providers, gpus_per_node: gpus, rate, stream_blocks: streamBlocks, jobs, settled,
    expired: blocks.reduce((sum, b) => sum + b.expired, 0),
    failed: blocks.reduce((sum, b) => sum + b.failed, 0),
    settled_per_block: span ? inWindow / span : 0,
    max_settled_in_a_block: Math.max(0, ...blocks.map((b) => b.settled)),
    latency_s_p50: percentile(latencies, 50), latency_s_p95: percentile(latencies, 95),
    latency_blocks_p50: percentile(blockLatencies, 50), latency_blocks_p95: percentile(blockLatencies, 95),
    max_normal_weight_share: Math.max(0, ...blocks.map((b) => b.normal_weight_share)),
    max_finality_lag: Math.max(0, ...blocks.map((b) => b.finality_lag)),
    assigned_by_rule: assignedBy,
    agreement: agreement(),
  }));
} finally {
  await api.disconnect();
  await node.stop();
}
