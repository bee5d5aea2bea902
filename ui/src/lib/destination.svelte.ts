// What the "Where to" panel shows of the server: namespaces, their repositories, the chosen
// repository's branches and folders, and what is typed in its two small forms. One per panel, so
// it lives as long as the panel; the chosen destination itself is `app.destination`.
import { call, toError } from './api';
import type { Branch } from './bindings/Branch';
import type { DirEntry } from './bindings/DirEntry';
import type { Error as CoreError } from './bindings/Error';
import type { NameCheck } from './bindings/NameCheck';
import type { RepoDetails } from './bindings/RepoDetails';
import type { RepoRef } from './bindings/RepoRef';
import { app } from './store.svelte';

/** The "New repository" form: kept while it is closed, cleared once the repository exists. */
export class RepoDraft {
  open = $state(false);
  name = $state('');
  description = $state('');
  check = $state<NameCheck | null>(null);
  error = $state<CoreError | null>(null);
}

/** The "New branch" form: kept while it is closed, cleared once the branch exists. */
export class BranchDraft {
  open = $state(false);
  name = $state('');
  error = $state<CoreError | null>(null);
}

export class DestinationBrowser {
  namespaces = $state<string[]>([]);
  /** The namespace whose repositories are listed. */
  namespace = $state<string | null>(null);
  repos = $state<string[]>([]);
  details = $state<RepoDetails | null>(null);
  branches = $state<Branch[]>([]);
  /** The folders inside the destination folder. */
  folders = $state<DirEntry[]>([]);
  newRepo = new RepoDraft();
  newBranch = new BranchDraft();

  async loadNamespaces() {
    const list = await app.attempt(() => call('list_namespaces'));
    if (!list) return;
    this.namespaces = list;
    const current = app.destination.repo;
    const preferred = current?.namespace ?? app.active?.user ?? list[0] ?? null;
    if (preferred) await this.chooseNamespace(preferred);
    // Coming back to this screen (after an upload): show the same place again.
    if (current && current.namespace === preferred) await this.chooseRepo(current.name, true);
  }

  async chooseNamespace(ns: string) {
    this.namespace = ns;
    const list = await app.attempt(() => call('list_repos', { namespace: ns }));
    this.repos = list?.map((r) => r.name) ?? [];
  }

  async chooseRepo(name: string, keepFolder = false) {
    if (!this.namespace) return;
    const ref = { namespace: this.namespace, name };
    this.newRepo.open = false;
    this.newRepo.error = null;
    const d = await app.attempt(() => call('repo_details', ref));
    if (!d) return;
    this.details = d;
    const list = (await app.attempt(() => call('list_branches', ref))) ?? [];
    this.branches = list;
    const keep = list.find((b) => b.name === app.destination.branch);
    app.setDestination({
      repo: ref,
      branch: keep?.name ?? list[0]?.name ?? 'main',
      dest: keepFolder ? app.destination.dest : '',
    });
    await this.loadFolders();
  }

  /** A place chosen before (recent places, history): its repository, branch and folder. */
  async choosePlace(repo: RepoRef, branch: string, dest: string) {
    app.setDestination({ branch, dest });
    await this.chooseNamespace(repo.namespace);
    await this.chooseRepo(repo.name, true);
  }

  /**
   * After an upload to the chosen repository landed: its details, branches and folders as they
   * are now (an empty repository has its first branch). What is chosen, and any open form, stay.
   */
  async refresh() {
    const r = app.destination.repo;
    if (!r) return;
    const details = await call('repo_details', r).catch(() => null);
    const branches = await call('list_branches', r).catch(() => null);
    if (app.destination.repo !== r) return;
    if (details) this.details = details;
    if (branches) this.branches = branches;
    await this.loadFolders();
  }

  /** A repository was just created in the listed namespace: list it, choose it, clear the form. */
  async repoCreated(name: string) {
    if (!this.namespace) return;
    await this.chooseNamespace(this.namespace);
    await this.chooseRepo(name);
    this.newRepo.name = '';
    this.newRepo.description = '';
    this.newRepo.check = null;
  }

  async chooseBranch(name: string) {
    app.setDestination({ branch: name, dest: '' });
    await this.loadFolders();
  }

  /** A branch was just created: add it, choose it, close the form. */
  async branchCreated(branch: Branch) {
    this.branches = [...this.branches, branch];
    this.newBranch.open = false;
    this.newBranch.name = '';
    await this.chooseBranch(branch.name);
  }

  async openFolder(path: string) {
    app.setDestination({ dest: path });
    await this.loadFolders();
  }

  async loadFolders() {
    this.folders = [];
    const r = app.destination.repo;
    if (!r || this.details?.is_empty) return;
    try {
      const page = await call('list_dir', {
        repo: r,
        revision: app.destination.branch,
        path: app.destination.dest,
        page: 1,
      });
      this.folders = page.entries.filter((e) => e.is_dir);
    } catch (e) {
      // A folder that does not exist yet (typed by the user, or a branch with no files) is
      // simply empty: the upload will create it.
      const err = toError(e);
      if (err.code !== 'path_not_found') app.problem = err;
    }
  }
}
