// Who signs: the browser extension's accounts (polkadot{.js}, Talisman, SubWallet…) and, on a
// development or local chain only, the well-known dev accounts.
import { Keyring } from "@polkadot/api";
import { web3Accounts, web3Enable, web3FromAddress } from "@polkadot/extension-dapp";
import { cryptoWaitReady } from "@polkadot/util-crypto";
import type { SubmittableExtrinsic } from "@polkadot/api/types";
import { type Chain, type Sent, type Signer, sendWith } from "./chain";

export interface Account extends Signer {
  name: string;
  source: "dev" | "extension";
}

const DEV_NAMES = ["Alice", "Bob", "Charlie", "Dave", "Eve", "Ferdie"];

export async function loadAccounts(chain: Chain): Promise<Account[]> {
  const accounts: Account[] = [];
  try {
    const extensions = await web3Enable("AICChain");
    if (extensions.length > 0) {
      for (const injected of await web3Accounts({ ss58Format: 42 })) {
        const address = injected.address;
        accounts.push({
          name: `${injected.meta.name ?? "account"} (${injected.meta.source})`,
          source: "extension",
          address,
          sign: async (tx, onStatus) => {
            const { signer } = await web3FromAddress(address);
            return sendWith(chain, (cb) => tx.signAndSend(address, { signer }, cb), onStatus);
          },
        });
      }
    }
  } catch {
    // No extension: dev accounts only (on a dev chain).
  }
  if (chain.isDev) {
    await cryptoWaitReady();
    const keyring = new Keyring({ type: "sr25519", ss58Format: 42 });
    for (const name of DEV_NAMES) {
      const pair = keyring.addFromUri(`//${name}`, { name });
      accounts.push({
        name: `${name} (dev account)`,
        source: "dev",
        address: pair.address,
        sign: (tx: SubmittableExtrinsic<"promise">, onStatus: (s: string) => void): Promise<Sent> =>
          sendWith(chain, (cb) => tx.signAndSend(pair, cb), onStatus),
      });
    }
  }
  return accounts;
}
