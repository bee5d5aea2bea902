import { describe, expect, it } from 'vitest';
import { bytes, count, duration, percent, shortId } from './format';

describe('format', () => {
  it('shows sizes in binary units', () => {
    expect(bytes(0)).toBe('0 B');
    expect(bytes(1023)).toBe('1023 B');
    expect(bytes(1536)).toBe('1.5 KB');
    expect(bytes(200 * 1024 * 1024)).toBe('200 MB');
    expect(bytes(2 * 1024 ** 3)).toBe('2.0 GB');
    expect(bytes(-1)).toBe('—');
  });

  it('shows durations readably', () => {
    expect(duration(8)).toBe('8 s');
    expect(duration(75)).toBe('1 min 15 s');
    expect(duration(120)).toBe('2 min');
    expect(duration(3725)).toBe('1 h 2 min');
    expect(duration(null)).toBe('—');
  });

  it('pluralises and formats counts', () => {
    expect(count(1, 'file')).toBe('1 file');
    expect(count(12000, 'file')).toBe('12,000 files');
    expect(count(2, 'repository', 'repositories')).toBe('2 repositories');
  });

  it('bounds percentages', () => {
    expect(percent(50, 200)).toBe(25);
    expect(percent(300, 200)).toBe(100);
    expect(percent(0, 0)).toBe(0);
    expect(percent(5, 0)).toBe(100);
  });

  it('shortens commit ids', () => {
    expect(shortId('0123456789abcdef')).toBe('0123456789');
  });
});
