// Decisions: for a job, the node's compute engine's selection (`compute_selection`): the state
// the policy saw (every candidate's features), each candidate's probability, the proposal,
// whether it explored, the critic's estimate, the reward learnt, and how the chain assigned it.
import { rpc } from "../chain";
import { type Context, type Page, Latest, field, h, message, numberInput, table } from "../dom";

interface Selection {
  chosen: number; explored: boolean; expectedReward: number | null;
  scores: { node: number; probability: number; features: Record<string, number> }[];
  outcome: { node: number; reward: number } | null;
}

export class DecisionsPage implements Page {
  private box = h("div", { testid: "decision" });
  private input = numberInput("job", 0, 0);
  private asked = new Latest();

  constructor(private ctx: Context) {}

  async render(root: HTMLElement): Promise<void> {
    const show = h("button", { type: "button", testid: "show-decision" }, "Show");
    show.addEventListener("click", () => void this.show(Number(this.input.value)));
    root.append(
      h("h1", {}, "Decisions"),
      h("p", { class: "muted" },
        "Which node this node's off-chain worker proposed for a job, and the probability its policy gave each candidate. " +
        "Each validator proposes; the chain assigns the node a majority named, else its own fallback score."),
      h("div", { class: "inline" }, field("job", this.input), show),
      this.box,
    );
    const latest = Number((await this.ctx.chain.api.query.computeJobs.nextJobId()).toString()) - 1;
    if (latest >= 0) {
      this.input.value = String(latest);
      await this.show(latest);
    }
  }

  private async show(id: number): Promise<void> {
    const ticket = this.asked.next();
    try {
      const [selection, job] = await Promise.all([
        rpc<Selection>(this.ctx.chain, "compute_selection", [id]),
        rpc<any>(this.ctx.chain, "compute_job", [id]).catch(() => undefined),
      ]);
      if (!this.asked.isLatest(ticket)) return;
      const names = Object.keys(selection.scores[0]?.features ?? {});
      const rows = [...selection.scores]
        .sort((a, b) => b.probability - a.probability)
        .map((s) => [
          s.node === selection.chosen ? h("strong", {}, `node ${s.node} (proposed)`) : `node ${s.node}`,
          h("span", { class: "bar-cell" },
            h("span", { class: "bar", style: `width:${Math.round(s.probability * 100)}%` }),
            h("span", { testid: `probability-${s.node}` }, `${(s.probability * 100).toFixed(1)}%`)),
          ...names.map((n) => (s.features[n] ?? 0).toFixed(3)),
        ]);
      const outcome = selection.outcome
        ? `node ${selection.outcome.node} ran it; reward learnt ${selection.outcome.reward.toFixed(3)}`
        : "no outcome learnt yet";
      const stage = job ? `${job.status.stage}${job.status.node !== undefined ? ` on node ${job.status.node}` : ""}` : "pruned from state";
      this.box.replaceChildren(
        h("p", {}, `Job ${id}: proposed node `, h("strong", { testid: "decision-chosen" }, String(selection.chosen)),
          selection.explored ? " (an exploring draw, not the most probable candidate)" : "",
          `; on chain: `, h("span", { testid: "decision-stage" }, stage)),
        h("p", { class: "muted" }, `The critic expected a reward of `,
          h("span", { testid: "decision-expected" }, selection.expectedReward === null ? "?" : selection.expectedReward.toFixed(3)),
          `; `, h("span", { testid: "decision-outcome" }, outcome), "."),
        table(["candidate", "probability", ...names], rows, "decision-table"),
        h("p", { class: "muted small" },
          "Features (the state the policy saw): cost ÷ budget, carbon intensity (× 3 for a job preferring renewable power), " +
          "renewable share, reputation, running jobs ÷ slots, latency ÷ the job's maximum, bandwidth ÷ 4× the job's minimum, " +
          "GPUs ÷ 4× the job's, and the track record's success estimate."),
      );
    } catch (e) {
      if (!this.asked.isLatest(ticket)) return;
      this.box.replaceChildren(h("div", { class: "notice error", testid: "decision-error" }, message(e)));
    }
  }
}
