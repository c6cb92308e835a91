// A user's own dataset across the network: Ferdie registers a CSV with the `aicchain` CLI and
// uploads it only to the engine Eve's node published (alice's); a job on it is assigned to Eve,
// and the other validators' engines, which never saw the file, fetch it from Eve's engine by
// hash (checked against the chain's record) to verify the result. Returns the number of
// validators that accepted it: a majority (3 of 4) must have.
const { execFileSync } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { connect, ensureEveNode, followJob, validatorWorkers, describe, UNIT } = require("./lib.js");

// 200 rows of four features and a label the first two decide.
function table() {
  let state = 7;
  const next = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  const lines = ["f0,f1,f2,f3,label"];
  for (let i = 0; i < 200; i++) {
    const f = Array.from({ length: 4 }, () => next().toFixed(3));
    lines.push([...f, Number(f[0]) > Number(f[1]) ? 1 : 0].join(","));
  }
  return lines.join("\n") + "\n";
}

async function run(nodeName, networkInfo) {
  const api = await connect(networkInfo, nodeName);
  const nodeId = await ensureEveNode(api);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "aicchain-user-")), "mine.csv");
  fs.writeFileSync(file, table());
  const cli = path.join(path.dirname(process.env.AICCHAIN_NODE), "aicchain");
  const rpc = networkInfo.nodesByName[nodeName].wsUri.replace("ws://", "http://");
  const out = execFileSync(cli, ["--url", rpc, "--suri", "//Ferdie", "dataset", "add", file,
    "--to-node", String(nodeId)]).toString();
  const hash = out.match(/train on it: aicchain submit-job --train (0x[0-9a-f]{64})/)?.[1];
  if (!hash || !out.includes("uploaded to")) throw new Error(`dataset add said: ${out}`);

  const ferdie = new zombie.Keyring({ type: "sr25519" }).addFromUri("//Ferdie");
  const jobId = (await api.query.computeJobs.nextJobId()).toNumber();
  const requirements = {
    gpus: 8, minBandwidthMbps: 100, maxLatencyMs: 15, gpuHours: 1, sustainability: "Any",
    training: {
      dataset: hash, model: "MlpClassifier", hiddenUnits: 16, hiddenLayers: 1,
      learningRateMillionths: 5000, epochs: 3, seed: 11, minScore: 0,
    },
  };
  const block = await new Promise((resolve, reject) => {
    api.tx.computeJobs.submitJob(requirements, 100n * UNIT).signAndSend(ferdie, ({ status, dispatchError }) => {
      if (dispatchError) reject(new Error(dispatchError.toString()));
      else if (status.isInBlock) api.rpc.chain.getHeader(status.asInBlock).then((h) => resolve(h.number.toNumber()));
    }).catch(reject);
  });
  const { status, attesters } = await followJob(api, jobId, block);
  await api.disconnect();
  if (status !== "Settled") throw new Error(`job ${jobId} on the user's dataset ended as ${status}`);
  const validators = validatorWorkers();
  const accepting = [...attesters.keys()].filter((w) => validators.has(w) && attesters.get(w).accepted);
  console.log(`job ${jobId} on user dataset ${hash} settled; attested by ${describe(attesters)}`);
  return accepting.length;
}

module.exports = { run };
