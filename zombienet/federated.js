// A federated job across nodes: Eve (alice's engine), BurstProvider1 (bob's) and BurstProvider2
// (charlie's, made Byzantine by `--byzantine-federated` in aicchain-local.toml) train the credit
// model together for three rounds. Each member's engine fetches the others' updates over HTTP
// to rebuild each round's model; every validator's engine fetches them all, excludes outliers
// and signs a verdict, and a majority of the four closes each round. Returns the number of
// members paid for every round: 2 (the poisoned one must be excluded, slashed and unpaid).
const { connect, ensureEveNode, creditScoringHash, send, UNIT } = require("./lib.js");

const spec = {
  gpuCount: 8, gpuMemoryGib: 80, bandwidthMbps: 150, latencyMs: 10, region: "eu-north",
  renewableShare: 90, carbonIntensity: 40, pricePerGpuHour: 2n * UNIT,
};
const providers = [["//BurstProvider1", "http://127.0.0.1:9961"], ["//BurstProvider2", "http://127.0.0.1:9962"]];

async function run(nodeName, networkInfo) {
  const api = await connect(networkInfo, nodeName);
  await ensureEveNode(api);
  const keyring = new zombie.Keyring({ type: "sr25519" });
  const ferdie = keyring.addFromUri("//Ferdie");
  const poisoned = keyring.addFromUri("//BurstProvider2").address;
  for (const [uri, engine] of providers) {
    const key = keyring.addFromUri(uri);
    if ((await api.query.computeRegistry.nodeByWorker(key.address)).isSome) continue;
    await send(api, api.tx.balances.transferKeepAlive(key.address, 1_000n * UNIT), ferdie);
    await send(api, api.tx.computeRegistry.registerNode(spec, key.address), key);
    const nodeId = (await api.query.computeRegistry.nodeByWorker(key.address)).unwrap();
    await send(api, api.tx.computeRegistry.setEngineUrl(nodeId, engine), key);
  }
  const requirements = {
    gpus: 8, minBandwidthMbps: 100, maxLatencyMs: 15, gpuHours: 1, sustainability: "Any",
    training: {
      dataset: creditScoringHash(), model: "MlpClassifier", hiddenUnits: 16, hiddenLayers: 1,
      learningRateMillionths: 10000, epochs: 1, seed: 3, minScore: 0,
    },
  };
  const id = (await api.query.computeJobs.nextJobId()).toNumber();
  const federated = { providers: 3, rounds: 3, rule: "Median" };
  await send(api, api.tx.computeJobs.submitFederated(requirements, federated, 200n * UNIT), ferdie);
  let job;
  for (let i = 0; i < 360; i++) {
    job = (await api.query.computeJobs.federations(id)).unwrap();
    if (job.stage.isSettled || job.stage.isFailed) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  const members = job.members.map((m) => ({
    node: m.node.toNumber(), worker: m.worker.toString(), rounds: m.rounds.toNumber(), excluded: m.excluded.isTrue,
  }));
  console.log(`federated job ${id} ${job.stage.type} (round ${job.round.toNumber()}): ` +
    members.map((m) => `node ${m.node} ${m.excluded ? "excluded" : `kept ${m.rounds} rounds`}`).join("; ") +
    (job.metrics.isSome ? `; score ${job.metrics.unwrap().score.toNumber() / 1e7}%` : ""));
  await api.disconnect();
  if (!job.stage.isSettled) throw new Error(`federated job ${id} ended ${job.stage.type}`);
  const bad = members.find((m) => m.worker === poisoned);
  if (!bad || !bad.excluded) throw new Error("the poisoned member was not excluded");
  return members.filter((m) => !m.excluded && m.rounds === 3).length;
}

module.exports = { run };
