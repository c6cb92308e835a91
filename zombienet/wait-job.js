// Waits for the job submit-job.js submitted to end; returns 1 when it settled.
const fs = require("fs");
const path = require("path");
const { connect, followJob } = require("./lib.js");

async function run(nodeName, networkInfo) {
  const jobId = Number(fs.readFileSync(path.join(require("os").tmpdir(), "aicchain-fault-job-id")));
  const api = await connect(networkInfo, nodeName);
  const { status, proposers, attesters } = await followJob(api, jobId);
  await api.disconnect();
  console.log(`job ${jobId}: ${status}; proposers ${proposers.size}, attesters ${attesters.size}`);
  return status === "Settled" ? 1 : 0;
}

module.exports = { run };
