// The one door to the Rust side. Argument and result types come from the generated bindings, so
// a command called with the wrong shape does not compile.
import { invoke } from '@tauri-apps/api/core';
import type { Commands } from './bindings/commands';
import type { Error as CoreError } from './bindings/Error';

export type CommandName = keyof Commands;

export async function call<K extends CommandName>(
  command: K,
  ...args: Commands[K]['args'] extends null ? [] : [Commands[K]['args']]
): Promise<Commands[K]['result']> {
  try {
    return await invoke<Commands[K]['result']>(command, args.length ? { args: args[0] } : {});
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
    message: 'Something went wrong inside OxDrop. Please try again.',
    retryable: true,
  };
}
