// Runs right after `dave: pause`: remembers the best block, from which on dave's worker cannot
// have signed anything, for wait-job.js. Returns that block number + 1.
const fs = require("fs");
const path = require("path");
const { connect } = require("./lib.js");

async function run(nodeName, networkInfo) {
  const api = await connect(networkInfo, nodeName);
  const block = (await api.rpc.chain.getHeader()).number.toNumber();
  await api.disconnect();
  fs.writeFileSync(path.join(require("os").tmpdir(), "aicchain-fault-pause-block"), String(block));
  console.log(`dave paused at #${block}`);
  return block + 1;
}

module.exports = { run };
