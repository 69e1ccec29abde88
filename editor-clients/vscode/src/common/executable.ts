/**
 * Find the server executable before spawning it, so a missing `ghostwright` gets an
 * actionable message instead of a bare ENOENT. Pure except for the default file check.
 */

import * as fs from 'fs';
import * as path from 'path';

export interface ResolveOptions {
    env: Record<string, string | undefined>;
    /** Relative paths such as `.venv/bin/ghostwright` are taken from here (the workspace). */
    cwd?: string;
    platform?: NodeJS.Platform;
    isExecutable?: (file: string) => boolean;
}

export function isExecutableFile(file: string): boolean {
    try {
        fs.accessSync(file, fs.constants.X_OK);
        return fs.statSync(file).isFile();
    } catch {
        return false;
    }
}

/** The absolute path `command` runs, or undefined when there is none. */
export function resolveExecutable(command: string, options: ResolveOptions): string | undefined {
    const platform = options.platform ?? process.platform;
    const p = platform === 'win32' ? path.win32 : path.posix;
    const check = options.isExecutable ?? isExecutableFile;
    const extensions = platform === 'win32'
        ? ['', ...(options.env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';').filter(Boolean)]
        : [''];
    const candidates = (base: string) => extensions.map((ext) => base + ext);

    if (command.includes('/') || (platform === 'win32' && command.includes('\\'))) {
        const full = p.isAbsolute(command) ? command : p.resolve(options.cwd ?? '', command);
        return candidates(full).find(check);
    }
    const dirs = (options.env.PATH ?? options.env.Path ?? '').split(p.delimiter).filter(Boolean);
    for (const dir of dirs) {
        const found = candidates(p.join(dir, command)).find(check);
        if (found) {
            return found;
        }
    }
    return undefined;
}
