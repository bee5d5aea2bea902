// The one door to the Rust side. Argument and result types come from the generated bindings, so
// a command called with the wrong shape does not compile.
import { Channel, invoke } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import type { Commands } from './bindings/commands';
import type { Error as CoreError } from './bindings/Error';
import type { SourcesView } from './bindings/SourcesView';
import type { UploadsEvent } from './bindings/UploadsEvent';
import type { WatchesView } from './bindings/WatchesView';

export type CommandName = keyof Commands;
type ArgsOf<K extends CommandName> = Commands[K]['args'];
type ResultOf<K extends CommandName> = Commands[K]['result'];
/** Commands that stream over a Channel: see `watchUploads` and `watchWatches`. */
type WithChannel = {
  [K in CommandName]: Commands[K] extends { events: unknown } | { updates: unknown } ? K : never;
}[CommandName];

/** Calls a command; rejects with the core's `{code, message, retryable}`. */
export async function call<K extends Exclude<CommandName, WithChannel>>(
  command: K,
  ...args: ArgsOf<K> extends null ? [] : [ArgsOf<K>]
): Promise<ResultOf<K>> {
  try {
    return await invoke<ResultOf<K>>(command, args.length ? { args: args[0] } : {});
  } catch (e) {
    throw toError(e);
  }
}

/** Opens the one Channel the list of uploads and their progress come over; returns the list. */
export async function watchUploads(onEvent: (event: UploadsEvent) => void): Promise<void> {
  const events = new Channel<UploadsEvent>();
  events.onmessage = onEvent;
  try {
    await invoke<void>('watch_uploads', { events });
  } catch (e) {
    throw toError(e);
  }
}

/** Opens the Channel the watched folders' states come over: at once, then after every change. */
export async function watchWatches(onView: (view: WatchesView) => void): Promise<void> {
  const updates = new Channel<WatchesView>();
  updates.onmessage = onView;
  try {
    await invoke<void>('watch_watches', { updates });
  } catch (e) {
    throw toError(e);
  }
}

/** Whatever the backend threw, as the core's `{code, message, retryable}`. */
export function toError(e: unknown): CoreError {
  if (e && typeof e === 'object' && 'code' in e && 'message' in e) {
    return e as CoreError;
  }
  return {
    code: 'internal',
    message:
      typeof e === 'string' && e.length < 300
        ? `OxDrop could not do that: ${e}`
        : 'Something went wrong inside OxDrop. Please try again.',
    retryable: true,
  };
}

/** Files the OS dropped on the window (handled in Rust; this only hears the result). */
export function onSourcesChanged(handler: (view: SourcesView) => void): Promise<UnlistenFn> {
  return listen<SourcesView>('oxdrop://sources-changed', (e) => handler(e.payload));
}

/** Files are being dragged over the window. */
export function onDragHover(handler: (hovering: boolean) => void): Promise<UnlistenFn> {
  return listen<boolean>('oxdrop://drag-hover', (e) => handler(e.payload));
}
