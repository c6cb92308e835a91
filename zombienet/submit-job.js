// Registers Eve's node if needed and submits a training job; remembers its id and block for
// wait-job.js. Returns the job id + 1 (so that any submitted job passes `is at least 1`).
const fs = require("fs");
const path = require("path");
const { connect, ensureEveNode, submitTrainingJob } = require("./lib.js");

async function run(nodeName, networkInfo, args) {
  const api = await connect(networkInfo, nodeName);
  await ensureEveNode(api);
  const { jobId, block } = await submitTrainingJob(api, Number(args[0] ?? 7));
  fs.writeFileSync(
    path.join(require("os").tmpdir(), "aicchain-fault-job.json"),
    JSON.stringify({ jobId, block }),
  );
  await api.disconnect();
  return jobId + 1;
}

module.exports = { run };
