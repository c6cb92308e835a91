// Helpers for the zndsl js-scripts: connect, sign with dev keys, register Eve's node, submit a
// training job and follow it. Scripts run inside zombienet, which provides `zombie` (ApiPromise,
// Keyring, util).
const { execFileSync } = require("child_process");
const os = require("os");
const path = require("path");
const fs = require("fs");

const UNIT = 1_000_000_000_000n;

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

// The credit-scoring dataset's content hash, from the worker binary built beside the node.
function creditScoringHash() {
  const worker = process.env.AICCHAIN_WORKER;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aicchain-datasets-"));
  const out = execFileSync(worker, ["datasets", "--data-dir", dir]).toString();
  const line = out.split("\n").find((l) => l.includes("credit-scoring.csv"));
  if (!line) throw new Error(`no credit-scoring dataset in: ${out}`);
  return line.trim().split(/\s+/)[0];
}

// Sends a transaction and resolves once it is in a block without a dispatch error.
function send(api, tx, signer) {
  return new Promise((resolve, reject) => {
    tx.signAndSend(signer, ({ status, dispatchError, events }) => {
      if (dispatchError) {
        const decoded = dispatchError.isModule ? api.registry.findMetaError(dispatchError.asModule) : null;
        reject(new Error(decoded ? `${decoded.section}.${decoded.name}` : dispatchError.toString()));
      } else if (status.isInBlock) {
        resolve(events);
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
  return (await api.query.computeRegistry.nodeByWorker(eve.address)).unwrap().toNumber();
}

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
    },
  };
  await send(api, api.tx.computeJobs.submitJob(requirements, 100n * UNIT), ferdie);
  return jobId;
}

// Watches events until `jobId` leaves the open states; returns its status and the accounts
// that proposed and attested for it.
async function followJob(api, jobId) {
  const proposers = new Set();
  const attesters = new Set();
  return new Promise(async (resolve) => {
    const unsubscribe = await api.query.system.events(async (records) => {
      for (const { event } of records) {
        if (event.section !== "computeJobs") continue;
        const data = event.data.toJSON();
        if (Number(data[0] ?? data.jobId) !== jobId) continue;
        if (event.method === "AssignmentProposed") proposers.add(event.data[2].toString());
        if (event.method === "ResultAttested") attesters.add(event.data[1].toString());
      }
      const job = await api.query.computeJobs.jobs(jobId);
      const status = job.unwrap().status;
      if (!(status.isPending || status.isAssigned || status.isResultSubmitted)) {
        unsubscribe();
        resolve({ status: status.type, proposers, attesters });
      }
    });
  });
}

module.exports = { connect, ensureEveNode, submitTrainingJob, followJob, UNIT };
