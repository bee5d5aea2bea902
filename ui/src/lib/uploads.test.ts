import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { AccountsView } from './bindings/AccountsView';
import type { QueuedUpload } from './bindings/QueuedUpload';
import type { UploadsEvent } from './bindings/UploadsEvent';

// Only the door to Rust is replaced; the stores are the real ones.
vi.mock('./api', async (actual) => ({
  ...(await actual<typeof import('./api')>()),
  call: vi.fn(),
  watchUploads: vi.fn(),
}));

const { call, watchUploads } = await import('./api');
const { app } = await import('./store.svelte');
const { Uploads } = await import('./uploads.svelte');

const accounts: AccountsView = {
  accounts: [
    { id: 'ada@http://a', server: 'http://a', user: 'ada', has_key: true, insecure_ok: false },
    { id: 'bob@http://b', server: 'http://b', user: 'bob', has_key: true, insecure_ok: false },
  ],
  active: 'ada@http://a',
  recent: [],
  pinned: [],
} as unknown as AccountsView;

function upload(id: string, account_id: string, code: string | null): QueuedUpload {
  return {
    id,
    account_id,
    state: code ? 'failed' : 'running',
    problem: code
      ? { code, message: `The server rejected your API key (${id}).`, changed: [] }
      : null,
  } as unknown as QueuedUpload;
}

/** The Uploads store, listening, with a way to send it the list as Rust would. */
async function listening() {
  let hear: (e: UploadsEvent) => void = () => {};
  vi.mocked(watchUploads).mockImplementation(async (onEvent) => {
    hear = onEvent;
  });
  const uploads = new Uploads();
  await uploads.watch();
  return (list: QueuedUpload[]) => hear({ kind: 'list', uploads: list });
}

describe('a key rejected during an upload', () => {
  beforeEach(async () => {
    vi.mocked(call).mockReset();
    vi.mocked(call).mockImplementation(async (command) =>
      command === 'accounts_state' ? accounts : (null as never),
    );
    await app.loadAccounts();
    app.problem = null;
  });

  it("raises the banner that offers to sign in again, once, for the active account's upload", async () => {
    const send = await listening();
    send([upload('u1', 'ada@http://a', null)]);
    expect(app.problem).toBeNull();
    send([upload('u1', 'ada@http://a', 'key_rejected')]);
    expect(app.problem?.code).toBe('key_rejected');
    expect(app.problem?.message).toContain('rejected your API key (u1)');
    // Dismissed, it stays dismissed while the list is sent again.
    app.problem = null;
    send([upload('u1', 'ada@http://a', 'key_rejected')]);
    expect(app.problem).toBeNull();
  });

  it("leaves another account's upload and other failures to their entries", async () => {
    const send = await listening();
    send([upload('u2', 'bob@http://b', 'key_rejected'), upload('u3', 'ada@http://a', 'network')]);
    expect(app.problem).toBeNull();
  });
});
