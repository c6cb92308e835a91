// Validators agree on a burst: two more providers (workers on bob and charlie) join Eve, six
// four-GPU jobs arrive in one block, room for exactly six (two per 8-GPU node). Each validator's
// worker counts what its earlier proposals take, so all of them spread the burst alike and every
// job is assigned by a majority of proposals; before, all proposed the one best node, it took
// two jobs and the other four fell to the on-chain fallback. Returns the number of jobs assigned
// by majority; every job must settle.
const { connect, ensureEveNode, creditScoringHash, followJob, send, UNIT } = require("./lib.js");

const spec = {
  gpuCount: 8, gpuMemoryGib: 80, bandwidthMbps: 150, latencyMs: 10, region: "eu-north",
  renewableShare: 90, carbonIntensity: 40, pricePerGpuHour: 2n * UNIT,
};
// (worker key, the engine of the validator node that holds it: aicchain-local.toml)
const providers = [["//BurstProvider1", "http://127.0.0.1:9961"], ["//BurstProvider2", "http://127.0.0.1:9962"]];

async function run(nodeName, networkInfo) {
  const api = await connect(networkInfo, nodeName);
  await ensureEveNode(api);
  const keyring = new zombie.Keyring({ type: "sr25519" });
  const ferdie = keyring.addFromUri("//Ferdie");
  for (const [uri, engine] of providers) {
    const key = keyring.addFromUri(uri);
    if ((await api.query.computeRegistry.nodeByWorker(key.address)).isSome) continue;
    await send(api, api.tx.balances.transferKeepAlive(key.address, 1_000n * UNIT), ferdie);
    await send(api, api.tx.computeRegistry.registerNode(spec, key.address), key);
    const nodeId = (await api.query.computeRegistry.nodeByWorker(key.address)).unwrap();
    await send(api, api.tx.computeRegistry.setEngineUrl(nodeId, engine), key);
  }
  const requirements = (seed) => ({
    gpus: 4, minBandwidthMbps: 100, maxLatencyMs: 15, gpuHours: 1, sustainability: "Any",
    training: {
      dataset: creditScoringHash(), model: "MlpClassifier", hiddenUnits: 8, hiddenLayers: 1,
      learningRateMillionths: 5000, epochs: 1, seed, minScore: 0,
    },
  });
  // Six submissions with consecutive nonces, sent before any lands.
  const first = (await api.query.computeJobs.nextJobId()).toNumber();
  let nonce = (await api.rpc.system.accountNextIndex(ferdie.address)).toNumber();
  const landed = await Promise.all([0, 1, 2, 3, 4, 5].map((i) =>
    send(api, api.tx.computeJobs.submitJob(requirements(100 + i), 100n * UNIT), ferdie, nonce++)));
  const blocks = await Promise.all(landed.map(async (hash) => (await api.rpc.chain.getHeader(hash)).number.toNumber()));
  const jobs = await Promise.all(blocks.map((block, i) => followJob(api, first + i, block)));
  const nodes = await Promise.all(jobs.map(async (_, i) => {
    const receipt = await api.query.computeJobs.receipts(first + i);
    return receipt.isSome ? receipt.unwrap().node.toNumber() : null;
  }));
  console.log(`burst in blocks ${[...new Set(blocks)].join(", ")}: ` +
    jobs.map((j, i) => `job ${first + i} ${j.status} on node ${nodes[i]} by ${j.rule} (${j.proposers.size} proposals)`).join("; "));
  await api.disconnect();
  const unsettled = jobs.filter((j) => j.status !== "Settled").length;
  if (unsettled) throw new Error(`${unsettled} of 6 jobs did not settle`);
  return jobs.filter((j) => j.rule === "Majority").length;
}

module.exports = { run };
