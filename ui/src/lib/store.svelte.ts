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

  // Screens that come back (after an upload) set the same values again: that changes no plan.
  setSources(items: Source[]) {
    const same =
      items.length === this.sources.length && items.every((s, i) => s.id === this.sources[i]?.id);
    this.sources = items;
    if (!same) this.revision += 1;
  }

  setDestination(d: Partial<Destination>) {
    const next = { ...this.destination, ...d };
    const was = this.destination;
    const same =
      next.branch === was.branch &&
      next.dest === was.dest &&
      next.repo?.namespace === was.repo?.namespace &&
      next.repo?.name === was.repo?.name;
    this.destination = next;
    if (!same) this.revision += 1;
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
