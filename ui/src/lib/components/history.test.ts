import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AccountsView } from '../bindings/AccountsView';
import type { HistoryEntry } from '../bindings/HistoryEntry';
import type { Uploads } from '../uploads.svelte';

// Only the door to Rust is replaced; the app store is the real one.
vi.mock('../api', async (actual) => ({
  ...(await actual<typeof import('../api')>()),
  call: vi.fn(),
}));

const { call } = await import('../api');
const { app } = await import('../store.svelte');
const History = (await import('./History.svelte')).default;

const account = (user: string, server: string) => ({
  id: `${user}@${server}`,
  server,
  user,
  has_key: true,
  insecure_ok: false,
});
const amy = account('amy', 'http://one.test');
const bea = account('bea', 'http://two.test');
const view = (active: string, accounts = [amy, bea]): AccountsView => ({
  accounts,
  active,
  author: null,
  recent: [],
  pinned: [],
  sandbox: null,
});

const entry = (account_id: string, server: string): HistoryEntry => ({
  id: 'h1',
  account_id,
  server,
  repo: { namespace: 'amy', name: 'photos' },
  branch: 'dev',
  dest: 'album',
  folder: 'album',
  state: 'done',
  message: 'Add 1 file',
  started_unix: 1,
  finished_unix: 2,
  files: 1,
  bytes: 1,
  files_sent: 1,
  bytes_sent: 1,
  file_names: [],
  commit_id: 'c0ffee',
  web_url: null,
  folder_url: null,
  failed: [],
  problem: null,
});

const uploads = (history: HistoryEntry[]) =>
  ({ history, query: '', copied: null, search: vi.fn() }) as unknown as Uploads;

beforeEach(() => {
  vi.mocked(call).mockReset();
  app.setDestination({ repo: null, branch: 'main', dest: '' });
});
afterEach(cleanup);

describe('History: Upload to the same place again', () => {
  it('switches to the account that made the upload first, then fills in its place', async () => {
    app.setAccounts(view(bea.id));
    vi.mocked(call).mockImplementation((async () => view(amy.id)) as typeof call);
    const onclose = vi.fn();
    render(History, { uploads: uploads([entry(amy.id, amy.server)]), onclose });
    await fireEvent.click(screen.getByTestId('history-again'));
    await vi.waitFor(() => expect(onclose).toHaveBeenCalled());

    expect(call).toHaveBeenCalledWith('switch_account', { id: amy.id });
    expect(app.active?.id).toBe(amy.id);
    expect(app.destination).toEqual({
      repo: { namespace: 'amy', name: 'photos' },
      branch: 'dev',
      dest: 'album',
    });
  });

  it('fills in the place at once when that account is the active one', async () => {
    app.setAccounts(view(amy.id));
    const onclose = vi.fn();
    render(History, { uploads: uploads([entry(amy.id, amy.server)]), onclose });
    await fireEvent.click(screen.getByTestId('history-again'));
    await vi.waitFor(() => expect(onclose).toHaveBeenCalled());
    expect(call).not.toHaveBeenCalled();
    expect(app.destination.repo?.name).toBe('photos');
  });

  it('says so when that account is no longer signed in, and fills in nothing', async () => {
    app.setAccounts(view(bea.id, [bea]));
    const onclose = vi.fn();
    render(History, { uploads: uploads([entry(amy.id, amy.server)]), onclose });
    await fireEvent.click(screen.getByTestId('history-again'));
    const said = await screen.findByTestId('history-again-refused');
    expect(said.textContent).toContain('made as amy on http://one.test');
    expect(said.textContent).toContain('no longer signed in');
    expect(call).not.toHaveBeenCalled();
    expect(onclose).not.toHaveBeenCalled();
    expect(app.active?.id).toBe(bea.id);
    expect(app.destination.repo).toBeNull();
  });
});
