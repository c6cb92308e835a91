// A training job submitted on alice is assigned, trained, verified and settled by the
// validators' workers; every node shows the same receipt. Returns the number of distinct
// validators whose workers *attested* the result: a majority of the 4 (>= 3) must have, or the
// chain could not have settled it on their word (proposals alone prove nothing about
// verification). Prints the rule that assigned the job.
const { connect, ensureEveNode, submitTrainingJob, followJob, validatorWorkers, describe } =
  require("./lib.js");

async function run(nodeName, networkInfo) {
  const api = await connect(networkInfo, nodeName);
  const nodeId = await ensureEveNode(api);
  const { jobId, block } = await submitTrainingJob(api, 42);
  const { status, rule, proposers, attesters } = await followJob(api, jobId, block);
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
  const validators = validatorWorkers();
  const attesting = [...attesters.keys()].filter((who) => validators.has(who));
  const accepting = attesting.filter((who) => attesters.get(who).accepted);
  console.log(
    `job ${jobId} settled; model ${receipt.modelHash.toHex()}; assigned by rule ${rule}; ` +
      `proposed by ${describe(proposers)}; attested by ${describe(attesters)}`,
  );
  if (accepting.length < 3) {
    throw new Error(`only ${accepting.length} of 4 validators accepted the result; a majority (3) must`);
  }
  return attesting.length;
}

module.exports = { run };
