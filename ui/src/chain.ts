// The connection to the chain: @polkadot/api from the node's metadata (no custom types) and the
// node's `compute_*` JSON-RPC methods, with amounts and errors put the way a person reads them.
import { ApiPromise, WsProvider } from "@polkadot/api";
import type { SubmittableExtrinsic } from "@polkadot/api/types";
import type { DispatchError } from "@polkadot/types/interfaces";

export const UNIT = 1_000_000_000_000n;
/// Target block time of the runtime (6 s), for countdowns.
export const BLOCK_SECONDS = 6;

export interface Chain {
  api: ApiPromise;
  provider: WsProvider;
  url: string;
  /// `Development` or `Local`: dev accounts may sign.
  isDev: boolean;
  best: number;
}

/// The node's address: `?rpc=ws://…` in the page's address, else the dev chain's default.
export function nodeUrl(): string {
  const fromQuery = new URLSearchParams(window.location.search).get("rpc");
  return fromQuery ?? "ws://127.0.0.1:9944";
}

/// Connects, or fails with a message that says where it tried and what to do.
export async function connect(url: string, timeoutMs = 8_000): Promise<Chain> {
  // Reconnects by itself (every 2.5 s) once connected; the first failure is reported instead.
  const provider = new WsProvider(url, 2_500);
  const unreachable = new Error(
    `Cannot reach the AICChain node at ${url}. Is it running? Start a dev chain with \`make run\`, ` +
      `or open this page with ?rpc=ws://host:port for another node.`,
  );
  try {
    await withTimeout(
      new Promise((resolve, reject) => {
        if (provider.isConnected) resolve(undefined);
        provider.on("connected", resolve);
        provider.on("error", reject);
      }),
      timeoutMs,
      unreachable,
    );
  } catch {
    await provider.disconnect().catch(() => undefined);
    throw unreachable;
  }
  let api: ApiPromise;
  try {
    api = await withTimeout(
      ApiPromise.create({ provider, noInitWarn: true, throwOnConnect: true }),
      timeoutMs * 2,
      unreachable,
    );
  } catch (e) {
    await provider.disconnect().catch(() => undefined);
    throw e instanceof Error ? e : unreachable;
  }
  const chainType = await api.rpc.system.chainType();
  const best = (await api.rpc.chain.getHeader()).number.toNumber();
  return { api, provider, url, isDev: chainType.isDevelopment || chainType.isLocal, best };
}

function withTimeout<T>(promise: Promise<T>, ms: number, error: Error): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(error), ms);
    promise.then(
      (value) => { clearTimeout(timer); resolve(value); },
      (e) => { clearTimeout(timer); reject(e); },
    );
  });
}

/// A `compute_*` (or any) JSON-RPC method of the node; errors become readable sentences.
export async function rpc<T = any>(chain: Chain, method: string, params: unknown[] = []): Promise<T> {
  try {
    return (await chain.provider.send(method, params)) as T;
  } catch (e) {
    throw new Error(explainRpcError(chain, String((e as Error).message ?? e)));
  }
}

/// "-32602: the chain refuses these requirements: GpusOutOfRange" → the error's own
/// documentation from the metadata, with its name.
export function explainRpcError(chain: Chain, message: string): string {
  const text = message.replace(/^-?\d+:\s*/, "");
  const named = /refuses these requirements: (\w+)/.exec(text);
  if (named) {
    const docs = errorDocs(chain, "computeJobs", named[1]);
    return `The chain refuses these requirements: ${docs ?? named[1]}`;
  }
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/// An error's doc comment in the metadata (the pallet's own words), if it has one.
export function errorDocs(chain: Chain, section: string, name: string): string | undefined {
  const pallet = chain.api.registry.metadata.pallets.find(
    (p) => p.name.toString().toLowerCase() === section.toLowerCase(),
  );
  if (!pallet || pallet.errors.isNone) return undefined;
  const lookup = chain.api.registry.lookup.getSiType(pallet.errors.unwrap().type);
  if (!lookup.def.isVariant) return undefined;
  const variant = lookup.def.asVariant.variants.find((v) => v.name.toString() === name);
  const docs = variant?.docs.map((d) => d.toString().trim()).join(" ").trim();
  return docs ? `${docs} (${name})` : undefined;
}

/// Balance of planck (a decimal string or bigint) as AICC with `digits` decimals.
export function aicc(planck: string | bigint | number | { toString(): string }, digits = 2): string {
  const value = BigInt(planck.toString());
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const whole = abs / UNIT;
  const scale = 10n ** BigInt(digits);
  const frac = ((abs % UNIT) * scale) / UNIT;
  const wholeText = whole.toLocaleString("en-US");
  const fracText = digits > 0 ? "." + frac.toString().padStart(digits, "0") : "";
  return `${negative ? "-" : ""}${wholeText}${fracText}`;
}

/// AICC typed by a person ("12.5") in planck; throws a readable error on anything else.
export function parseAicc(text: string, what = "amount"): bigint {
  const trimmed = text.trim();
  if (!/^\d+(\.\d{0,12})?$/.test(trimmed)) throw new Error(`The ${what} must be a number of tokens, like 100 or 2.5`);
  const [whole, frac = ""] = trimmed.split(".");
  return BigInt(whole) * UNIT + BigInt(frac.padEnd(12, "0"));
}

export function grams(g: number | string): string {
  const value = Number(g);
  return value >= 1000 ? `${(value / 1000).toFixed(2)} kg` : `${value.toFixed(0)} g`;
}

/// "in 3 min 12 s" for a block in the future, from the block time.
export function countdown(best: number, at: number): string {
  const blocks = at - best;
  if (blocks <= 0) return "closing now";
  const seconds = blocks * BLOCK_SECONDS;
  const minutes = Math.floor(seconds / 60);
  return minutes > 0 ? `in ${minutes} min ${seconds % 60} s (${blocks} blocks)` : `in ${seconds} s (${blocks} blocks)`;
}

export interface Sent {
  blockHash: string;
  events: { section: string; method: string; data: any }[];
}

export interface Signer {
  address: string;
  /// A keyring pair (dev accounts) or the extension's signer.
  sign: (tx: SubmittableExtrinsic<"promise">, onStatus: (s: string) => void) => Promise<Sent>;
}

/// Sends and waits for inclusion; a failed dispatch rejects with the pallet's own words.
export function sendWith(
  chain: Chain,
  signAndSend: (cb: (result: any) => void) => Promise<() => void>,
  onStatus: (s: string) => void,
): Promise<Sent> {
  return new Promise((resolve, reject) => {
    let unsubscribe: (() => void) | undefined;
    signAndSend(({ status, dispatchError, events }) => {
      if (status.isReady || status.isBroadcast) onStatus("sent, waiting for a block…");
      if (status.isInvalid || status.isDropped || status.isUsurped) {
        unsubscribe?.();
        reject(new Error(`The transaction was ${status.type.toLowerCase()} by the node`));
        return;
      }
      if (!status.isInBlock) return;
      unsubscribe?.();
      if (dispatchError) {
        reject(new Error(explainDispatchError(chain, dispatchError)));
        return;
      }
      resolve({
        blockHash: status.asInBlock.toHex(),
        events: events.map(({ event }: any) => ({ section: event.section, method: event.method, data: event.data })),
      });
    })
      .then((u) => { unsubscribe = u; })
      .catch((e: unknown) => reject(new Error(explainSubmitError(String((e as Error)?.message ?? e)))));
  });
}

export function explainDispatchError(chain: Chain, error: DispatchError): string {
  if (error.isModule) {
    const meta = chain.api.registry.findMetaError(error.asModule);
    const name = `${meta.section}.${meta.name}`;
    const docs = meta.docs.join(" ").trim();
    if (/^Insufficient(Balance|Bond|Funds|Deposit)$/.test(meta.name) || (meta.section === "balances" && /Insufficient|Funds/.test(meta.name))) {
      return `Insufficient funds: ${docs || "the account does not hold enough AICC for this"} (${name})`;
    }
    return docs ? `${docs} (${name})` : name;
  }
  if (error.isToken) {
    const token = error.asToken.type;
    if (token === "NoFunds" || token === "BelowMinimum" || token === "Frozen" || String(token) === "FundsUnavailable") {
      return `Insufficient funds: the account cannot spare this much (${token})`;
    }
    return `Token error: ${token}`;
  }
  if (error.isArithmetic) return `Amount out of range (${error.asArithmetic.type})`;
  if (error.isBadOrigin) return "This account may not do that";
  return error.toString();
}

/// The node's refusal of a transaction before it enters a block (fees, nonce, signing).
export function explainSubmitError(message: string): string {
  if (/Inability to pay some fees|balance too low/i.test(message)) {
    return "Insufficient funds: the account cannot pay this transaction's fee";
  }
  if (/Cancelled|Rejected by user/i.test(message)) return "Signing was cancelled in the wallet";
  return message.replace(/^\d+:\s*/, "");
}
