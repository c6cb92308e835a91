// The app's shell: connects, keeps the account choice, routes by the address's #page and tells
// the page about each new block.
import "./style.css";
import { type Chain, connect, nodeUrl } from "./chain";
import { type Account, loadAccounts } from "./accounts";
import { type Context, type Page, h, message } from "./dom";
import { MarketPage } from "./pages/market";
import { RentPage } from "./pages/rent";
import { ProvidePage } from "./pages/provide";
import { GovernPage } from "./pages/govern";
import { DecisionsPage } from "./pages/decisions";

const PAGES: Record<string, (ctx: Context) => Page> = {
  market: (ctx) => new MarketPage(ctx),
  rent: (ctx) => new RentPage(ctx),
  provide: (ctx) => new ProvidePage(ctx),
  govern: (ctx) => new GovernPage(ctx),
  decisions: (ctx) => new DecisionsPage(ctx),
};

const root = document.getElementById("page") as HTMLElement;
const connection = document.getElementById("connection") as HTMLElement;
const accountSelect = document.getElementById("account") as HTMLSelectElement;
const banner = document.getElementById("banner") as HTMLElement;

let current: Page | undefined;
let accounts: Account[] = [];
let best = 0;

function showBanner(text: string | undefined): void {
  banner.hidden = !text;
  banner.textContent = text ?? "";
}

let generation = 0;

async function route(ctx: Context): Promise<void> {
  const mine = ++generation;
  current?.dispose?.();
  const name = (window.location.hash.replace(/^#/, "").split("?")[0] || "market").toLowerCase();
  const make = PAGES[name] ?? PAGES.market;
  for (const a of document.querySelectorAll<HTMLAnchorElement>("#nav a")) {
    a.classList.toggle("active", a.getAttribute("href") === `#${name in PAGES ? name : "market"}`);
  }
  const page = make(ctx);
  current = page;
  root.replaceChildren();
  delete root.dataset.ready;
  root.dataset.page = name in PAGES ? name : "market";
  try {
    await page.render(root);
    if (mine === generation) root.dataset.ready = "true";
  } catch (e) {
    // A page left meanwhile says nothing on the page that replaced it.
    if (mine === generation) root.append(h("div", { class: "notice error", testid: "page-error" }, message(e)));
  }
}

async function start(): Promise<void> {
  const url = nodeUrl();
  let chain: Chain;
  try {
    chain = await connect(url);
  } catch (e) {
    connection.textContent = "offline";
    connection.className = "pill bad";
    root.replaceChildren(h("div", { class: "notice error", testid: "unreachable" }, message(e),
      h("div", { class: "muted small" }, "Trying again every 5 seconds…")));
    // The page may open before the node is up (`make run` serves both): keep trying.
    window.setTimeout(() => void start(), 5_000);
    return;
  }
  best = chain.best;
  const name = (await chain.api.rpc.system.chain()).toString();
  connection.textContent = `${name} · block ${best}`;
  connection.className = "pill good";
  chain.provider.on("disconnected", () => {
    connection.className = "pill bad";
    showBanner(`Lost the connection to ${url}; reconnecting…`);
  });
  chain.provider.on("connected", () => showBanner(undefined));

  accounts = await loadAccounts(chain);
  const saved = localStorage.getItem("aicchain.account");
  accountSelect.replaceChildren(...accounts.map((a) => h("option", { value: a.address }, a.name)));
  if (accounts.length === 0) {
    accountSelect.append(h("option", { value: "" }, "no account: install a wallet extension"));
  } else {
    accountSelect.value = accounts.some((a) => a.address === saved) ? saved! : accounts[0].address;
  }
  const ctx: Context = {
    chain,
    account: () => accounts.find((a) => a.address === accountSelect.value),
    best: () => best,
  };
  accountSelect.addEventListener("change", () => {
    localStorage.setItem("aicchain.account", accountSelect.value);
    void route(ctx);
  });
  window.addEventListener("hashchange", () => void route(ctx));
  await route(ctx);

  let busy = false;
  await chain.api.rpc.chain.subscribeNewHeads(async (header) => {
    best = header.number.toNumber();
    connection.textContent = `${name} · block ${best}`;
    connection.className = "pill good";
    document.body.dataset.best = String(best);
    if (busy || !current?.onBlock) return;
    busy = true;
    try {
      await current.onBlock(best);
    } finally {
      busy = false;
    }
  });
}

void start();
