// Market: live figures from `compute_marketStats` and `compute_fund` at every block, charts of
// jobs, volume and carbon avoided over blocks, and the registered nodes with filters.
import { aicc, grams, rpc } from "../chain";
import { type Context, type Page, figure, field, h, message, numberInput, select, table } from "../dom";
import { LineChart } from "../charts";

export interface Stats {
  nodes: number; activeNodes: number; renewableNodes: number; totalGpus: number;
  jobsSubmitted: number; openJobs: number; settledJobs: number; failedJobs: number;
  unverifiedJobs: number; expiredJobs: number; cancelledJobs: number;
  volume: string; providerEarnings: string; fundIncome: string; subsidiesPaid: string;
  renewableBonuses: string; carbonGrams: number; carbonReductionGrams: number;
}

export interface NodeInfo {
  id: number; owner: string; worker: string; bond: string; active: boolean; status: string;
  /// Percentages (the RPC gives Perbill as a percentage).
  lastHeartbeat: number; reputation: number; activeJobs: number; completedJobs: number; failedJobs: number;
  spec: {
    gpuCount: number; gpuMemoryGib: number; bandwidthMbps: number; latencyMs: number; region: string;
    renewableShare: number; carbonIntensity: number; pricePerGpuHour: string;
  };
}

/// Every registered node, page by page (`compute_nodes` pages of 20).
export async function allNodes(ctx: Context): Promise<NodeInfo[]> {
  const nodes: NodeInfo[] = [];
  let from: number | null = 0;
  for (let pages = 0; from !== null && pages < 50; pages++) {
    const page: { nodes: NodeInfo[]; next: number | null } = await rpc(ctx.chain, "compute_nodes", [null, from]);
    nodes.push(...page.nodes);
    from = page.next;
  }
  return nodes;
}

const HISTORY = 60;

export class MarketPage implements Page {
  private figures = h("div", { class: "figures" });
  private filters = h("div", { class: "filters" });
  private nodesBox = h("div", {});
  private jobsChart = new LineChart("Jobs over blocks", ["settled", "open", "failed or expired"], "jobs-chart");
  private volumeChart = new LineChart("Volume and carbon avoided", ["volume (AICC)", "carbon avoided (kg)"], "carbon-chart");
  private nodes: NodeInfo[] = [];
  private seen = new Set<number>();

  constructor(private ctx: Context) {}

  async render(root: HTMLElement): Promise<void> {
    root.append(
      h("h1", {}, "Market"),
      this.figures,
      h("div", { class: "charts" }, this.jobsChart.el, this.volumeChart.el),
      h("h2", {}, "Nodes"),
      this.filters,
      this.nodesBox,
    );
    this.buildFilters();
    await this.refresh(this.ctx.best());
    void this.backfill();
  }

  async onBlock(best: number): Promise<void> {
    await this.refresh(best);
  }

  private async refresh(best: number): Promise<void> {
    try {
      const [stats, fund] = await Promise.all([
        rpc<Stats>(this.ctx.chain, "compute_marketStats"),
        rpc<{ balance: string; committed: string }>(this.ctx.chain, "compute_fund"),
      ]);
      this.figures.replaceChildren(
        figure("nodes live / registered", `${stats.activeNodes} / ${stats.nodes}`, "fig-nodes", `${stats.renewableNodes} mostly renewable`),
        figure("live GPUs", String(stats.totalGpus), "fig-gpus"),
        figure("jobs open", String(stats.openJobs), "fig-open"),
        figure("jobs settled", String(stats.settledJobs), "fig-settled",
          `${stats.failedJobs} failed, ${stats.unverifiedJobs} unverified, ${stats.expiredJobs} expired, ${stats.cancelledJobs} cancelled`),
        figure("volume (AICC)", aicc(stats.volume), "fig-volume", `providers earned ${aicc(stats.providerEarnings)}`),
        figure("carbon avoided", grams(stats.carbonReductionGrams), "fig-carbon", `emitted ${grams(stats.carbonGrams)}`),
        figure("community fund (AICC)", aicc(fund.balance), "fig-fund", `${aicc(fund.committed)} committed`),
      );
      this.record(best, stats);
      this.nodes = await allNodes(this.ctx);
      this.drawNodes();
    } catch (e) {
      this.figures.replaceChildren(h("div", { class: "notice error", testid: "market-error" }, message(e)));
    }
  }

  private record(block: number, s: Stats): void {
    if (this.seen.has(block)) return;
    this.seen.add(block);
    this.jobsChart.add(block, [s.settledJobs, s.openJobs, s.failedJobs + s.expiredJobs]);
    this.volumeChart.add(block, [Number(BigInt(s.volume) / 10n ** 9n) / 1000, s.carbonReductionGrams / 1000]);
  }

  /// The last blocks' figures, from the runtime API at each block (state the node still keeps).
  private async backfill(): Promise<void> {
    const { api } = this.ctx.chain;
    const best = this.ctx.best();
    for (let n = Math.max(1, best - HISTORY); n < best; n++) {
      try {
        const hash = await api.rpc.chain.getBlockHash(n);
        const at: any = await api.at(hash);
        const s: any = (await at.call.computeApi.marketStats()).toJSON();
        this.record(n, {
          ...s, volume: BigInt(s.volume).toString(),
        } as Stats);
      } catch {
        return; // pruned state or an older runtime: the chart starts here
      }
    }
  }

  private filterInputs = {
    gpus: numberInput("minGpus", 0, 0, 1024),
    region: select("region", [["", "any region"]]),
    renewable: numberInput("minRenewable", 0, 0, 100),
    price: numberInput("maxPrice", 0, 0, undefined, 0.1),
    reputation: numberInput("minReputation", 0, 0, 100),
    live: select("live", [["all", "all nodes"], ["live", "live only"]]),
  };

  private buildFilters(): void {
    const f = this.filterInputs;
    this.filters.append(
      field("min GPUs", f.gpus), field("region", f.region), field("min renewable %", f.renewable),
      field("max price (AICC/GPU-h, 0: any)", f.price), field("min reputation %", f.reputation), field("status", f.live),
    );
    for (const input of Object.values(f)) input.addEventListener("input", () => this.drawNodes());
  }

  private drawNodes(): void {
    const f = this.filterInputs;
    const regions = [...new Set(this.nodes.map((n) => n.spec.region))].sort();
    if (f.region.options.length !== regions.length + 1) {
      const chosen = f.region.value;
      f.region.replaceChildren(h("option", { value: "" }, "any region"), ...regions.map((r) => h("option", { value: r }, r)));
      f.region.value = chosen;
    }
    const maxPrice = Number(f.price.value) || 0;
    const shown = this.nodes.filter((n) =>
      n.spec.gpuCount >= (Number(f.gpus.value) || 0) &&
      (!f.region.value || n.spec.region === f.region.value) &&
      n.spec.renewableShare >= (Number(f.renewable.value) || 0) &&
      (maxPrice === 0 || Number(BigInt(n.spec.pricePerGpuHour) / 10n ** 9n) / 1000 <= maxPrice) &&
      n.reputation >= (Number(f.reputation.value) || 0) &&
      (f.live.value === "all" || n.active));
    const rows = shown.map((n) => [
      n.id, n.spec.gpuCount, `${n.spec.gpuMemoryGib} GiB`, n.spec.region, `${n.spec.renewableShare}%`,
      `${n.spec.carbonIntensity} g/kWh`, aicc(n.spec.pricePerGpuHour), h("span", { testid: `reputation-${n.id}` }, `${n.reputation.toFixed(1)}%`),
      h("span", { class: n.active ? "ok" : "muted" }, n.status), `${n.completedJobs} / ${n.failedJobs}`,
    ]);
    this.nodesBox.replaceChildren(
      h("div", { class: "muted small", testid: "nodes-count" }, `${shown.length} of ${this.nodes.length} nodes`),
      rows.length > 0
        ? table(["id", "GPUs", "memory", "region", "renewable", "carbon", "AICC/GPU-h", "reputation", "status", "jobs done / failed"], rows, "nodes-table")
        : h("p", { class: "muted", testid: "no-nodes" }, this.nodes.length === 0
          ? "No node is registered yet: providers register theirs on the Provide page."
          : "No node matches these filters."),
    );
  }
}
