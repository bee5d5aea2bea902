// The watched folders: each one's state arrives over one Channel (`watch_watches`); the actions
// here only ask Rust, which runs the watches and sends the changed list back.
import { call, toError, watchWatches } from './api';
import type { Author } from './bindings/Author';
import type { Resolution } from './bindings/Resolution';
import type { Rhythm } from './bindings/Rhythm';
import type { WatchInfo } from './bindings/WatchInfo';
import type { WatchesView } from './bindings/WatchesView';
import { app } from './store.svelte';

/** "2 minutes", "1 hour", "90 seconds": as the core spells durations. */
export function spell(secs: number): string {
  const units: [number, string][] = [
    [86400, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
  ];
  const found = units.find(([size]) => secs >= size && secs % size === 0);
  const [n, unit] = found ? [secs / found[0], found[1]] : [secs, 'second'];
  return n === 1 ? `1 ${unit}` : `${n} ${unit}s`;
}

/** For people, as the core says it: "when changes have settled for 2 minutes", "every hour". */
export function describeRhythm(r: Rhythm): string {
  switch (r.kind) {
    case 'settled':
      return `when changes have settled for ${spell(r.quiet_secs)}`;
    case 'every':
      return r.secs === 3600 ? 'every hour' : `every ${spell(r.secs)}`;
    case 'at_most_daily':
      return 'at most once a day';
  }
}

/** The folder's own name, for headings. */
export function folderName(path: string): string {
  const parts = path.split('/').filter(Boolean);
  return parts[parts.length - 1] ?? path;
}

export class Watches {
  #view = $state.raw<WatchesView>({ watches: [], elsewhere: null, picked: null });
  #watching = false;

  get list(): WatchInfo[] {
    return this.#view.watches;
  }

  /** Why this window does not run the watches itself (another OxDrop does). */
  get elsewhere() {
    return this.#view.elsewhere;
  }

  /** The folder chosen for the next watch. */
  get picked() {
    return this.#view.picked;
  }

  /** Starts listening (once). */
  async watch() {
    if (this.#watching) return;
    this.#watching = true;
    try {
      await watchWatches((v) => (this.#view = v));
    } catch (e) {
      this.#watching = false;
      app.problem = toError(e);
    }
  }

  async pickFolder() {
    const view = await app.attempt(() => call('pick_watch_folder'));
    if (view) this.#view = view;
  }

  /** Sets up a watch of the picked folder to the chosen destination; `true` once added. */
  async add(rhythm: Rhythm, mirrorDeletions: boolean, author: Author): Promise<boolean> {
    const d = app.destination;
    if (!d.repo) return false;
    const saved = app.accounts?.author;
    if (saved?.name !== author.name || saved?.email !== author.email) {
      const view = await app.attempt(() => call('set_author', author));
      if (!view) return false;
      app.setAccounts(view);
    }
    const added = await app.attempt(() =>
      call('add_watch', {
        repo: d.repo!,
        branch: d.branch,
        dest: d.dest,
        rhythm,
        mirror_deletions: mirrorDeletions,
      }),
    );
    return added !== undefined;
  }

  setPaused(id: string, paused: boolean) {
    return app.attempt(() => call('set_watch_paused', { id, paused }));
  }

  remove(id: string) {
    return app.attempt(() => call('remove_watch', { id }));
  }

  resolve(id: string, resolution: Resolution, paths: string[] | null) {
    return app.attempt(() => call('resolve_watch', { id, resolution, paths }));
  }

  rescan(id: string) {
    return app.attempt(() => call('rescan_watch', { id }));
  }

  openCommit(id: string) {
    return app.attempt(() => call('open_watch_commit', { id }));
  }
}

export const watches = new Watches();
