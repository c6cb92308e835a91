// Rent: the requirement form with the chain's own ranges (runtime constants), a live quote
// (`compute_quote`), submission, and the job's way through the market to its receipt.
import { type Chain, aicc, grams, parseAicc, rpc } from "../chain";
import { type Context, type Page, Latest, field, h, message, notice, numberInput, requireAccount, select } from "../dom";

interface Quote {
  eligibleNodes: number; renewableNodes: number; minCost: string; maxCost: string; energyWh: number;
  minCarbonGrams: number; maxCarbonGrams: number; referenceCarbonGrams: number;
}

interface Ranges { gpus: [number, number]; bandwidth: [number, number]; latency: [number, number]; hours: number; minBudget: bigint }

function ranges(chain: Chain): Ranges {
  const c: any = chain.api.consts.computeJobs;
  const n = (x: any) => Number(x.toString());
  return {
    gpus: [n(c.minJobGpus), n(c.maxJobGpus)],
    bandwidth: [n(c.minBandwidthMbps), n(c.maxBandwidthMbps)],
    latency: [n(c.minLatencyMs), n(c.maxLatencyMs)],
    hours: n(c.maxGpuHours),
    minBudget: BigInt(c.minJobBudget.toString()),
  };
}

const MODELS: [string, string][] = [
  ["MlpClassifier", "MLP classifier (tables)"], ["MlpRegressor", "MLP regressor (tables)"],
  ["TransformerLm", "transformer language model (text)"], ["CnnClassifier", "CNN classifier (images)"],
];

export const STAGES = ["Submitted", "Proposals", "Assigned", "Training", "Verification", "Settled"];

export class RentPage implements Page {
  private r: Ranges;
  private inputs;
  private quoteBox = h("div", { class: "quote", testid: "quote" });
  private status = notice("rent-status");
  private progress = h("div", { class: "progress" });
  private jobId?: number;
  private proposals = new Map<number, number>();
  private quoteTimer?: number;
  private quotes = new Latest();
  private unsubscribe?: () => void;

  constructor(private ctx: Context) {
    this.r = ranges(ctx.chain);
    this.inputs = {
      gpus: numberInput("gpus", 8, this.r.gpus[0], this.r.gpus[1]),
      bandwidth: numberInput("bandwidth", 100, this.r.bandwidth[0], this.r.bandwidth[1]),
      latency: numberInput("latency", 15, this.r.latency[0], this.r.latency[1]),
      hours: numberInput("hours", 1, 1, this.r.hours),
      sustainability: select("sustainability", [["Any", "any energy"], ["PreferRenewable", "prefer renewable"], ["RenewableOnly", "renewable only (≥ share below)"]], "PreferRenewable"),
      renewableShare: numberInput("renewableShare", 80, 0, 100),
      dataset: select("dataset", []),
      model: select("model", MODELS, "MlpClassifier"),
      hiddenUnits: numberInput("hiddenUnits", 16, 1, 1024),
      hiddenLayers: numberInput("hiddenLayers", 1, 1, 8),
      epochs: numberInput("epochs", 3, 1, 1000),
      budget: h("input", { type: "text", name: "budget", value: "100", inputmode: "decimal" }),
      follow: numberInput("follow", 0, 0),
    };
  }

  async render(root: HTMLElement): Promise<void> {
    const i = this.inputs;
    const submit = h("button", { type: "submit", testid: "submit-job" }, "Submit job");
    const form = h("form", { class: "form", testid: "rent-form" },
      h("fieldset", {}, h("legend", {}, "Hardware"),
        field(`GPUs (${this.r.gpus[0]}–${this.r.gpus[1]})`, i.gpus),
        field(`min bandwidth, Mbps (${this.r.bandwidth[0]}–${this.r.bandwidth[1]})`, i.bandwidth),
        field(`max latency, ms (${this.r.latency[0]}–${this.r.latency[1]})`, i.latency),
        field(`GPU-hours (1–${this.r.hours})`, i.hours),
        field("energy", i.sustainability), field("renewable share, %", i.renewableShare)),
      h("fieldset", {}, h("legend", {}, "Training"),
        field("dataset", i.dataset, "the shipped datasets and users' uploads the node's engine holds"),
        field("model", i.model), field("hidden units", i.hiddenUnits), field("hidden layers", i.hiddenLayers),
        field("epochs", i.epochs)),
      h("fieldset", {}, h("legend", {}, "Payment"),
        field("budget (AICC, held in escrow; what is not spent comes back)", i.budget), submit),
      this.status.el,
    );
    form.addEventListener("submit", (e) => { e.preventDefault(); void this.submit(submit); });
    form.addEventListener("input", () => this.scheduleQuote());
    const followButton = h("button", { type: "button", testid: "follow-job" }, "Follow");
    followButton.addEventListener("click", () => { this.follow(Number(i.follow.value)); });
    root.append(
      h("h1", {}, "Rent GPUs"),
      h("div", { class: "two" }, form, h("div", {}, h("h2", {}, "Quote"), this.quoteBox,
        h("h2", {}, "Your job"), this.progress,
        h("div", { class: "inline" }, field("or follow job #", i.follow), followButton))),
    );
    await this.loadDatasets();
    await this.quote();
  }

  async onBlock(): Promise<void> {
    if (this.jobId !== undefined) await this.track();
  }

  private async loadDatasets(): Promise<void> {
    try {
      const list = await rpc<{ name: string; hash: string }[]>(this.ctx.chain, "compute_datasets");
      this.inputs.dataset.replaceChildren(...list.map((d) => h("option", { value: d.hash }, d.name)));
      const credit = list.find((d) => d.name === "credit-scoring.csv");
      if (credit) this.inputs.dataset.value = credit.hash;
    } catch (e) {
      this.status.error(`The node's compute engine did not list its datasets: ${message(e)}`);
    }
  }

  /// The requirements as the chain takes them (the same JSON for the RPC and the call), or a
  /// readable error for a field out of the chain's ranges.
  private requirements(): any {
    const i = this.inputs;
    const int = (input: HTMLInputElement, name: string, [lo, hi]: [number, number]) => {
      const v = Number(input.value);
      if (!Number.isInteger(v) || v < lo || v > hi) throw new Error(`${name} must be a whole number from ${lo} to ${hi}`);
      return v;
    };
    const sustainability = i.sustainability.value === "RenewableOnly"
      ? { RenewableOnly: int(i.renewableShare, "The renewable share", [0, 100]) }
      : i.sustainability.value;
    if (!i.dataset.value) throw new Error("Choose a dataset: the node's engine lists none");
    return {
      gpus: int(i.gpus, "GPUs", this.r.gpus),
      minBandwidthMbps: int(i.bandwidth, "Bandwidth", this.r.bandwidth),
      maxLatencyMs: int(i.latency, "Latency", this.r.latency),
      gpuHours: int(i.hours, "GPU-hours", [1, this.r.hours]),
      sustainability,
      training: {
        dataset: i.dataset.value, model: i.model.value,
        hiddenUnits: int(i.hiddenUnits, "Hidden units", [1, 1024]),
        hiddenLayers: int(i.hiddenLayers, "Hidden layers", [1, 8]),
        learningRateMillionths: 5000, epochs: int(i.epochs, "Epochs", [1, 1000]), seed: 1, minScore: 0,
      },
    };
  }

  private scheduleQuote(): void {
    window.clearTimeout(this.quoteTimer);
    this.quoteTimer = window.setTimeout(() => void this.quote(), 250);
  }

  private disposed = false;

  dispose(): void {
    this.disposed = true;
    this.unsubscribe?.();
    window.clearTimeout(this.quoteTimer);
  }

  private async quote(): Promise<void> {
    const ticket = this.quotes.next();
    try {
      const q = await rpc<Quote>(this.ctx.chain, "compute_quote", [this.requirements()]);
      if (!this.quotes.isLatest(ticket)) return;
      const none = q.eligibleNodes === 0;
      this.quoteBox.replaceChildren(
        h("div", { testid: "quote-eligible", class: none ? "warn" : "" },
          none ? "No live node meets these requirements now: the job would wait in the queue."
            : `${q.eligibleNodes} eligible node${q.eligibleNodes === 1 ? "" : "s"} (${q.renewableNodes} mostly renewable)`),
        h("div", { testid: "quote-cost" }, none ? "" : `cost ${aicc(q.minCost)} – ${aicc(q.maxCost)} AICC`),
        h("div", { testid: "quote-carbon" }, none ? "" :
          `carbon ${grams(q.minCarbonGrams)} – ${grams(q.maxCarbonGrams)} (grid reference ${grams(q.referenceCarbonGrams)}), energy ${(q.energyWh / 1000).toFixed(1)} kWh`),
      );
    } catch (e) {
      if (!this.quotes.isLatest(ticket)) return;
      this.quoteBox.replaceChildren(h("div", { class: "notice error", testid: "quote-error" }, message(e)));
    }
  }

  private async submit(button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    try {
      const account = requireAccount(this.ctx);
      const requirements = this.requirements();
      const budget = parseAicc(this.inputs.budget.value, "budget");
      if (budget < this.r.minBudget) throw new Error(`The budget must be at least ${aicc(this.r.minBudget)} AICC`);
      this.status.info("signing…");
      const tx = this.ctx.chain.api.tx.computeJobs.submitJob(requirements, budget);
      const sent = await account.sign(tx, (s) => this.status.info(s));
      const submitted = sent.events.find((e) => e.section === "computeJobs" && (e.method === "JobSubmitted" || e.method === "JobQueued"));
      if (!submitted) throw new Error("The chain took the transaction but reported no job");
      this.status.ok(`Job ${submitted.data[0].toString()} submitted: ${aicc(budget)} AICC held in escrow`);
      this.follow(Number(submitted.data[0].toString()));
    } catch (e) {
      this.status.error(message(e));
    } finally {
      button.disabled = false;
    }
  }

  private follow(id: number): void {
    this.jobId = id;
    this.progress.replaceChildren(h("p", { class: "muted" }, `following job ${id}…`));
    void this.watchProposals();
    void this.track();
  }

  private watched = false;

  /// Counts each job's assignment proposals from the events of every new block.
  private async watchProposals(): Promise<void> {
    if (this.watched) return;
    this.watched = true;
    const unsubscribe = await this.ctx.chain.api.query.system.events((records: any) => {
      for (const { event } of records) {
        if (event.section !== "computeJobs" || event.method !== "AssignmentProposed") continue;
        const job = Number(event.data[0].toString());
        this.proposals.set(job, (this.proposals.get(job) ?? 0) + 1);
      }
    });
    this.unsubscribe = unsubscribe as unknown as () => void;
    if (this.disposed) this.unsubscribe();
  }

  private async track(): Promise<void> {
    const id = this.jobId;
    if (id === undefined) return;
    try {
      const job = await rpc<any>(this.ctx.chain, "compute_job", [id]);
      if (id !== this.jobId) return; // another job is followed now
      this.progress.replaceChildren(renderProgress(job, this.proposals.get(id) ?? 0));
    } catch (e) {
      if (id !== this.jobId) return;
      this.progress.replaceChildren(h("div", { class: "notice error", testid: "job-error" }, message(e)));
    }
  }
}

const FAILED: Record<string, string> = {
  Rejected: "The validators rejected the result: the provider was slashed and your escrow refunded.",
  TimedOut: "The provider did not deliver in time: it was slashed and your escrow refunded.",
  Unverified: "Too few validators attested the result in time: your escrow was refunded.",
  Expired: "No node took the job in time: your escrow was refunded.",
  Cancelled: "You cancelled the job: your escrow was refunded.",
};

/// The stepper: each stage done, current or to come, and the receipt once settled.
export function renderProgress(job: any, proposals: number): HTMLElement {
  const stage: string = job.status.stage;
  // The step each stage reached; a failed job fails at that step (a timed-out provider at
  // training, a rejected or unverified result at verification, an expired job at proposals).
  const reached: Record<string, number> = {
    Pending: 1, Queued: 1, Expired: 1, Cancelled: 1, Assigned: 3, TimedOut: 3,
    ResultSubmitted: 4, Rejected: 4, Unverified: 4, Settled: 6,
  };
  const at = reached[stage] ?? (job.status.node !== undefined ? 3 : 1);
  const failed = FAILED[stage];
  const steps = STAGES.map((name, i) => {
    const state = i < at ? "done" : i === at ? (failed ? "failed" : "current") : "todo";
    let detail = "";
    if (name === "Submitted") detail = `budget ${aicc(job.budget)} AICC`;
    if (name === "Proposals") detail = stage === "Queued" ? `queued: position ${job.queue?.position ?? "?"}` : `${proposals} proposal${proposals === 1 ? "" : "s"} seen`;
    if (name === "Assigned" && job.status.node !== undefined) detail = `node ${job.status.node}${job.status.cost ? `, cost ${aicc(job.status.cost)} AICC` : ""}`;
    if (name === "Verification" && job.status.metrics) detail = `score ${job.status.metrics.score.toFixed(1)}%`;
    return h("li", { class: `step ${state}`, "data-stage": name }, h("span", { class: "step-name" }, name), detail ? h("span", { class: "muted small" }, ` ${detail}`) : null);
  });
  const box = h("div", { testid: "job-progress", "data-stage": stage, "data-job": job.id },
    h("div", {}, `Job ${job.id}: `, h("strong", { testid: "job-stage" }, stage)),
    h("ol", { class: "steps" }, ...steps));
  if (failed) box.append(h("div", { class: "notice error" }, failed));
  const r = job.receipt;
  if (r) {
    box.append(h("div", { class: "receipt", testid: "receipt" },
      h("h3", {}, "Receipt"),
      h("dl", {},
        h("dt", {}, "cost"), h("dd", { testid: "receipt-cost" }, `${aicc(r.cost)} AICC`),
        h("dt", {}, "subsidy"), h("dd", {}, `${aicc(r.subsidy)} AICC${r.subsidyId !== null && r.subsidyId !== undefined ? ` (subsidy ${r.subsidyId})` : ""}`),
        h("dt", {}, "you paid"), h("dd", { testid: "receipt-paid" }, `${aicc(r.userPaid)} AICC`),
        h("dt", {}, "provider"), h("dd", {}, `${aicc(r.providerAmount)} AICC (node ${r.node})`),
        h("dt", {}, "community fund"), h("dd", {}, `${aicc(r.fundAmount)} AICC`),
        h("dt", {}, "renewable bonus"), h("dd", {}, `${aicc(r.renewableBonus)} AICC`),
        h("dt", {}, "carbon emitted"), h("dd", {}, grams(r.carbonGrams)),
        h("dt", {}, "carbon avoided"), h("dd", { testid: "receipt-avoided" }, grams(r.carbonReductionGrams)),
        h("dt", {}, "model"), h("dd", { class: "hash" }, r.modelHash),
        h("dt", {}, "score"), h("dd", { testid: "receipt-score" }, `${r.metrics.score.toFixed(1)}%`))));
  }
  return box;
}
