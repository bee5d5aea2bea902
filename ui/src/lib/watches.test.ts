import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { tick } from 'svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WatchInfo } from './bindings/WatchInfo';
import WatchEntry from './components/WatchEntry.svelte';
import WatchesScreen from './components/Watches.svelte';
import WatchSetup from './components/WatchSetup.svelte';
import { describeRhythm, folderName, spell, type Watches } from './watches.svelte';

afterEach(cleanup);

describe('rhythm words', () => {
  it('say the rhythm as the core does', () => {
    expect(describeRhythm({ kind: 'settled', quiet_secs: 120 })).toBe(
      'when changes have settled for 2 minutes',
    );
    expect(describeRhythm({ kind: 'every', secs: 3600 })).toBe('every hour');
    expect(describeRhythm({ kind: 'every', secs: 90 })).toBe('every 90 seconds');
    expect(describeRhythm({ kind: 'at_most_daily' })).toBe('at most once a day');
    expect(spell(1)).toBe('1 second');
    expect(spell(7200)).toBe('2 hours');
    expect(folderName('/home/ada/instrument/')).toBe('instrument');
  });
});

function info(status: Partial<WatchInfo['status']>, paused = false): WatchInfo {
  return {
    watch: {
      id: 'w1',
      folder: '/home/ada/instrument',
      destination: {
        account_id: 'a',
        repo: { namespace: 'ada', name: 'data' },
        branch: 'main',
        dest: 'runs',
      },
      rhythm: { kind: 'settled', quiet_secs: 120 },
      mirror_deletions: false,
      paused,
      created_unix: 0,
    },
    status: {
      id: 'w1',
      state: 'up_to_date',
      summary: 'Up to date',
      waiting: 0,
      percent: null,
      will_remove: [],
      will_remove_count: 0,
      attention: null,
      conflicts: [],
      note: null,
      last_commit: null,
      ...status,
    },
  };
}

function fakeWatches() {
  return {
    resolve: vi.fn(),
    setPaused: vi.fn(),
    remove: vi.fn(),
    rescan: vi.fn(),
    openCommit: vi.fn(),
  } as unknown as Watches & Record<string, ReturnType<typeof vi.fn>>;
}

describe('WatchEntry', () => {
  it('says the state in plain words, politely announced, and what deletions do', () => {
    render(WatchEntry, { info: info({ state: 'waiting', summary: '3 files waiting' }) });
    const state = screen.getByTestId('watch-state');
    expect(state.textContent).toBe('3 files waiting');
    expect(state.getAttribute('aria-live')).toBe('polite');
    expect(screen.getByText(/when changes have settled for 2 minutes/).textContent).toContain(
      'Files deleted here stay in the repository.',
    );
  });

  it('needs attention: the reason, what to do, and Keep theirs / Upload mine per file', async () => {
    const watches = fakeWatches();
    render(WatchEntry, {
      watches,
      info: info({
        state: 'needs_attention',
        summary: 'Needs attention: 1 file changed on the server by someone else',
        attention: {
          reason: 'conflicts',
          message: '1 file changed on the server by someone else',
          files: ['a.csv'],
        },
        conflicts: [
          {
            path: 'a.csv',
            remote: 'runs/a.csv',
            kind: 'changed_on_server',
            commit: 'abcdef123456',
          },
        ],
      }),
    });
    expect(screen.getByTestId('watch-state').textContent).toBe('Needs attention');
    const attention = screen.getByTestId('watch-attention').textContent ?? '';
    expect(attention).toContain('1 file changed on the server by someone else');
    expect(attention).toContain('Keep theirs');
    expect(screen.getByTestId('watch-conflicts').textContent).toContain(
      'a.csv changed on the server in commit abcdef1234',
    );
    await fireEvent.click(screen.getByTestId('keep-theirs'));
    expect(watches.resolve).toHaveBeenCalledWith('w1', 'keep_theirs', ['a.csv']);
    await fireEvent.click(screen.getByTestId('upload-mine'));
    expect(watches.resolve).toHaveBeenCalledWith('w1', 'upload_mine', ['a.csv']);
  });

  it('stops watching only once confirmed, and pauses or resumes', async () => {
    const watches = fakeWatches();
    render(WatchEntry, { watches, info: info({}) });
    await fireEvent.click(screen.getByTestId('watch-pause'));
    expect(watches.setPaused).toHaveBeenCalledWith('w1', true);
    await fireEvent.click(screen.getByTestId('watch-remove'));
    expect(watches.remove).not.toHaveBeenCalled();
    await tick();
    expect(document.activeElement?.textContent).toBe('Keep watching');
    await fireEvent.click(screen.getByTestId('watch-remove-yes'));
    expect(watches.remove).toHaveBeenCalledWith('w1');
  });
});

function screenWatches(list: WatchInfo[] = []) {
  return {
    list,
    elsewhere: null,
    picked: '/home/ada/instrument',
    watch: vi.fn(),
    pickFolder: vi.fn(),
    add: vi.fn(),
  } as unknown as Watches & Record<string, ReturnType<typeof vi.fn>>;
}

describe('Watches', () => {
  it('Escape closes the screen, but first the setup form, back on its button', async () => {
    const onclose = vi.fn();
    const watches = screenWatches();
    render(WatchesScreen, { watches, onclose });
    expect(screen.getByTestId('watches-empty')).toBeTruthy();
    const open = screen.getByTestId('watch-new');
    open.focus();
    await fireEvent.click(open);
    expect(document.activeElement?.id).toBe('watch-pick-folder');
    await fireEvent.keyDown(document.activeElement!, { key: 'Escape' });
    expect(screen.queryByTestId('watch-setup')).toBeNull();
    expect(onclose).not.toHaveBeenCalled();
    expect(document.activeElement).toBe(screen.getByTestId('watch-new'));
    await fireEvent.keyDown(window, { key: 'Escape' });
    expect(onclose).toHaveBeenCalled();
  });
});

describe('WatchSetup', () => {
  it('mirrors deletions only once confirmed, after saying what it means', async () => {
    render(WatchSetup, { watches: screenWatches(), onclose: () => {} });
    await tick();
    expect(document.activeElement?.id).toBe('watch-pick-folder');
    const box = screen.getByTestId('watch-mirror') as HTMLInputElement;
    await fireEvent.click(box);
    expect(box.checked).toBe(false);
    await tick();
    expect(document.activeElement?.textContent?.trim()).toBe('No, keep them');
    expect(screen.getByTestId('mirror-confirm').textContent).toContain(
      'will also be deleted from the repository',
    );
    await fireEvent.click(screen.getByTestId('mirror-yes'));
    expect(box.checked).toBe(true);
    expect(screen.queryByTestId('mirror-confirm')).toBeNull();
  });
});
