import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import type { Plan } from '../bindings/Plan';
import type { QueuedUpload } from '../bindings/QueuedUpload';
import type { UploadFlow } from '../upload.svelte';
import EntryResult from './EntryResult.svelte';
import NotUploaded from './NotUploaded.svelte';
import Picker from './Picker.svelte';
import VirtualListHarness from './VirtualListHarness.test.svelte';

describe('Picker', () => {
  it('filters as you type and picks with Enter', async () => {
    const onselect = vi.fn();
    render(Picker, {
      label: 'Repository',
      items: ['cats', 'dogs', 'catalog'],
      value: null,
      onselect,
      testid: 'repos',
    });
    const search = screen.getByLabelText('Repository');
    await fireEvent.input(search, { target: { value: 'cat' } });
    const options = screen.getAllByRole('option').map((o) => o.textContent?.trim());
    expect(options).toEqual(['cats', 'catalog']);
    await fireEvent.keyDown(search, { key: 'Enter' });
    expect(onselect).toHaveBeenCalledWith('cats');
  });

  it('says when nothing matches', async () => {
    render(Picker, {
      label: 'Namespace',
      items: ['a1'],
      value: 'a1',
      onselect: () => {},
      testid: 'ns',
    });
    await fireEvent.input(screen.getByLabelText('Namespace'), { target: { value: 'zzz' } });
    expect(screen.getByText('No match.')).toBeTruthy();
  });
});

describe('VirtualList', () => {
  it('renders only the rows in view, whatever the length', () => {
    const items = Array.from({ length: 10_000 }, (_, i) => `file-${i}`);
    const { container } = render(VirtualListHarness, { items });
    const rows = container.querySelectorAll('[role=listitem]');
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThan(40);
    expect(rows[0]?.textContent).toContain('file-0');
    const spacer = container.querySelector('[role=list]') as HTMLElement;
    expect(spacer.style.height).toBe(`${10_000 * 30}px`);
  });
});

describe('NotUploaded', () => {
  const plan = (excluded: Plan['excluded'], notes: string[] = []): Plan => ({
    repo: { namespace: 'ada', name: 'photos' },
    branch: 'main',
    dest: '',
    base_commit: null,
    files: [],
    refused: [],
    excluded,
    notes,
    totals: {
      new_files: 0,
      new_bytes: 0,
      overwrite_files: 0,
      overwrite_bytes: 0,
      unchanged_files: 0,
      unchanged_bytes: 0,
      refused: 0,
      excluded: excluded.length,
    },
    default_message: 'Upload',
  });
  const link = {
    local: '/tmp/album/home-link',
    remote: 'album/home-link',
    folder: true,
    reason: 'link_outside' as const,
    rule: null,
    target: '/home/ada',
    message: 'album/home-link/: link to outside the folder — not uploaded. It points to /home/ada.',
  };

  it('lists what is left out with its reason, and re-plans following links when asked', async () => {
    const flow = { followLinks: false, planning: false, review: vi.fn() };
    render(NotUploaded, {
      plan: plan([
        link,
        {
          ...link,
          remote: 'album/x.tmp',
          folder: false,
          reason: 'ignored',
          rule: '.oxenignore: *.tmp',
          target: null,
          message: "album/x.tmp: left out by the rule '*.tmp' in the repository's .oxenignore.",
        },
      ]),
      flow: flow as unknown as UploadFlow,
    });
    const rows = screen.getAllByTestId('excluded-item').map((r) => r.textContent);
    expect(rows[0]).toContain('link outside');
    expect(rows[0]).toContain('It points to /home/ada');
    expect(rows[1]).toContain('ignored');
    expect(rows[1]).toContain("'*.tmp'");
    const choice = screen.getByLabelText('Also upload what 1 link outside the folder points to');
    await fireEvent.click(choice);
    expect(flow.review).toHaveBeenCalledWith(true);
  });

  it('shows notes, and nothing at all when nothing is left out', () => {
    const { container } = render(NotUploaded, {
      plan: plan([]),
      flow: { followLinks: false, planning: false, review: vi.fn() } as unknown as UploadFlow,
    });
    expect(container.querySelector('[data-testid=not-uploaded]')).toBeNull();
    const noted = render(NotUploaded, {
      plan: plan(
        [],
        ["The repository's .oxenignore was not used: line 2 ('[z-a') is not a valid pattern."],
      ),
      flow: { followLinks: false, planning: false, review: vi.fn() } as unknown as UploadFlow,
    });
    const note = noted.container.querySelector('[data-testid=plan-note]');
    expect(note?.textContent).toContain('line 2');
    expect(noted.container.querySelector('[data-testid=follow-links]')).toBeNull();
  });
});

describe('EntryResult', () => {
  const stopped = (state: QueuedUpload['state'], sent: QueuedUpload['sent']): QueuedUpload =>
    ({
      id: 'u1',
      state,
      branch: 'main',
      files: 40,
      bytes: 10 * 1024 * 1024,
      outcome: null,
      problem: null,
      sent,
    }) as unknown as QueuedUpload;
  const sentLine = (upload: QueuedUpload) =>
    render(EntryResult, { upload })
      .container.querySelector('[data-testid=entry-sent]')
      ?.textContent?.replace(/\s+/g, ' ')
      .trim();

  it('says what a stopped upload already has on the server', () => {
    expect(sentLine(stopped('paused', { files: 12, bytes: 3 * 1024 * 1024 }))).toBe(
      'Already on the server: 12 of 40 files (3.0 MB of 10.0 MB). Resuming sends only the rest.',
    );
  });

  it('says when nothing was sent yet, and nothing once it runs again', () => {
    expect(sentLine(stopped('interrupted', { files: 0, bytes: 0 }))).toBe(
      'None of its files is on the server yet.',
    );
    expect(sentLine(stopped('running', { files: 12, bytes: 1 }))).toBeUndefined();
    expect(sentLine(stopped('paused', null))).toBeUndefined();
  });
});
