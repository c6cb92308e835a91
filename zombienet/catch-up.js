// Returns 1 once this node's best block is within 2 of alice's (it caught up after a restart).
const { connect } = require("./lib.js");

async function run(nodeName, networkInfo) {
  const me = await connect(networkInfo, nodeName);
  const alice = await connect(networkInfo, "alice");
  for (;;) {
    const mine = (await me.rpc.chain.getHeader()).number.toNumber();
    const theirs = (await alice.rpc.chain.getHeader()).number.toNumber();
    if (mine + 2 >= theirs && mine > 0) {
      console.log(`${nodeName} at #${mine}, alice at #${theirs}`);
      await me.disconnect();
      await alice.disconnect();
      return 1;
    }
    await new Promise((r) => setTimeout(r, 2_000));
  }
}

module.exports = { run };
