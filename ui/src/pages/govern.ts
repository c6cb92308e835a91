// Govern: the community fund, open subsidy proposals with a countdown, AICG votes (frozen until
// the vote closes) and their removal, new proposals, active subsidies.
import { aicc, countdown, parseAicc, rpc } from "../chain";
import { type Context, type Page, act, busyIn, field, h, message, notice, numberInput, select, table, textInput } from "../dom";

interface Fund {
  account: string; balance: string; committed: string; uncommitted: string;
  activeSubsidies: { id: number; share: number; scope: string; perJobCap: string; remaining: string; paid: string; endsAt: number }[];
}

const SCOPES: [string, string][] = [["AllJobs", "all jobs"], ["RenewableProviders", "jobs on mostly renewable nodes"]];

export class GovernPage implements Page {
  private status = notice("govern-status");
  private fundBox = h("div", { class: "figures" });
  private proposalsBox = h("div", { testid: "proposals" });
  private subsidiesBox = h("div", { testid: "subsidies" });
  private amounts = new Map<number, HTMLInputElement>();
  private inputs = {
    share: numberInput("share", 50, 1, 100),
    scope: select("scope", SCOPES, "RenewableProviders"),
    cap: textInput("perJobCap", "5"),
    budget: textInput("totalBudget", "100"),
    duration: numberInput("duration", 14_400, 1),
  };

  constructor(private ctx: Context) {}

  private root: HTMLElement = document.body;

  async render(root: HTMLElement): Promise<void> {
    this.root = root;
    const i = this.inputs;
    const propose = h("button", { type: "button", testid: "propose" }, "Propose subsidy");
    propose.addEventListener("click", () => void this.act(propose, () => this.ctx.chain.api.tx.communityFund.proposeSubsidy({
      share: this.percentToPerbill(i.share), scope: i.scope.value,
      perJobCap: parseAicc(i.cap.value, "per-job cap"), totalBudget: parseAicc(i.budget.value, "total budget"),
      duration: this.positive(i.duration, "The duration"),
    })));
    const consts: any = this.ctx.chain.api.consts.communityFund;
    root.append(
      h("h1", {}, "Govern the community fund"),
      this.fundBox,
      h("h2", {}, "Open proposals"),
      h("p", { class: "muted small" },
        `Vote with AICG: it stays yours but is frozen until the vote closes. A proposal passes with a quorum of ` +
        `${pct(consts.quorum)} of AICG issuance and more than ${pct(consts.approvalThreshold)} ayes.`),
      this.proposalsBox,
      this.status.el,
      h("h2", {}, "Active subsidies"),
      this.subsidiesBox,
      h("h2", {}, "Propose a subsidy"),
      h("form", { class: "form", testid: "propose-form" }, h("fieldset", {},
        field("share of each job's cost the fund pays, %", i.share), field("which jobs", i.scope),
        field("most per job (AICC)", i.cap), field("most in all (AICC)", i.budget),
        field("duration once approved (blocks of 6 s)", i.duration), propose)),
    );
    await this.refresh();
  }

  inFlight = false;

  async onBlock(): Promise<void> {
    // No redraw under the user's hands: a button mid-signing, or typing in the page.
    if (busyIn(this.root, this.inFlight)) return;
    await this.refresh();
  }

  private percentToPerbill(input: HTMLInputElement): number {
    return this.positive(input, "The share", 100) * 10_000_000;
  }

  private positive(input: HTMLInputElement, name: string, max = 1_000_000_000): number {
    const v = Number(input.value);
    if (!Number.isInteger(v) || v < 1 || v > max) throw new Error(`${name} must be a whole number from 1 to ${max}`);
    return v;
  }

  private act(button: HTMLButtonElement, build: () => any): Promise<void> {
    return act(this.ctx, button, this.status, this, build, async (sent) => {
      const event = sent.events.find((e) => e.section === "communityFund");
      await this.refresh();
      return event ? `${event.method}` : "done";
    });
  }

  private async refresh(): Promise<void> {
    try {
      const { api } = this.ctx.chain;
      const account = this.ctx.account();
      const fund = await rpc<Fund>(this.ctx.chain, "compute_fund");
      const aicg: any = account ? await api.query.aicg.account(account.address) : undefined;
      this.fundBox.replaceChildren(
        h("div", { class: "figure" }, h("div", { class: "figure-value", testid: "fund-balance" }, aicc(fund.balance)), h("div", { class: "figure-label" }, "fund balance (AICC)")),
        h("div", { class: "figure" }, h("div", { class: "figure-value" }, aicc(fund.committed)), h("div", { class: "figure-label" }, "committed to subsidies")),
        h("div", { class: "figure" }, h("div", { class: "figure-value" }, aicc(fund.uncommitted)), h("div", { class: "figure-label" }, "free to commit")),
        aicg ? h("div", { class: "figure" }, h("div", { class: "figure-value", testid: "my-aicg" }, aicc(aicg.free.toString())),
          h("div", { class: "figure-label" }, `your AICG (${aicc(aicg.frozen.toString())} frozen in votes)`)) : "",
      );
      await this.drawProposals(account?.address);
      this.subsidiesBox.replaceChildren(fund.activeSubsidies.length === 0
        ? h("p", { class: "muted" }, "No subsidy is active.")
        : table(["id", "share", "jobs", "per job", "remaining", "paid", "ends"], fund.activeSubsidies.map((s) => [
          s.id, `${s.share.toFixed(0)}%`, s.scope, aicc(s.perJobCap), aicc(s.remaining), aicc(s.paid), countdown(this.ctx.best(), s.endsAt),
        ]), "subsidies-table"));
    } catch (e) {
      this.proposalsBox.replaceChildren(h("div", { class: "notice error" }, message(e)));
    }
  }

  private async drawProposals(me?: string): Promise<void> {
    const { api } = this.ctx.chain;
    const entries = await api.query.communityFund.proposals.entries();
    const open = entries
      .map(([key, value]: any) => ({ id: Number(key.args[0].toString()), p: value.unwrap() }))
      .sort((a, b) => a.id - b.id);
    if (open.length === 0) {
      this.proposalsBox.replaceChildren(h("p", { class: "muted", testid: "no-proposals" }, "No proposal is open."));
      return;
    }
    const rows = [];
    for (const { id, p } of open) {
      const mine: any = me ? await api.query.communityFund.votes(id, me) : undefined;
      const vote = mine && mine.isSome ? mine.unwrap() : undefined;
      // Kept across blocks' redraws, so that typing is not lost.
      const amount = this.amounts.get(id) ??
        h("input", { type: "text", value: "1000", inputmode: "decimal", class: "amount", testid: `vote-amount-${id}`, "aria-label": "AICG" });
      this.amounts.set(id, amount);
      const aye = h("button", { type: "button", class: "small", testid: `vote-aye-${id}` }, "aye");
      const nay = h("button", { type: "button", class: "small secondary", testid: `vote-nay-${id}` }, "nay");
      const remove = h("button", { type: "button", class: "small secondary", testid: `remove-vote-${id}` }, "remove my vote");
      aye.addEventListener("click", () => void this.act(aye, () => api.tx.communityFund.vote(id, true, parseAicc(amount.value, "vote"))));
      nay.addEventListener("click", () => void this.act(nay, () => api.tx.communityFund.vote(id, false, parseAicc(amount.value, "vote"))));
      remove.addEventListener("click", () => void this.act(remove, () => api.tx.communityFund.removeVote(id)));
      const t = p.terms;
      rows.push([
        id,
        `${(t.share.toNumber() / 10_000_000).toFixed(0)}% of ${t.scope.toString()} jobs, up to ${aicc(t.perJobCap.toString())} per job, ${aicc(t.totalBudget.toString())} in all, for ${t.duration.toString()} blocks`,
        h("span", { testid: `tally-${id}` }, `${aicc(p.ayes.toString(), 0)} aye / ${aicc(p.nays.toString(), 0)} nay`),
        h("span", { testid: `countdown-${id}` }, countdown(this.ctx.best(), p.endsAt.toNumber())),
        h("span", { testid: `my-vote-${id}` }, vote ? `${vote[0].isTrue ? "aye" : "nay"} with ${aicc(vote[1].toString(), 0)} AICG` : "none"),
        h("span", { class: "actions" }, amount, aye, nay, remove),
      ]);
    }
    this.proposalsBox.replaceChildren(table(["id", "terms", "tally (AICG)", "closes", "your vote", "vote (AICG)"], rows, "proposals-table"));
  }
}

function pct(perbill: any): string {
  return `${(Number(perbill.toString()) / 10_000_000).toFixed(0)}%`;
}
