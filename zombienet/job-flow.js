// A training job submitted on alice is assigned, trained, verified and settled by the
// validators' workers; every node shows the same receipt; at least 3 validators took part.
// Returns the number of distinct validator workers that proposed or attested (>= 3 expected).
const { connect, ensureEveNode, submitTrainingJob, followJob } = require("./lib.js");

async function run(nodeName, networkInfo) {
  const api = await connect(networkInfo, nodeName);
  const nodeId = await ensureEveNode(api);
  const jobId = await submitTrainingJob(api, 42);
  const { status, proposers, attesters } = await followJob(api, jobId);
  if (status !== "Settled") throw new Error(`job ${jobId} ended as ${status}`);
  const receipt = (await api.query.computeJobs.receipts(jobId)).unwrap();
  if (receipt.node.toNumber() !== nodeId) throw new Error("settled on another node");
  for (const other of ["bob", "charlie", "dave"]) {
    const peer = await connect(networkInfo, other);
    // Wait until the other node has imported the settlement.
    for (let i = 0; i < 60; i++) {
      const theirs = await peer.query.computeJobs.receipts(jobId);
      if (theirs.isSome) {
        if (theirs.unwrap().modelHash.toHex() !== receipt.modelHash.toHex()) {
          throw new Error(`${other} sees another model for job ${jobId}`);
        }
        break;
      }
      if (i === 59) throw new Error(`${other} never saw job ${jobId} settle`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    await peer.disconnect();
  }
  await api.disconnect();
  const validators = new Set([...proposers, ...attesters]);
  console.log(`job ${jobId} settled; model ${receipt.modelHash.toHex()}; workers: ${[...validators].join(", ")}`);
  return validators.size;
}

module.exports = { run };
