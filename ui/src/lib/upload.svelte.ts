// The upload flow: choose → review the plan → Upload, which puts it in the list of uploads
// (`uploads`), where it runs and shows its progress. Screens read it and call its actions; the
// files and the destination it plans from live in `app`.
import { call } from './api';
import type { ChangedOnBranch } from './bindings/ChangedOnBranch';
import type { Plan } from './bindings/Plan';
import { app } from './store.svelte';

export type Step = 'choose' | 'review';

export class UploadFlow {
  #step = $state<Step>('choose');
  #plan = $state.raw<Plan | null>(null);
  /** `app.revision` when the plan was made. */
  #planRevision = $state(-1);
  #planning = $state(false);
  /** The plan follows links that lead outside the dropped folders (the user chose it in Review). */
  #followLinks = $state(false);
  /** Files someone changed on the branch after the last review, which stopped its upload. */
  #outdated = $state.raw<ChangedOnBranch[]>([]);

  /** A plan describes one selection and destination; any change sends the user back to choose. */
  get #stale() {
    return this.#step === 'review' && app.revision !== this.#planRevision;
  }

  get step(): Step {
    return this.#stale ? 'choose' : this.#step;
  }

  /** The reviewed plan. */
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

  /** Why the user is reviewing again: the files that changed on the branch since the last review. */
  get outdated() {
    return this.#stale ? [] : this.#outdated;
  }

  /**
   * Plans the chosen files; with `followLinks`, links leading outside a folder are followed;
   * `outdated`: why this is a review again. Returns the new plan, or nothing when planning failed.
   */
  async review(followLinks = false, outdated: ChangedOnBranch[] = []): Promise<Plan | undefined> {
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
      this.#outdated = outdated;
      this.#step = 'review';
    } else if (this.#step === 'review') {
      // Rust forgot the reviewed plan when planning began; so does the page.
      this.#step = 'choose';
      this.#plan = null;
    }
    return made;
  }

  /**
   * Brings an upload of the list back to Review (someone changed its files on the branch): its
   * place and files are chosen again, and the new plan says what changed.
   */
  async reviewAgain(id: string): Promise<Plan | undefined> {
    const back = await app.attempt(() => call('review_again', { id }));
    if (!back) return;
    app.setDestination({ repo: back.repo, branch: back.branch, dest: back.dest });
    app.setSources(back.sources.items);
    return this.review(back.follow_links, back.changed);
  }

  /** Back to choosing: the review is closed (or its upload is in the list now). */
  finish() {
    this.#step = 'choose';
    this.#plan = null;
    this.#outdated = [];
  }
}

export const flow = new UploadFlow();
