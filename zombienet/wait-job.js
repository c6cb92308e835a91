// Waits for the job submit-job.js submitted to end, while dave is paused. Checks that dave's
// worker took no part after the pause (no proposal or attestation of its account in a block
// after the one mark-pause.js saw, plus `SLACK` blocks for a transaction it had already
// gossiped), that the three live validators still decided the assignment themselves (rule
// Majority or Plurality, not the on-chain fallback), and that a majority (3) attested.
// Returns 1 when all of that holds and the job settled.
const fs = require("fs");
const os = require("os");
const path = require("path");
const { connect, followJob, validatorWorkers, describe } = require("./lib.js");

// Blocks after the pause in which a transaction dave signed just before it may still land.
const SLACK = 2;

async function run(nodeName, networkInfo) {
  const { jobId, block } = JSON.parse(
    fs.readFileSync(path.join(os.tmpdir(), "aicchain-fault-job.json"), "utf8"),
  );
  const paused = Number(fs.readFileSync(path.join(os.tmpdir(), "aicchain-fault-pause-block"), "utf8"));
  const api = await connect(networkInfo, nodeName);
  const { status, rule, proposers, attesters, endBlock } = await followJob(api, jobId, block);
  await api.disconnect();
  console.log(
    `job ${jobId} (#${block}-#${endBlock}, dave paused at #${paused}): ${status}; assigned by ` +
      `rule ${rule}; proposed by ${describe(proposers)}; attested by ${describe(attesters)}`,
  );
  const dave = [...validatorWorkers()].find(([, name]) => name === "dave")[0];
  const proposedAt = proposers.get(dave);
  if (proposedAt !== undefined && proposedAt > paused + SLACK) {
    throw new Error(`dave's worker proposed at #${proposedAt}, while paused since #${paused}`);
  }
  const attested = attesters.get(dave);
  if (attested !== undefined && attested.block > paused + SLACK) {
    throw new Error(`dave's worker attested at #${attested.block}, while paused since #${paused}`);
  }
  if (rule !== "Majority" && rule !== "Plurality") {
    throw new Error(`the job was assigned by rule ${rule}: the three live validators did not decide`);
  }
  const accepting = [...attesters.values()].filter((a) => a.accepted).length;
  if (accepting < 3) throw new Error(`only ${accepting} validators accepted the result; 3 must`);
  return status === "Settled" ? 1 : 0;
}

module.exports = { run };
