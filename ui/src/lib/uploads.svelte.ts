// The list of uploads (queued, running, paused, interrupted, finished) and the history. Every
// upload goes through the list: *Upload* in Review puts it there, and its entry shows its
// progress. The list and every running upload's progress arrive over one Channel
// (`watch_uploads`); the actions here only ask Rust, which runs the uploads and sends the changed
// list back.
import { call, toError, watchUploads } from './api';
import type { Error as CoreError } from './bindings/Error';
import type { HistoryEntry } from './bindings/HistoryEntry';
import type { ProgressSnapshot } from './bindings/ProgressSnapshot';
import type { QueuedUpload } from './bindings/QueuedUpload';
import type { UploadsEvent } from './bindings/UploadsEvent';
import { app } from './store.svelte';

export class Uploads {
  #list = $state.raw<QueuedUpload[]>([]);
  /** The latest progress of each running upload, by id. */
  #progress = $state.raw<Record<string, ProgressSnapshot>>({});
  #history = $state.raw<HistoryEntry[]>([]);
  #watching = false;
  /** Uploads whose rejected key was already raised as the banner (once each). */
  #keyRejectedShown: string[] = [];
  /**
   * The upload the user started last (or retried): its entry is marked, takes the focus, and
   * offers *Upload more* when it ends.
   */
  current = $state<string | null>(null);
  /** The address the last *Copy link* put on the clipboard (shown, so the user sees it worked). */
  copied = $state<{ id: string; url: string } | null>(null);
  query = $state('');

  get list() {
    return this.#list;
  }

  get history() {
    return this.#history;
  }

  progress(id: string): ProgressSnapshot | null {
    return this.#progress[id] ?? null;
  }

  /** Starts listening (once): the list comes over the Channel at once and after every change. */
  async watch() {
    if (this.#watching) return;
    this.#watching = true;
    try {
      await watchUploads((e) => this.#hear(e));
    } catch (e) {
      this.#watching = false;
      app.problem = toError(e);
    }
  }

  #hear(e: UploadsEvent) {
    if (e.kind === 'list') {
      this.#list = e.uploads;
      const running = e.uploads.filter((u) => u.state === 'running').map((u) => u.id);
      const kept = Object.entries(this.#progress).filter(([id]) => running.includes(id));
      this.#progress = Object.fromEntries(kept);
      // A finished upload is in the history now.
      if (e.uploads.some((u) => u.finished_unix)) void this.search();
      this.#raiseRejectedKey(e.uploads);
    } else {
      this.#progress = { ...this.#progress, [e.id]: e.snapshot };
    }
  }

  /**
   * The server rejected the active account's key during an upload: besides the entry's reason,
   * the banner offers *Sign in again*, as for any other call the key was refused on.
   */
  #raiseRejectedKey(list: QueuedUpload[]) {
    for (const u of list) {
      if (u.problem?.code !== 'key_rejected' || this.#keyRejectedShown.includes(u.id)) continue;
      this.#keyRejectedShown.push(u.id);
      if (u.account_id !== app.active?.id) continue;
      app.problem = { code: u.problem.code, message: u.problem.message, retryable: false };
      void app.loadAccounts().catch(() => undefined);
    }
  }

  /**
   * *Upload*: puts the reviewed plan in the list, where it starts at once when its server is
   * free (else after the one before it); `true` when it was queued.
   */
  async start(message: string, name: string, email: string): Promise<boolean> {
    const queued = await app.attempt(() =>
      call('enqueue_upload', { message, author: { name, email } }),
    );
    if (!queued) return false;
    this.current = queued.id;
    // The files are journaled with the upload: the list is free for the next one.
    const view = await call('list_sources').catch(() => null);
    if (view) app.setSources(view.items);
    await app.loadAccounts().catch(() => undefined);
    return true;
  }

  pause(id: string) {
    return app.attempt(() => call('pause_upload', { id }));
  }

  resume(id: string) {
    return app.attempt(() => call('resume_queued', { id }));
  }

  cancel(id: string) {
    return app.attempt(() => call('cancel_queued', { id }));
  }

  discard(id: string) {
    return app.attempt(() => call('discard_queued', { id }));
  }

  remove(id: string) {
    return app.attempt(() => call('remove_queued', { id }));
  }

  move(id: string, up: boolean) {
    return app.attempt(() => call('move_queued', { id, up }));
  }

  /** Plans the upload again and queues what is left to send; that one becomes the current one. */
  async retry(id: string) {
    const queued = await app.attempt(() => call('retry_failed', { id }));
    if (queued && (this.current === id || this.current === null)) this.current = queued.id;
  }

  /** Another upload is about to be prepared: no entry is the current one any more. */
  done() {
    this.current = null;
  }

  /** Uploads waiting for or running on the active account's server: a new one would wait. */
  get busy(): boolean {
    const server = app.active?.server;
    return this.#list.some(
      (u) => (u.state === 'running' || u.state === 'queued') && u.server === server,
    );
  }

  open(id: string) {
    return app.attempt(() => call('open_upload', { id }));
  }

  async copyLink(id: string) {
    const url = await app.attempt(() => call('copy_link', { id }));
    if (url) this.copied = { id, url };
  }

  async search() {
    const query = this.query;
    const found = await call('search_history', { query }).catch((e: unknown) => {
      app.problem = toError(e) as CoreError;
      return null;
    });
    if (found && query === this.query) this.#history = found;
  }
}

export const uploads = new Uploads();
