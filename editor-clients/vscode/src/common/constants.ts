/** Names shared by the modules of the extension (one place, like ruff-vscode's constants). */

export const EXTENSION_NAME = 'Ghostwright';
/** The client id: VS Code reads `ghostwright.trace.server` from it. */
export const CLIENT_ID = 'ghostwright';
export const SETTINGS_SECTION = 'ghostwright';

/** Commands the extension contributes (package.json). They must not collide with the
 *  server's own commands, which vscode-languageclient registers under their LSP names. */
export const Commands = {
    ask: 'ghostwright.askQuestion',
    showStats: 'ghostwright.showStats',
    showStatus: 'ghostwright.showStatus',
    restart: 'ghostwright.restart',
    toggle: 'ghostwright.toggle',
} as const;

/** Commands the server executes (workspace/executeCommand). */
export const ServerCommands = {
    accept: 'ghostwright.accept',
    status: 'ghostwright.status',
    stats: 'ghostwright.stats',
    ask: 'ghostwright.ask',
} as const;

/** Server → client notification with the text decoded so far (when `streaming` is on). */
export const PARTIAL_COMPLETION_NOTIFICATION = 'ghostwright/partialCompletion';

export const INSTALL_HINT = 'install it (`pip install -e /path/to/ghostwright`, then `ghostwright model pull`) or set ghostwright.serverPath to its full path';
