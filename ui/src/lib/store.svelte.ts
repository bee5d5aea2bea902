// The app's shared state: who is signed in, where files go, which files. Components read it and
// call its methods; every change to the server goes through `call`.
import { call, toError } from './api';
import type { AccountsView } from './bindings/AccountsView';
import type { Error as CoreError } from './bindings/Error';
import type { RepoRef } from './bindings/RepoRef';
import type { Source } from './bindings/Source';

export type Destination = { repo: RepoRef | null; branch: string; dest: string };

class AppStore {
  accounts = $state<AccountsView | null>(null);
  /** Shown in the banner at the top; cleared by the user or the next success. */
  problem = $state<CoreError | null>(null);
  destination = $state<Destination>({ repo: null, branch: 'main', dest: '' });
  sources = $state<Source[]>([]);
  /** Bumped when something changed what a plan would say (files, destination). */
  revision = $state(0);

  get active() {
    const a = this.accounts;
    return a?.accounts.find((x) => x.id === a.active) ?? null;
  }

  async loadAccounts() {
    this.accounts = await call('accounts_state');
  }

  setAccounts(view: AccountsView) {
    this.accounts = view;
  }

  setSources(items: Source[]) {
    this.sources = items;
    this.revision += 1;
  }

  setDestination(d: Partial<Destination>) {
    this.destination = { ...this.destination, ...d };
    this.revision += 1;
  }

  /** Runs an action, turning failures into the banner instead of an unhandled rejection. */
  async attempt<T>(action: () => Promise<T>): Promise<T | undefined> {
    try {
      const value = await action();
      this.problem = null;
      return value;
    } catch (e) {
      const err = toError(e);
      if (err.code === 'key_rejected' || err.code === 'not_signed_in') {
        await this.loadAccounts().catch(() => undefined);
      }
      this.problem = err;
      return undefined;
    }
  }
}

export const app = new AppStore();
