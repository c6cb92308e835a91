// A few DOM helpers: the app is small enough to need no framework.
import type { Chain } from "./chain";
import type { Account } from "./accounts";

type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | undefined> = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (key === "testid") el.setAttribute("data-testid", String(value));
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/// What every page gets: the chain, the signing account, the best block.
export interface Context {
  chain: Chain;
  account(): Account | undefined;
  best(): number;
}

export interface Page {
  /// Draws the page into `root`.
  render(root: HTMLElement): Promise<void>;
  /// Called on each new best block while the page shows.
  onBlock?(best: number): Promise<void>;
  /// Called when the page is left (subscriptions end).
  dispose?(): void;
}

/// Tells whether an answer is still the latest asked for (answers may arrive out of order).
export class Latest {
  private asked = 0;
  /// A ticket for a new question; `isLatest(ticket)` once its answer arrives.
  next(): number {
    return ++this.asked;
  }
  isLatest(ticket: number): boolean {
    return ticket === this.asked;
  }
}

/// Whether a redraw now would pull controls from under the user: an action in flight, or the
/// focus inside `box` (typing an amount).
export function busyIn(box: HTMLElement, inFlight: boolean): boolean {
  return inFlight || box.contains(document.activeElement);
}

/// A labelled figure (`testid` names it for the browser tests).
export function figure(label: string, value: string, testid: string, note?: string): HTMLElement {
  return h("div", { class: "figure" },
    h("div", { class: "figure-value", testid }, value),
    h("div", { class: "figure-label" }, label),
    note ? h("div", { class: "muted small" }, note) : null);
}

/// A line under a form saying what is going on, or what went wrong.
export function notice(testid: string): { el: HTMLElement; info(text: string): void; error(text: string): void; ok(text: string): void; clear(): void } {
  const el = h("div", { class: "notice", testid, role: "status", "aria-live": "polite" });
  const set = (cls: string, text: string) => { el.className = `notice ${cls}`; el.textContent = text; };
  return {
    el,
    info: (text) => set("info", text),
    error: (text) => set("error", text),
    ok: (text) => set("ok", text),
    clear: () => set("", ""),
  };
}

/// A labelled input.
export function field(label: string, input: HTMLElement, hint?: string): HTMLElement {
  return h("label", { class: "field" }, h("span", {}, label), input, hint ? h("span", { class: "muted small" }, hint) : null);
}

export function numberInput(name: string, value: number, min?: number, max?: number, step = 1): HTMLInputElement {
  return h("input", { type: "number", name, value, min, max, step, inputmode: "decimal" });
}

export function textInput(name: string, value = "", placeholder = ""): HTMLInputElement {
  return h("input", { type: "text", name, value, placeholder });
}

export function select(name: string, options: [string, string][], value?: string): HTMLSelectElement {
  const el = h("select", { name }, ...options.map(([v, text]) => h("option", { value: v }, text)));
  if (value !== undefined) el.value = value;
  return el;
}

/// A table in a scrolling box (phone-width screens scroll it sideways, not the page).
export function table(headers: string[], rows: Child[][], testid: string): HTMLElement {
  return h("div", { class: "table-wrap" },
    h("table", { testid },
      h("thead", {}, h("tr", {}, ...headers.map((x) => h("th", {}, x)))),
      h("tbody", {}, ...rows.map((row) => h("tr", {}, ...row.map((cell) => h("td", {}, cell)))))));
}

/// The signing account, or an error a person can act on.
export function requireAccount(ctx: Context): Account {
  const account = ctx.account();
  if (!account) {
    throw new Error(
      "No account to sign with: install a Polkadot wallet extension (polkadot{.js}, Talisman, SubWallet) " +
        "and allow this page, or use a dev chain, where the dev accounts sign.",
    );
  }
  return account;
}

export function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/// Signs and sends what `build` makes with the chosen account, with `button` disabled and
/// `flag.inFlight` set meanwhile; `status` tells the progress, then `after`'s words, or the error.
export async function act(
  ctx: Context,
  button: HTMLButtonElement,
  status: ReturnType<typeof notice>,
  flag: { inFlight: boolean },
  build: () => any,
  after: (sent: import("./chain").Sent) => Promise<string>,
): Promise<void> {
  button.disabled = true;
  flag.inFlight = true;
  try {
    const account = requireAccount(ctx);
    const tx = build();
    status.info("signing…");
    const sent = await account.sign(tx, (s) => status.info(s));
    status.ok(await after(sent));
  } catch (e) {
    status.error(message(e));
  } finally {
    button.disabled = false;
    flag.inFlight = false;
  }
}
