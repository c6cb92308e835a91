// Helpers for the zndsl js-scripts: connect, sign with dev keys, register Eve's node, submit a
// training job and follow it. Scripts run inside zombienet, which provides `zombie` (ApiPromise,
// Keyring, util).
const { execFileSync } = require("child_process");
const os = require("os");
const path = require("path");
const fs = require("fs");

const UNIT = 1_000_000_000_000n;
// Alice's engine (`--compute-engine-listen` in aicchain-local.toml), which runs Eve's worker.
const EVE_ENGINE = "http://127.0.0.1:9960";

async function connect(networkInfo, nodeName) {
  const { wsUri, userDefinedTypes } = networkInfo.nodesByName[nodeName];
  return zombie.connect(wsUri, userDefinedTypes);
}

function keyring() {
  const keyring = new zombie.Keyring({ type: "sr25519" });
  return {
    eve: keyring.addFromUri("//Eve"),
    ferdie: keyring.addFromUri("//Ferdie"),
  };
}

// The validators' worker accounts (`--worker-key=//Name` in aicchain-local.toml), by name.
function validatorWorkers() {
  const keyring = new zombie.Keyring({ type: "sr25519" });
  const names = ["alice", "bob", "charlie", "dave"];
  return new Map(names.map((n) => [keyring.addFromUri(`//${n[0].toUpperCase()}${n.slice(1)}`).address, n]));
}

// The credit-scoring dataset's content hash, from the worker binary built beside the node.
function creditScoringHash() {
  const worker = process.env.AICCHAIN_WORKER;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aicchain-datasets-"));
  const out = execFileSync(worker, ["datasets", "--data-dir", dir]).toString();
  const line = out.split("\n").find((l) => l.includes("credit-scoring.csv"));
  if (!line) throw new Error(`no credit-scoring dataset in: ${out}`);
  return line.trim().split(/\s+/)[0];
}

// Sends a transaction (with `nonce` when given) and resolves with the hash of its block once it
// is in one without a dispatch error.
function send(api, tx, signer, nonce) {
  return new Promise((resolve, reject) => {
    const options = nonce === undefined ? {} : { nonce };
    tx.signAndSend(signer, options, ({ status, dispatchError }) => {
      if (dispatchError) {
        const decoded = dispatchError.isModule ? api.registry.findMetaError(dispatchError.asModule) : null;
        reject(new Error(decoded ? `${decoded.section}.${decoded.name}` : dispatchError.toString()));
      } else if (status.isInBlock) {
        resolve(status.asInBlock);
      }
    }).catch(reject);
  });
}

async function ensureEveNode(api) {
  const { eve } = keyring();
  const existing = await api.query.computeRegistry.nodeByWorker(eve.address);
  if (existing.isSome) return existing.unwrap().toNumber();
  const spec = {
    gpuCount: 8,
    gpuMemoryGib: 80,
    bandwidthMbps: 150,
    latencyMs: 10,
    region: "eu-north",
    renewableShare: 90,
    carbonIntensity: 40,
    pricePerGpuHour: 2n * UNIT,
  };
  await send(api, api.tx.computeRegistry.registerNode(spec, eve.address), eve);
  const nodeId = (await api.query.computeRegistry.nodeByWorker(eve.address)).unwrap().toNumber();
  // Verifiers find Eve's models and checkpoints at the engine address published on chain.
  await send(api, api.tx.computeRegistry.setEngineUrl(nodeId, EVE_ENGINE), eve);
  return nodeId;
}

// Submits a training job from Ferdie; returns its id and the number of the block it is in.
async function submitTrainingJob(api, seed) {
  const { ferdie } = keyring();
  const jobId = (await api.query.computeJobs.nextJobId()).toNumber();
  const requirements = {
    gpus: 8,
    minBandwidthMbps: 100,
    maxLatencyMs: 15,
    gpuHours: 1,
    sustainability: "Any",
    training: {
      dataset: creditScoringHash(),
      model: "MlpClassifier",
      hiddenUnits: 32,
      hiddenLayers: 2,
      learningRateMillionths: 5000,
      epochs: 5,
      seed,
      minScore: 0,
    },
  };
  const hash = await send(api, api.tx.computeJobs.submitJob(requirements, 100n * UNIT), ferdie);
  const block = (await api.rpc.chain.getHeader(hash)).number.toNumber();
  return { jobId, block };
}

// Waits until `jobId` leaves the open states, then reads the events of every block of the best
// chain from `fromBlock` (its submission) to the one that ended it, so no event is missed.
// Returns its final status, the rule that assigned it, and who proposed and attested: maps from
// account to the block of the event (attesters also with their verdict).
async function followJob(api, jobId, fromBlock) {
  const open = (s) => s.isPending || s.isAssigned || s.isResultSubmitted;
  const { status, endBlock } = await new Promise(async (resolve) => {
    let done = false;
    const unsubscribe = await api.rpc.chain.subscribeNewHeads(async (header) => {
      const job = await (await api.at(header.hash)).query.computeJobs.jobs(jobId);
      if (done || job.isNone || open(job.unwrap().status)) return;
      done = true;
      unsubscribe();
      resolve({ status: job.unwrap().status.type, endBlock: header.number.toNumber() });
    });
  });
  const proposers = new Map();
  const attesters = new Map();
  let rule = null;
  for (let n = fromBlock; n <= endBlock; n++) {
    const at = await api.at(await api.rpc.chain.getBlockHash(n));
    for (const { event } of await at.query.system.events()) {
      if (event.section !== "computeJobs" || Number(event.data[0].toString()) !== jobId) continue;
      if (event.method === "AssignmentProposed") proposers.set(event.data[2].toString(), n);
      if (event.method === "JobAssigned") rule = event.data[3].toString();
      if (event.method === "ResultAttested") {
        attesters.set(event.data[1].toString(), { block: n, accepted: event.data[2].isTrue });
      }
    }
  }
  return { status, rule, proposers, attesters, endBlock };
}

// "alice (#12), bob (#12)": accounts by validator name where known, with their blocks.
function describe(accounts) {
  const names = validatorWorkers();
  return [...accounts].map(([who, at]) => `${names.get(who) ?? who} (#${at.block ?? at})`).join(", ") || "none";
}

module.exports = {
  connect, ensureEveNode, submitTrainingJob, followJob, validatorWorkers, describe, send,
  creditScoringHash, UNIT,
};
