// The upload flow: choose → review the plan → upload (with progress) → done or failed, and the
// interrupted uploads that can be resumed. Screens read it and call its actions; the files and the
// destination it plans from live in `app`.
import { call, callWithProgress, toError } from './api';
import type { ChangedOnBranch } from './bindings/ChangedOnBranch';
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
  /** The plan follows links that lead outside the dropped folders (the user chose it in Review). */
  #followLinks = $state(false);
  #snapshot = $state.raw<ProgressSnapshot | null>(null);
  #states = $state.raw<FileState[]>([]);
  #outcome = $state.raw<UploadOutcome | null>(null);
  #error = $state.raw<CoreError | null>(null);
  #interrupted = $state.raw<ResumableUpload[]>([]);
  /** Files someone changed on the branch after the last review, which stopped its upload. */
  #outdated = $state.raw<ChangedOnBranch[]>([]);
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

  get followLinks() {
    return this.#followLinks;
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

  /** Why the user is reviewing again: the files that changed on the branch since the last review. */
  get outdated() {
    return this.#stale ? [] : this.#outdated;
  }

  /** The failed upload itself, when it was kept and can continue: never another one. */
  get resumable(): ResumableUpload | null {
    if (!this.#error || !this.#uploadId) return null;
    return this.#interrupted.find((u) => u.id === this.#uploadId) ?? null;
  }

  /**
   * Plans the chosen files; with `followLinks`, links leading outside a folder are followed.
   * Returns the new plan, or nothing when planning failed.
   */
  async review(followLinks = false): Promise<Plan | undefined> {
    const repo = app.destination.repo;
    if (!repo) return;
    this.#planning = true;
    this.#outdated = [];
    const made = await app.attempt(() =>
      call('plan_upload', {
        repo,
        branch: app.destination.branch,
        dest: app.destination.dest,
        follow_links: followLinks,
      }),
    );
    this.#planning = false;
    if (made) {
      this.#plan = made;
      this.#followLinks = followLinks;
      this.#planRevision = app.revision;
      this.#step = 'review';
    } else if (this.#step === 'review') {
      // Rust forgot the reviewed plan when planning began; so does the page.
      this.#step = 'choose';
      this.#plan = null;
    }
    return made;
  }

  /** Sends the reviewed plan (the one Rust kept, not anything sent from here). */
  upload(message: string, name: string, email: string) {
    return this.#run(
      (p) => callWithProgress('start_upload', { message, author: { name, email } }, p),
      true,
    );
  }

  resume(u: ResumableUpload) {
    this.#plan = null;
    return this.#run((p) => callWithProgress('resume_upload', { id: u.id }, p), false, u.id);
  }

  async retry() {
    // Plan again from the same choice: what landed is now "unchanged", the rest is sent. When
    // planning fails, nothing is sent (never the plan from before).
    const plan = await this.review(this.#followLinks);
    const author = app.accounts?.author;
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
    this.#outdated = [];
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

  /**
   * Runs an upload; `reviewed` when it sends the plan on screen (not a resumed one), `uploadId`
   * when it continues a known one.
   */
  async #run(
    start: (onProgress: (s: ProgressSnapshot) => void) => Promise<UploadOutcome>,
    reviewed: boolean,
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
      // The banner offers to sign in again; then the upload resumes where it stopped.
      if (this.#error.code === 'key_rejected') app.problem = this.#error;
    }
    // Whatever the outcome: the author is remembered, sent files leave the list, and an
    // interrupted upload is offered for resuming.
    await app.loadAccounts().catch(() => undefined);
    const view = await call('list_sources').catch(() => null);
    if (view) app.setSources(view.items);
    await this.refreshInterrupted();
    // The branch changed under the review: back to Review with a fresh plan, saying what changed.
    // (A resumed upload's files may not be the ones chosen now: it only shows the message.)
    const outdated = reviewed && this.#error?.code === 'review_outdated';
    const changed = outdated ? (this.#error?.changed ?? []) : null;
    if (changed && (await this.review(this.#followLinks))) {
      this.#error = null;
      this.#outdated = changed;
    }
  }
}

export const flow = new UploadFlow();
