// The upload flow: choose → review the plan → upload (with progress) → done or failed, and the
// interrupted uploads that can be resumed. Screens read it and call its actions; the files and the
// destination it plans from live in `app`.
import { call, callWithProgress, toError } from './api';
import type { Error as CoreError } from './bindings/Error';
import type { FileState } from './bindings/FileState';
import type { Plan } from './bindings/Plan';
import type { ProgressSnapshot } from './bindings/ProgressSnapshot';
import type { ResumableUpload } from './bindings/ResumableUpload';
import type { UploadOutcome } from './bindings/UploadOutcome';
import { app } from './store.svelte';

export type Step = 'choose' | 'review' | 'upload';

export class UploadFlow {
  #step = $state<Step>('choose');
  #plan = $state.raw<Plan | null>(null);
  /** `app.revision` when the plan was made. */
  #planRevision = $state(-1);
  #planning = $state(false);
  #snapshot = $state.raw<ProgressSnapshot | null>(null);
  #states = $state.raw<FileState[]>([]);
  #outcome = $state.raw<UploadOutcome | null>(null);
  #error = $state.raw<CoreError | null>(null);
  #interrupted = $state.raw<ResumableUpload[]>([]);
  /** The journaled id of the running (or last) upload: what "Resume now" continues. */
  #uploadId = $state<string | null>(null);

  /** A plan describes one selection and destination; any change sends the user back to choose. */
  get #stale() {
    return this.#step === 'review' && app.revision !== this.#planRevision;
  }

  get step(): Step {
    return this.#stale ? 'choose' : this.#step;
  }

  /** The reviewed plan; during an upload, what is being sent (null when resuming). */
  get plan() {
    return this.#stale ? null : this.#plan;
  }

  /** Planning is under way. */
  get planning() {
    return this.#planning;
  }

  get canReview() {
    return !!app.destination.repo && app.sources.length > 0;
  }

  /** The latest progress of the running (or last) upload. */
  get snapshot() {
    return this.#snapshot;
  }

  /** Each planned file's state, by its index in the plan. */
  get states() {
    return this.#states;
  }

  get outcome() {
    return this.#outcome;
  }

  /** Why the last upload ended without a commit. */
  get error() {
    return this.#error;
  }

  get interrupted() {
    return this.#interrupted;
  }

  /** The failed upload itself, when it was kept and can continue: never another one. */
  get resumable(): ResumableUpload | null {
    if (!this.#error || !this.#uploadId) return null;
    return this.#interrupted.find((u) => u.id === this.#uploadId) ?? null;
  }

  async review() {
    const repo = app.destination.repo;
    if (!repo) return;
    this.#planning = true;
    const made = await app.attempt(() =>
      call('plan_upload', { repo, branch: app.destination.branch, dest: app.destination.dest }),
    );
    this.#planning = false;
    if (made) {
      this.#plan = made;
      this.#planRevision = app.revision;
      this.#step = 'review';
    }
  }

  /** Sends the reviewed plan (the one Rust kept, not anything sent from here). */
  upload(message: string, name: string, email: string) {
    return this.#run((p) =>
      callWithProgress('start_upload', { message, author: { name, email } }, p),
    );
  }

  resume(u: ResumableUpload) {
    this.#plan = null;
    return this.#run((p) => callWithProgress('resume_upload', { id: u.id }, p), u.id);
  }

  async retry() {
    // Plan again from the same choice: what landed is now "unchanged", the rest is sent.
    await this.review();
    const author = app.accounts?.author;
    const plan = this.#plan;
    if (plan && author && plan.totals.new_files + plan.totals.overwrite_files > 0) {
      await this.upload(plan.default_message, author.name, author.email);
    }
  }

  cancel() {
    void call('cancel_upload');
  }

  openCommit() {
    return app.attempt(() => call('open_commit'));
  }

  /** Back to choosing, after an upload finished or failed. */
  finish() {
    this.#step = 'choose';
    this.#plan = null;
    this.#snapshot = null;
    this.#outcome = null;
    this.#error = null;
    this.#uploadId = null;
  }

  async discard(id: string) {
    const list = await app.attempt(() => call('discard_upload', { id }));
    if (list) this.#interrupted = list;
  }

  async refreshInterrupted() {
    this.#interrupted = await call('interrupted_uploads').catch(() => this.#interrupted);
  }

  #track(s: ProgressSnapshot) {
    this.#snapshot = s;
    if (s.upload_id) this.#uploadId = s.upload_id;
    if (s.files.length) {
      const next = this.#states.slice();
      for (const f of s.files) next[f.index] = f.state;
      this.#states = next;
    }
  }

  async #run(
    start: (onProgress: (s: ProgressSnapshot) => void) => Promise<UploadOutcome>,
    uploadId: string | null = null,
  ) {
    this.#step = 'upload';
    this.#snapshot = null;
    this.#outcome = null;
    this.#error = null;
    // A new upload learns its id from its first progress; a resumed one knows it already.
    this.#uploadId = uploadId;
    this.#states = this.#plan ? this.#plan.files.map(() => 'waiting' as FileState) : [];
    try {
      this.#outcome = await start((s) => this.#track(s));
    } catch (e) {
      this.#error = toError(e);
    }
    // Whatever the outcome: the author is remembered, sent files leave the list, and an
    // interrupted upload is offered for resuming.
    await app.loadAccounts().catch(() => undefined);
    const view = await call('list_sources').catch(() => null);
    if (view) app.setSources(view.items);
    await this.refreshInterrupted();
  }
}

export const flow = new UploadFlow();
