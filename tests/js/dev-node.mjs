// Starts the real `aicchain-node --dev` on free ports with a throw-away base path, and stops it.
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { mkdtempSync, rmSync, openSync } from "node:fs";
import { tmpdir, homedir } from "node:os";
import { join } from "node:path";

export const NODE_BINARY =
  process.env.AICCHAIN_NODE ??
  join(process.env.CARGO_TARGET_DIR ?? join(homedir(), ".cache", "aicchain-target"), "release", "aicchain-node");

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// `extraArgs`: more node flags (e.g. `--worker-key //P1` for each provider a bench runs).
export async function startDevNode(extraArgs = []) {
  const base = mkdtempSync(join(tmpdir(), "aicchain-js-"));
  const [rpc, p2p, prometheus] = [await freePort(), await freePort(), await freePort()];
  const logPath = join(base, "node.log");
  const log = openSync(logPath, "w");
  const child = spawn(
    NODE_BINARY,
    [
      "--dev", "--base-path", join(base, "chain"),
      "--rpc-port", String(rpc), "--port", String(p2p), "--prometheus-port", String(prometheus),
      "--no-telemetry", "--no-mdns", ...extraArgs,
    ],
    { stdio: ["ignore", log, log] },
  );
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill("SIGINT");
      await new Promise((resolve) => {
        const timer = setTimeout(() => { child.kill("SIGKILL"); resolve(); }, 20_000);
        child.once("exit", () => { clearTimeout(timer); resolve(); });
      });
    }
    rmSync(base, { recursive: true, force: true });
  };
  return { url: `ws://127.0.0.1:${rpc}`, logPath, stop, child };
}
