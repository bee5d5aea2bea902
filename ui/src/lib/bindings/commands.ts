// Generated from src-tauri/src/commands.rs. Do not edit.
import type { ServerInfo } from './ServerInfo';

export interface Commands {
  server_info: { args: null; result: ServerInfo };
}
