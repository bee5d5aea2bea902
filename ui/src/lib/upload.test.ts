import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { AccountsView } from './bindings/AccountsView';
import type { Plan } from './bindings/Plan';
import type { QueuedUpload } from './bindings/QueuedUpload';
import type { Source } from './bindings/Source';

// Only the door to Rust is replaced; the stores are the real ones.
vi.mock('./api', async (actual) => ({
  ...(await actual<typeof import('./api')>()),
  call: vi.fn(),
}));

const { call } = await import('./api');
const { app } = await import('./store.svelte');
const { UploadFlow } = await import('./upload.svelte');
const { Uploads } = await import('./uploads.svelte');

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
  pinned: [],
  sandbox: null,
};

/** Answers `call` from a table, and records the order of every command sent. */
function answer(table: Record<string, () => unknown>) {
  const sent: string[] = [];
  vi.mocked(call).mockImplementation((async (command: string) => {
    sent.push(command);
    return table[command]?.();
  }) as typeof call);
  return sent;
}

beforeEach(() => {
  vi.mocked(call).mockReset();
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

  it('plans again following links when the user asks', async () => {
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
  });

  it('brings an upload stopped by changes on the branch back to Review, saying what changed', async () => {
    const flow = new UploadFlow();
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
    app.setSources([]);
    app.setDestination({ repo: { namespace: 'ada', name: 'other' }, branch: 'dev', dest: 'x' });
    const sent = answer({
      review_again: () => ({
        repo: { namespace: 'ada', name: 'photos' },
        branch: 'main',
        dest: 'docs',
        follow_links: true,
        sources: { items: [source(7, 'a.txt')] },
        changed,
      }),
      plan_upload: () => fresh,
    });
    await flow.reviewAgain('u1');

    expect(sent).toEqual(['review_again', 'plan_upload']);
    expect(call).toHaveBeenLastCalledWith('plan_upload', {
      repo: { namespace: 'ada', name: 'photos' },
      branch: 'main',
      dest: 'docs',
      follow_links: true,
    });
    expect(app.sources.map((s) => s.id)).toEqual([7]);
    expect(flow.step).toBe('review');
    expect(flow.plan).toBe(fresh);
    expect(flow.outdated).toEqual(changed);

    // Reviewing again (or choosing other files) clears the notice.
    await flow.review();
    expect(flow.outdated).toEqual([]);
  });

  it('stays where it is when the upload cannot be brought back', async () => {
    const flow = new UploadFlow();
    const other = { code: 'invalid_input', message: 'Switch to that account.', retryable: false };
    const sent = answer({
      review_again: () => {
        throw other;
      },
    });
    await flow.reviewAgain('u1');
    expect(sent).toEqual(['review_again']);
    expect(flow.step).toBe('choose');
    expect(app.problem).toEqual(other);
  });
});

describe('Uploads', () => {
  const queued = (id: string, state: QueuedUpload['state'] = 'queued') =>
    ({ id, server: 'http://localhost', state }) as QueuedUpload;

  it('Upload puts the reviewed plan in the list as the current upload, and frees the files', async () => {
    const uploads = new Uploads();
    const sent = answer({
      enqueue_upload: () => queued('u1'),
      list_sources: () => ({ items: [] }),
      accounts_state: () => accounts,
    });
    expect(await uploads.start('Add a.txt', 'Ada Lovelace', 'ada@example.com')).toBe(true);
    expect(sent[0]).toBe('enqueue_upload');
    expect(call).toHaveBeenCalledWith('enqueue_upload', {
      message: 'Add a.txt',
      author: { name: 'Ada Lovelace', email: 'ada@example.com' },
    });
    expect(uploads.current).toBe('u1');
    expect(app.sources).toEqual([]);

    // Retrying it queues a new upload, which becomes the current one.
    answer({ retry_failed: () => queued('u2') });
    await uploads.retry('u1');
    expect(uploads.current).toBe('u2');
    uploads.done();
    expect(uploads.current).toBeNull();
  });

  it('keeps nothing current when Upload is refused', async () => {
    const uploads = new Uploads();
    answer({
      enqueue_upload: () => {
        throw { code: 'nothing_to_upload', message: 'Review the upload first.', retryable: false };
      },
    });
    expect(await uploads.start('m', 'Ada', 'ada@example.com')).toBe(false);
    expect(uploads.current).toBeNull();
  });
});
