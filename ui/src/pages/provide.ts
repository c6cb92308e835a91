// Provide: register a node (bond held), update it, send heartbeats, see its bond, reputation,
// jobs and earnings; leave the market and withdraw the bond.
import { aicc, parseAicc } from "../chain";
import { type Context, type Page, act, busyIn, field, h, message, notice, numberInput, requireAccount, table, textInput } from "../dom";
import { type NodeInfo, allNodes } from "./market";

export class ProvidePage implements Page {
  private status = notice("provide-status");
  private mine = h("div", { testid: "my-nodes" });
  private summary = h("div", { class: "figures" });
  private inputs = {
    gpus: numberInput("gpuCount", 16, 1, 1024),
    memory: numberInput("gpuMemoryGib", 80, 1, 1024),
    bandwidth: numberInput("bandwidthMbps", 200, 1, 100_000),
    latency: numberInput("latencyMs", 8, 1, 1000),
    region: textInput("region", "eu-north"),
    renewable: numberInput("renewableShare", 90, 0, 100),
    carbon: numberInput("carbonIntensity", 40, 0, 2000),
    price: textInput("price", "1.5"),
    worker: textInput("worker", "", "the account itself"),
    nodeId: numberInput("nodeId", 0, 0),
  };

  constructor(private ctx: Context) {}

  private root: HTMLElement = document.body;

  async render(root: HTMLElement): Promise<void> {
    this.root = root;
    const i = this.inputs;
    const bond = (this.ctx.chain.api.consts.computeRegistry as any).nodeBond;
    const register = h("button", { type: "button", testid: "register-node" }, "Register node");
    const update = h("button", { type: "button", class: "secondary", testid: "update-node" }, "Update node #");
    const accept = h("button", { type: "button", class: "secondary", testid: "accept-worker" }, "Accept as worker of node #");
    register.addEventListener("click", () => void this.act(register, () => this.registerTx()));
    accept.addEventListener("click", () => void this.act(accept, () => this.ctx.chain.api.tx.computeRegistry.acceptWorker(Number(this.inputs.nodeId.value))));
    update.addEventListener("click", () => void this.act(update, () => this.updateTx()));
    root.append(
      h("h1", {}, "Provide compute"),
      this.summary,
      h("h2", {}, "Your nodes"),
      this.mine,
      h("h2", {}, "Register or update a node"),
      h("form", { class: "form", testid: "provide-form" },
        h("fieldset", {}, h("legend", {}, "Hardware"),
          field("GPUs", i.gpus), field("GPU memory, GiB", i.memory), field("bandwidth, Mbps", i.bandwidth), field("latency, ms", i.latency)),
        h("fieldset", {}, h("legend", {}, "Energy and price"),
          field("region", i.region), field("renewable share, %", i.renewable), field("carbon intensity, g CO2e/kWh", i.carbon),
          field("price, AICC per GPU-hour", i.price)),
        h("fieldset", {}, h("legend", {}, "Worker"),
          field("worker account (SS58; it must accept)", i.worker, "the key the node's off-chain worker signs with"),
          h("p", { class: "muted small" }, `Registering holds a bond of ${aicc(bond.toString())} AICC, slashed when the node fails a job.`),
          h("div", { class: "inline" }, register, update, accept, field("node", i.nodeId))),
        this.status.el),
    );
    await this.refresh();
  }

  inFlight = false;

  async onBlock(): Promise<void> {
    // No redraw under the user's hands: a button mid-signing, or typing in the page.
    if (busyIn(this.root, this.inFlight)) return;
    await this.refresh();
  }

  private spec(): any {
    const i = this.inputs;
    const int = (input: HTMLInputElement, name: string, lo: number, hi: number) => {
      const v = Number(input.value);
      if (!Number.isInteger(v) || v < lo || v > hi) throw new Error(`${name} must be a whole number from ${lo} to ${hi}`);
      return v;
    };
    const region = i.region.value.trim();
    if (!region || region.length > 32) throw new Error("The region must be 1 to 32 characters, like eu-north");
    return {
      gpuCount: int(i.gpus, "GPUs", 1, 1024), gpuMemoryGib: int(i.memory, "GPU memory", 1, 1024),
      bandwidthMbps: int(i.bandwidth, "Bandwidth", 1, 100_000), latencyMs: int(i.latency, "Latency", 1, 1000),
      region, renewableShare: int(i.renewable, "The renewable share", 0, 100),
      carbonIntensity: int(i.carbon, "Carbon intensity", 0, 2000), pricePerGpuHour: parseAicc(i.price.value, "price"),
    };
  }

  private registerTx() {
    const account = requireAccount(this.ctx);
    const worker = this.inputs.worker.value.trim() || account.address;
    return this.ctx.chain.api.tx.computeRegistry.registerNode(this.spec(), worker);
  }

  private updateTx() {
    return this.ctx.chain.api.tx.computeRegistry.updateNode(Number(this.inputs.nodeId.value), this.spec());
  }

  private act(button: HTMLButtonElement, build: () => any, done?: string): Promise<void> {
    return act(this.ctx, button, this.status, this, build, async (sent) => {
      const events = sent.events.filter((e) => e.section === "computeRegistry").map((e) => e.method);
      await this.refresh();
      return done ?? (events.length > 0 ? events.join(", ") : "done");
    });
  }

  private async refresh(): Promise<void> {
    try {
      const account = this.ctx.account();
      if (!account) {
        this.mine.replaceChildren(h("p", { class: "muted" }, "Choose an account to see its nodes."));
        return;
      }
      const { api } = this.ctx.chain;
      const [nodes, balance, receipts] = await Promise.all([
        allNodes(this.ctx), api.query.system.account(account.address), api.query.computeJobs.receipts.entries(),
      ]);
      const mine = nodes.filter((n) => n.owner === account.address || n.worker === account.address);
      let earned = 0n;
      let paidJobs = 0;
      for (const [, value] of receipts as any[]) {
        if (!value.isSome) continue;
        const receipt = value.unwrap();
        if (receipt.provider.toString() === account.address) {
          earned += receipt.providerAmount.toBigInt() + receipt.renewableBonus.toBigInt();
          paidJobs++;
        }
      }
      const data: any = (balance as any).data;
      this.summary.replaceChildren(
        h("div", { class: "figure" }, h("div", { class: "figure-value", testid: "provider-free" }, aicc(data.free.toString())), h("div", { class: "figure-label" }, "AICC free")),
        h("div", { class: "figure" }, h("div", { class: "figure-value", testid: "provider-held" }, aicc(data.reserved.toString())), h("div", { class: "figure-label" }, "AICC held (bonds and escrow)")),
        h("div", { class: "figure" }, h("div", { class: "figure-value", testid: "provider-earned" }, aicc(earned)), h("div", { class: "figure-label" }, `AICC earned in ${paidJobs} settled job${paidJobs === 1 ? "" : "s"} (receipts kept 7 days)`)),
      );
      this.mine.replaceChildren(mine.length === 0
        ? h("p", { class: "muted", testid: "no-my-nodes" }, "This account runs no node yet: register one below.")
        : table(["id", "GPUs", "region", "price", "status", "last heartbeat", "bond", "reputation", "jobs running / done / failed", ""],
          mine.map((n) => this.row(n)), "my-nodes-table"));
    } catch (e) {
      this.mine.replaceChildren(h("div", { class: "notice error" }, message(e)));
    }
  }

  private row(n: NodeInfo): (HTMLElement | string | number)[] {
    const best = this.ctx.best();
    const heartbeat = h("button", { type: "button", class: "small", testid: `heartbeat-${n.id}` }, "heartbeat");
    heartbeat.addEventListener("click", () => void this.act(heartbeat, () => this.ctx.chain.api.tx.computeRegistry.heartbeat(n.id), `Heartbeat of node ${n.id} recorded`));
    const leave = h("button", { type: "button", class: "small secondary", testid: `deregister-${n.id}` }, "deregister");
    leave.addEventListener("click", () => void this.act(leave, () => this.ctx.chain.api.tx.computeRegistry.deregisterNode(n.id)));
    const withdraw = h("button", { type: "button", class: "small secondary", testid: `withdraw-${n.id}` }, "withdraw bond");
    withdraw.addEventListener("click", () => void this.act(withdraw, () => this.ctx.chain.api.tx.computeRegistry.withdrawBond(n.id)));
    const edit = h("button", { type: "button", class: "small secondary" }, "edit");
    edit.addEventListener("click", () => this.fill(n));
    return [
      n.id, n.spec.gpuCount, n.spec.region, `${aicc(n.spec.pricePerGpuHour)} AICC/GPU-h`,
      h("span", { class: n.active ? "ok" : "muted", testid: `status-${n.id}` }, n.status),
      `${Math.max(0, best - n.lastHeartbeat)} blocks ago`, `${aicc(n.bond)} AICC`, `${n.reputation.toFixed(1)}%`,
      `${n.activeJobs} / ${n.completedJobs} / ${n.failedJobs}`,
      h("span", { class: "actions" }, heartbeat, edit, leave, withdraw),
    ];
  }

  private fill(n: NodeInfo): void {
    const i = this.inputs;
    i.gpus.value = String(n.spec.gpuCount); i.memory.value = String(n.spec.gpuMemoryGib);
    i.bandwidth.value = String(n.spec.bandwidthMbps); i.latency.value = String(n.spec.latencyMs);
    i.region.value = n.spec.region; i.renewable.value = String(n.spec.renewableShare);
    i.carbon.value = String(n.spec.carbonIntensity); i.price.value = aicc(n.spec.pricePerGpuHour, 12).replace(/,/g, "").replace(/\.?0+$/, "");
    i.nodeId.value = String(n.id);
  }
}
