/**
 * When the server process dies: restart it a few times, then stop and say why once.
 * Pure (time is passed in) so the policy is unit-tested.
 */

import { INSTALL_HINT } from './constants';

export class CrashTracker {
    private times: number[] = [];

    constructor(readonly maxRestarts = 4, readonly windowMs = 3 * 60 * 1000) {}

    /** Record a crash at `now`; true when the server should be restarted. */
    record(now: number): boolean {
        this.times = this.times.filter((t) => now - t < this.windowMs);
        this.times.push(now);
        return this.times.length <= this.maxRestarts;
    }

    get count(): number {
        return this.times.length;
    }

    reset(): void {
        this.times = [];
    }
}

export function serverNotFoundMessage(serverPath: string): string {
    return `Ghostwright server not found: \`${serverPath}\` is not an executable here; ${INSTALL_HINT}.`;
}

export function serverCrashedMessage(crashes: number, windowMs: number): string {
    const minutes = Math.round(windowMs / 60000);
    return `The Ghostwright server stopped ${crashes} times in ${minutes} minutes and will not be restarted. ` +
        'See Output › Ghostwright for its last messages, then run "Ghostwright: Restart Server".';
}

export function serverStartFailedMessage(serverPath: string, error: unknown): string {
    let reason = error instanceof Error ? error.message : String(error);
    if (/EPIPE|ECONNRESET|connection got disposed|connection (is )?closed/i.test(reason)) {
        reason = `it exited before answering (${reason})`;
    }
    return `The Ghostwright server (\`${serverPath} serve\`) failed to start: ${reason}. ` +
        `Check Output › Ghostwright; if the command is wrong, ${INSTALL_HINT}.`;
}
