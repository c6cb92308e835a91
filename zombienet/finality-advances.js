// How many blocks finality advanced on this node in 30 seconds.
const { connect } = require("./lib.js");

async function run(nodeName, networkInfo) {
  const api = await connect(networkInfo, nodeName);
  const finalized = async () =>
    (await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead())).number.toNumber();
  const before = await finalized();
  await new Promise((r) => setTimeout(r, 30_000));
  const after = await finalized();
  await api.disconnect();
  console.log(`${nodeName}: finalized ${before} -> ${after}`);
  return after - before;
}

module.exports = { run };
