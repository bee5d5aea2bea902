import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
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
