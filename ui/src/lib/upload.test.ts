import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { AccountsView } from './bindings/AccountsView';
import type { Plan } from './bindings/Plan';
import type { ProgressSnapshot } from './bindings/ProgressSnapshot';
import type { ResumableUpload } from './bindings/ResumableUpload';
import type { Source } from './bindings/Source';
import type { UploadOutcome } from './bindings/UploadOutcome';

// Only the door to Rust is replaced; the stores are the real ones.
vi.mock('./api', async (actual) => ({
  ...(await actual<typeof import('./api')>()),
  call: vi.fn(),
  callWithProgress: vi.fn(),
}));

const { call, callWithProgress } = await import('./api');
const { app } = await import('./store.svelte');
const { UploadFlow } = await import('./upload.svelte');

const source = (id: number, name: string): Source => ({
  id,
  name,
  path: `/tmp/${name}`,
  is_dir: false,
});

function plan(files: { remote: string; status: 'new' | 'overwrite' | 'unchanged' }[]): Plan {
  const count = (s: string) => files.filter((f) => f.status === s).length;
  return {
    repo: { namespace: 'ada', name: 'photos' },
    branch: 'main',
    dest: '',
    base_commit: null,
    files: files.map((f) => ({ local: `/tmp/${f.remote}`, size: 1, hash: null, ...f })),
    refused: [],
    excluded: [],
    notes: [],
    totals: {
      new_files: count('new'),
      new_bytes: count('new'),
      overwrite_files: count('overwrite'),
      overwrite_bytes: count('overwrite'),
      unchanged_files: count('unchanged'),
      unchanged_bytes: count('unchanged'),
      refused: 0,
      excluded: 0,
    },
    default_message: `Add ${count('new')} files`,
  };
}

function outcome(failed: string[]): UploadOutcome {
  return {
    commit: { id: 'c0ffee', message: '', author: 'Ada', email: '', timestamp: '', parent_ids: [] },
    branch: 'main',
    files_sent: 1,
    bytes_sent: 1,
    files_unchanged: 0,
    failed: failed.map((remote, index) => ({
      index,
      local: `/tmp/${remote}`,
      remote,
      error: { code: 'local_io', message: `${remote} no longer exists.`, retryable: true },
    })),
    web_url: 'http://localhost/ada/photos/commit/c0ffee',
    folder_url: 'http://localhost/ada/photos/dir/c0ffee',
  };
}

const accounts: AccountsView = {
  accounts: [
    {
      id: 'ada@http://localhost',
      server: 'http://localhost',
      user: 'ada',
      has_key: true,
      insecure_ok: false,
    },
  ],
  active: 'ada@http://localhost',
  author: { name: 'Ada Lovelace', email: 'ada@example.com' },
  recent: [],
  sandbox: null,
};

/** Answers `call` from a table, and records the order of every command sent. */
function answer(table: Record<string, () => unknown>) {
  const sent: string[] = [];
  vi.mocked(call).mockImplementation((async (command: string) => {
    sent.push(command);
    return table[command]?.();
  }) as typeof call);
  vi.mocked(callWithProgress).mockImplementation((async (command: string) => {
    sent.push(command);
    return table[command]?.();
  }) as typeof callWithProgress);
  return sent;
}

beforeEach(() => {
  vi.mocked(call).mockReset();
  vi.mocked(callWithProgress).mockReset();
  app.setAccounts(accounts);
  app.setDestination({ repo: { namespace: 'ada', name: 'photos' }, branch: 'main', dest: '' });
  app.setSources([source(1, 'a.txt'), source(2, 'b.txt')]);
});

describe('UploadFlow', () => {
  it('sends the user back to choosing when the files or the destination change', async () => {
    const flow = new UploadFlow();
    const reviewed = plan([{ remote: 'a.txt', status: 'new' }]);
    answer({ plan_upload: () => reviewed });

    await flow.review();
    expect(flow.step).toBe('review');
    expect(flow.plan).toBe(reviewed);

    app.setSources([source(1, 'a.txt')]);
    expect(flow.step).toBe('choose');
    expect(flow.plan).toBeNull();

    await flow.review();
    expect(flow.step).toBe('review');
    // The same choice set again (screens coming back after an upload) keeps the plan.
    app.setSources([source(1, 'a.txt')]);
    app.setDestination({ repo: { namespace: 'ada', name: 'photos' }, branch: 'main', dest: '' });
    expect(flow.step).toBe('review');
    app.setDestination({ dest: 'elsewhere' });
    expect(flow.step).toBe('choose');
  });

  it('retry plans again and sends only what the new plan says', async () => {
    const flow = new UploadFlow();
    const first = plan([
      { remote: 'a.txt', status: 'new' },
      { remote: 'b.txt', status: 'new' },
    ]);
    const again = plan([
      { remote: 'a.txt', status: 'unchanged' },
      { remote: 'b.txt', status: 'new' },
    ]);
    let planned = first;
    const sent = answer({
      plan_upload: () => planned,
      start_upload: () => outcome(planned === first ? ['b.txt'] : []),
      accounts_state: () => accounts,
      list_sources: () => ({ items: [source(1, 'a.txt'), source(2, 'b.txt')] }),
      interrupted_uploads: () => [],
    });

    await flow.review();
    await flow.upload(first.default_message, 'Ada Lovelace', 'ada@example.com');
    expect(flow.step).toBe('upload');
    expect(flow.outcome?.failed.map((f) => f.remote)).toEqual(['b.txt']);

    planned = again;
    sent.length = 0;
    await flow.retry();
    expect(sent.filter((c) => c === 'plan_upload' || c === 'start_upload')).toEqual([
      'plan_upload',
      'start_upload',
    ]);
    expect(vi.mocked(callWithProgress)).toHaveBeenLastCalledWith(
      'start_upload',
      { message: 'Add 1 files', author: { name: 'Ada Lovelace', email: 'ada@example.com' } },
      expect.any(Function),
    );
    expect(flow.plan).toBe(again);
    expect(flow.outcome?.failed).toEqual([]);
  });

  it('plans again following links when the user asks, and keeps that choice for a retry', async () => {
    const flow = new UploadFlow();
    answer({ plan_upload: () => plan([{ remote: 'a.txt', status: 'new' }]) });
    await flow.review();
    expect(call).toHaveBeenLastCalledWith(
      'plan_upload',
      expect.objectContaining({ follow_links: false }),
    );
    expect(flow.followLinks).toBe(false);

    await flow.review(true);
    expect(call).toHaveBeenLastCalledWith(
      'plan_upload',
      expect.objectContaining({ follow_links: true }),
    );
    expect(flow.followLinks).toBe(true);
    await flow.retry();
    expect(call).toHaveBeenCalledWith(
      'plan_upload',
      expect.objectContaining({ follow_links: true }),
    );
  });

  it('retry does not upload when planning again fails', async () => {
    const flow = new UploadFlow();
    const first = plan([
      { remote: 'a.txt', status: 'new' },
      { remote: 'b.txt', status: 'new' },
    ]);
    const unreachable = { code: 'unreachable', message: 'Could not connect.', retryable: true };
    let planning: () => Plan = () => first;
    const sent = answer({
      plan_upload: () => planning(),
      start_upload: () => outcome(['b.txt']),
      accounts_state: () => accounts,
      list_sources: () => ({ items: [source(1, 'a.txt'), source(2, 'b.txt')] }),
      interrupted_uploads: () => [],
    });
    await flow.review();
    await flow.upload(first.default_message, 'Ada Lovelace', 'ada@example.com');

    planning = () => {
      throw unreachable;
    };
    sent.length = 0;
    await flow.retry();
    expect(sent).toEqual(['plan_upload']);
    expect(app.problem).toEqual(unreachable);
  });

  it('goes back to review with a fresh plan when the branch changed since the review', async () => {
    const flow = new UploadFlow();
    const reviewed = plan([{ remote: 'a.txt', status: 'new' }]);
    const fresh = plan([{ remote: 'a.txt', status: 'overwrite' }]);
    const changed = [
      {
        path: 'a.txt',
        change: 'added' as const,
        commit: {
          id: 'feedbeef12345678',
          message: 'Their a.txt',
          author: 'Grace',
          email: 'grace@example.com',
          timestamp: '',
          parent_ids: [],
        },
      },
    ];
    let planned = reviewed;
    const sent = answer({
      plan_upload: () => planned,
      start_upload: () => {
        planned = fresh;
        throw {
          code: 'review_outdated',
          message: 'Someone changed a.txt on main since you reviewed this upload.',
          retryable: false,
          changed,
        };
      },
      accounts_state: () => accounts,
      list_sources: () => ({ items: [source(1, 'a.txt'), source(2, 'b.txt')] }),
      interrupted_uploads: () => [],
    });
    await flow.review();
    await flow.upload('Add a.txt', 'Ada Lovelace', 'ada@example.com');

    expect(sent.filter((c) => c === 'plan_upload' || c === 'start_upload')).toEqual([
      'plan_upload',
      'start_upload',
      'plan_upload',
    ]);
    expect(flow.step).toBe('review');
    expect(flow.plan).toBe(fresh);
    expect(flow.outdated).toEqual(changed);
    expect(flow.error).toBeNull();

    // Reviewing again (or choosing other files) clears the notice.
    await flow.review();
    expect(flow.outdated).toEqual([]);
  });

  it('keeps each file’s state from the progress it hears, and a failure’s error', async () => {
    const flow = new UploadFlow();
    answer({ plan_upload: () => plan([{ remote: 'a.txt', status: 'new' }]) });
    await flow.review();
    vi.mocked(callWithProgress).mockImplementation(async (_command, _args, onProgress) => {
      onProgress({
        upload_id: null,
        phase: 'sending',
        files_done: 0,
        files_total: 1,
        files_failed: 0,
        bytes_done: 0,
        bytes_total: 1,
        bytes_per_sec: 0,
        eta_secs: null,
        files: [{ index: 0, state: 'sending', message: null }],
        notice: null,
      });
      throw { code: 'cancelled', message: 'The upload was cancelled.', retryable: false };
    });

    await flow.upload('Add a.txt', 'Ada Lovelace', 'ada@example.com');
    expect(flow.states).toEqual(['sending']);
    expect(flow.snapshot?.phase).toBe('sending');
    expect(flow.error?.code).toBe('cancelled');
    expect(flow.outcome).toBeNull();

    flow.finish();
    expect(flow.step).toBe('choose');
    expect(flow.error).toBeNull();
  });

  it('resumes exactly the upload that failed, even when another is listed first', async () => {
    const flow = new UploadFlow();
    const failedId = '6f1c7a52-3d8e-4a8b-9c61-2f3e4d5a6b7c';
    const otherId = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
    // Newest first: the other upload was started later.
    await reviewWithInterrupted(flow, [
      interrupted(otherId, 'elsewhere'),
      interrupted(failedId, 'photos'),
    ]);
    vi.mocked(callWithProgress).mockImplementation(async (command, _args, onProgress) => {
      if (command === 'start_upload') {
        onProgress(snapshot(failedId));
        throw {
          code: 'unreachable',
          message: 'Could not connect. The upload was interrupted; you can resume it.',
          retryable: true,
        };
      }
      throw {
        code: 'unreachable',
        message: 'Could not connect again. The upload was interrupted; you can resume it.',
        retryable: true,
      };
    });

    await flow.upload('Add a.txt', 'Ada Lovelace', 'ada@example.com');
    expect(flow.error?.code).toBe('unreachable');
    expect(flow.resumable?.id).toBe(failedId);

    // Resuming it fails again before any progress: still that one is offered.
    await flow.resume(flow.resumable!);
    expect(vi.mocked(callWithProgress)).toHaveBeenLastCalledWith(
      'resume_upload',
      { id: failedId },
      expect.any(Function),
    );
    expect(flow.resumable?.id).toBe(failedId);
  });

  it('offers no resume when the failed upload was not kept', async () => {
    const flow = new UploadFlow();
    await reviewWithInterrupted(flow, [
      interrupted('0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d', 'elsewhere'),
    ]);
    vi.mocked(callWithProgress).mockImplementation(async () => {
      throw {
        code: 'key_rejected',
        message: 'The server rejected your API key.',
        retryable: false,
      };
    });
    await flow.upload('Add a.txt', 'Ada Lovelace', 'ada@example.com');
    expect(flow.error?.code).toBe('key_rejected');
    expect(flow.resumable).toBeNull();
  });
});

/** Reviews one new file, with `listed` as the interrupted uploads Rust reports. */
async function reviewWithInterrupted(
  flow: InstanceType<typeof UploadFlow>,
  listed: ResumableUpload[],
) {
  answer({
    plan_upload: () => plan([{ remote: 'a.txt', status: 'new' }]),
    accounts_state: () => accounts,
    list_sources: () => ({ items: [source(1, 'a.txt')] }),
    interrupted_uploads: () => listed,
  });
  await flow.review();
}

function interrupted(id: string, repo: string): ResumableUpload {
  return {
    id,
    server: 'http://localhost',
    user: 'ada',
    repo: { namespace: 'ada', name: repo },
    branch: 'main',
    message: `Upload to ${repo}`,
    files_total: 2,
    files_sent: 1,
    bytes_total: 2,
    started_unix: 1,
  };
}

function snapshot(uploadId: string): ProgressSnapshot {
  return {
    upload_id: uploadId,
    phase: 'sending',
    files_done: 0,
    files_total: 1,
    files_failed: 0,
    bytes_done: 0,
    bytes_total: 1,
    bytes_per_sec: 0,
    eta_secs: null,
    files: [],
    notice: null,
  };
}
