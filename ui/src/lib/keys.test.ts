import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { tick } from 'svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Plan } from './bindings/Plan';
import type { QueuedUpload } from './bindings/QueuedUpload';
import ProblemBanner from './components/ProblemBanner.svelte';
import UploadEntry from './components/UploadEntry.svelte';
import Review from './components/Review.svelte';
import { ownsEnter, ownsEscape, plainKey } from './keys';
import { app } from './store.svelte';
import type { UploadFlow } from './upload.svelte';
import type { Uploads } from './uploads.svelte';

describe('which keys the page may take', () => {
  it('only Enter or Escape alone, not handled yet', () => {
    const key = (init: KeyboardEventInit) => new KeyboardEvent('keydown', init);
    expect(plainKey(key({ key: 'Enter' }), 'Enter')).toBe(true);
    expect(plainKey(key({ key: 'Enter', ctrlKey: true }), 'Enter')).toBe(false);
    expect(plainKey(key({ key: 'Escape', shiftKey: true }), 'Escape')).toBe(false);
    expect(plainKey(key({ key: 'Escape', isComposing: true }), 'Escape')).toBe(false);
    expect(plainKey(key({ key: 'Escape' }), 'Enter')).toBe(false);
  });

  it('leaves Enter to controls and Escape to text fields and drop-downs', () => {
    document.body.innerHTML = `
      <button id="b">Go</button><input id="t" type="text"><input id="s" type="search">
      <input id="c" type="checkbox"><select id="l"></select><p id="p">text</p>`;
    const el = (id: string) => document.getElementById(id);
    expect(ownsEnter(el('b'))).toBe(true);
    expect(ownsEnter(el('t'))).toBe(true);
    expect(ownsEnter(el('p'))).toBe(false);
    expect(ownsEnter(document.body)).toBe(false);
    expect(ownsEscape(el('b'))).toBe(false);
    expect(ownsEscape(el('c'))).toBe(false);
    expect(ownsEscape(el('t'))).toBe(true);
    expect(ownsEscape(el('s'))).toBe(true);
    expect(ownsEscape(el('l'))).toBe(true);
    expect(ownsEscape(el('p'))).toBe(false);
  });
});

describe('Review by keyboard', () => {
  afterEach(cleanup);
  const plan: Plan = {
    repo: { namespace: 'ada', name: 'photos' },
    branch: 'main',
    dest: '',
    base_commit: null,
    files: [{ local: '/tmp/a.csv', remote: 'a.csv', size: 10, status: 'new' }],
    refused: [],
    excluded: [],
    notes: [],
    totals: {
      new_files: 1,
      new_bytes: 10,
      overwrite_files: 0,
      overwrite_bytes: 0,
      unchanged_files: 0,
      unchanged_bytes: 0,
      refused: 0,
      excluded: 0,
    },
    default_message: 'Add a.csv',
  } as unknown as Plan;
  const fakeFlow = () => ({
    outdated: [],
    followLinks: false,
    planning: false,
    finish: vi.fn(),
  });
  const fakeUploads = () => ({ busy: false, start: vi.fn(async () => true) });

  it('takes the focus; Enter goes to the empty author field, then uploads', async () => {
    const flow = fakeFlow();
    const uploads = fakeUploads();
    render(Review, {
      plan,
      flow: flow as unknown as UploadFlow,
      uploads: uploads as unknown as Uploads,
    });
    const section = screen.getByTestId('review');
    expect(document.activeElement).toBe(section);
    await fireEvent.keyDown(section, { key: 'Enter' });
    expect(uploads.start).not.toHaveBeenCalled();
    const name = screen.getByTestId('author-name');
    expect(document.activeElement).toBe(name);
    await fireEvent.input(name, { target: { value: 'Ada' } });
    await fireEvent.input(screen.getByTestId('author-email'), {
      target: { value: 'ada@example.com' },
    });
    section.focus();
    await fireEvent.keyDown(section, { key: 'Enter' });
    expect(uploads.start).toHaveBeenCalledWith('Add a.csv', 'Ada', 'ada@example.com');
    // In the list now: the review closes.
    await tick();
    expect(flow.finish).toHaveBeenCalled();
  });

  it('Escape goes back to choosing, but not from a text field', async () => {
    const flow = fakeFlow();
    render(Review, {
      plan,
      flow: flow as unknown as UploadFlow,
      uploads: fakeUploads() as unknown as Uploads,
    });
    await fireEvent.keyDown(screen.getByTestId('commit-message'), { key: 'Escape' });
    expect(flow.finish).not.toHaveBeenCalled();
    await fireEvent.keyDown(screen.getByTestId('review'), { key: 'Escape' });
    expect(flow.finish).toHaveBeenCalled();
  });
});

describe('the problem banner', () => {
  afterEach(cleanup);

  it('Escape dismisses it, signed in', async () => {
    app.problem = { code: 'internal', message: 'Something broke.', retryable: true };
    render(ProblemBanner, { onsignin: () => {} });
    expect(screen.getByRole('alert').textContent).toContain('Something broke.');
    await fireEvent.keyDown(document.body, { key: 'Escape' });
    expect(app.problem).toBeNull();
  });

  it('signed out, it stays until the next attempt', async () => {
    app.problem = { code: 'internal', message: 'Something broke.', retryable: true };
    render(ProblemBanner, {});
    await fireEvent.keyDown(document.body, { key: 'Escape' });
    expect(app.problem).not.toBeNull();
    app.problem = null;
  });
});

describe('the end of an upload by keyboard', () => {
  afterEach(cleanup);
  const done: QueuedUpload = {
    id: 'u1',
    account_id: 'ada@http://localhost',
    server: 'http://localhost',
    repo: { namespace: 'ada', name: 'photos' },
    branch: 'main',
    dest: '',
    folder: '',
    sources: ['a.csv'],
    files: 1,
    bytes: 10,
    files_unchanged: 0,
    message: 'Add a.csv',
    suggested_message: true,
    new_branch: false,
    origin: { kind: 'manual' },
    state: 'done',
    created_unix: 1,
    started_unix: 1,
    finished_unix: 2,
    outcome: {
      commit_id: 'abcdef0123456789',
      web_url: 'http://localhost/ada/photos/commit/abcdef0123456789',
      folder_url: 'http://localhost/ada/photos/dir/abcdef0123456789',
      files_sent: 1,
      bytes_sent: 10,
      files_unchanged: 0,
      failed: [],
    },
    problem: null,
    sent: null,
  };

  it('the current entry says it is done, waits on "Upload more", and Escape moves on', async () => {
    const uploads = { current: 'u1', copied: null, progress: () => null, done: vi.fn() };
    render(UploadEntry, { upload: done, uploads: uploads as unknown as Uploads });
    await tick();
    await tick();
    expect(screen.getByTestId('entry-announce').textContent).toBe('Uploaded');
    expect(screen.getByTestId('entry-announce').getAttribute('aria-live')).toBe('polite');
    expect(document.activeElement).toBe(screen.getByTestId('new-upload'));
    await fireEvent.keyDown(document.activeElement!, { key: 'Escape' });
    expect(uploads.done).toHaveBeenCalled();
  });
});
