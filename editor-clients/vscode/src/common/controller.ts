/**
 * The extension's state: one server, one status bar, the settings that feed them.
 * Starts the server (or explains why it cannot), restarts it when a setting needs it,
 * and keeps the status bar current from `ghostwright.status`.
 */

import * as os from 'os';
import { ConfigurationChangeEvent, Disposable, LogOutputChannel } from 'vscode';
import { SETTINGS_SECTION } from './constants';
import { serverNotFoundMessage, serverStartFailedMessage } from './crashes';
import { resolveExecutable } from './executable';
import { showLogs, traceError, traceInfo, traceWarn } from './logger';
import { GhostwrightServer, PartialCompletion } from './server';
import {
    changedKeys,
    declaredKeys,
    PackageJsonLike,
    readClientSettings,
    RESTART_KEYS,
    toInitializationOptions,
} from './settings';
import { ServerStatus, StatusView } from './status';
import { StatusBar } from './statusBar';
import { getConfiguration, getWorkspaceFolders, openSettings, showErrorMessage } from './vscodeapi';

const POLL_MS = 1000;
const POLL_LIMIT_MS = 10 * 60 * 1000;

export class Controller implements Disposable {
    readonly server: GhostwrightServer;
    private readonly statusBar = new StatusBar();
    private view: StatusView = { enabled: true, connection: 'starting' };
    private pollTimer: NodeJS.Timeout | undefined;
    private refreshTimer: NodeJS.Timeout | undefined;
    private modelErrorShown = false;
    /** One pop-up per start: a crash loop and the failed start it causes are one problem. */
    private serverFailureShown = false;
    private inFlight = 0;

    constructor(channel: LogOutputChannel, private readonly pkg: PackageJsonLike) {
        this.server = new GhostwrightServer(channel, {
            isEnabled: () => this.enabled,
            isStreaming: () => getConfiguration(SETTINGS_SECTION).get<boolean>('streaming') === true,
            onState: (connection) => {
                this.update({ connection });
                if (connection === 'running') {
                    this.pollUntilLoaded();
                }
            },
            onInlineRequest: (elapsedMs) => {
                // Requests overlap (a cancelled one may still be answering): busy while any runs.
                this.inFlight = Math.max(0, this.inFlight + (elapsedMs === undefined ? 1 : -1));
                this.update({ busy: this.inFlight > 0, streamedChars: undefined });
                if (elapsedMs !== undefined) {
                    this.refreshSoon();
                }
            },
            onPartial: (partial: PartialCompletion) => this.update({ busy: true, streamedChars: partial.text.length }),
            onGaveUp: (message) => void this.reportServerFailure(message),
        });
        this.view.enabled = this.enabled;
        this.statusBar.render(this.view);
    }

    get enabled(): boolean {
        return getConfiguration(SETTINGS_SECTION).get<boolean>('enabled') !== false;
    }

    get status(): ServerStatus | undefined {
        return this.view.status;
    }

    private get workspaceFolder(): string | undefined {
        const folder = getWorkspaceFolders()[0];
        return folder?.uri.scheme === 'file' ? folder.uri.fsPath : undefined;
    }

    /** Start (or restart) the server with the current settings. Never throws. */
    async start(): Promise<void> {
        clearTimeout(this.pollTimer);
        this.modelErrorShown = false;
        this.serverFailureShown = false;
        this.inFlight = 0;
        this.update({ connection: 'starting', status: undefined, busy: false });
        const config = getConfiguration(SETTINGS_SECTION);
        const cwd = this.workspaceFolder;
        const settings = readClientSettings(config, { home: os.homedir(), workspaceFolder: cwd });
        const executable = resolveExecutable(settings.serverPath, { env: process.env, cwd });
        if (!executable) {
            await this.server.stop();
            this.update({ connection: 'failed' });
            await this.reportServerFailure(serverNotFoundMessage(settings.serverPath));
            return;
        }
        try {
            await this.server.start(executable, settings, toInitializationOptions(config, this.pkg), cwd);
        } catch (error) {
            this.update({ connection: 'failed' });
            await this.reportServerFailure(serverStartFailedMessage(executable, error));
        }
    }

    async onConfigurationChanged(event: ConfigurationChangeEvent): Promise<void> {
        const changed = changedKeys(declaredKeys(this.pkg), (section) => event.affectsConfiguration(section));
        if (!changed.length) {
            return;
        }
        traceInfo(`settings changed: ${changed.join(', ')}`);
        this.update({ enabled: this.enabled });
        if (changed.some((key) => RESTART_KEYS.includes(key)) || !this.server.running) {
            await this.start();
        } else {
            await this.server.sendSettings(toInitializationOptions(getConfiguration(SETTINGS_SECTION), this.pkg));
        }
    }

    /** Ask the server for its status now; updates the status bar. */
    async refresh(): Promise<ServerStatus | undefined> {
        try {
            const status = await this.server.status<ServerStatus>();
            if (status) {
                this.update({ status });
                if (status.error && !this.modelErrorShown) {
                    this.modelErrorShown = true;
                    traceError(`model failed to load: ${status.error}`);
                    void this.reportFailure(`Ghostwright: the model could not be loaded: ${status.error}`, 'model');
                }
            }
            return status;
        } catch (error) {
            traceWarn('ghostwright.status failed:', error);
            return undefined;
        }
    }

    private pollUntilLoaded(started = Date.now()): void {
        clearTimeout(this.pollTimer);
        void this.refresh().then((status) => {
            const waiting = this.server.running && !(status?.loaded || status?.error);
            if (waiting && Date.now() - started < POLL_LIMIT_MS) {
                this.pollTimer = setTimeout(() => this.pollUntilLoaded(started), POLL_MS);
            }
        });
    }

    private refreshSoon(): void {
        clearTimeout(this.refreshTimer);
        this.refreshTimer = setTimeout(() => void this.refresh(), 200);
    }

    private update(change: Partial<StatusView>): void {
        this.view = { ...this.view, ...change };
        this.statusBar.render(this.view);
    }

    /** The server cannot run: say so once per start, with a way to fix it. */
    private async reportServerFailure(message: string): Promise<void> {
        if (this.serverFailureShown) {
            traceError(message);
            return;
        }
        this.serverFailureShown = true;
        await this.reportFailure(message, 'serverPath');
    }

    /** The one kind of pop-up: something the user has to fix; `setting` is the one to look at. */
    async reportFailure(message: string, setting?: string): Promise<void> {
        traceError(message);
        const actions = setting ? ['Open Settings', 'Show Logs'] : ['Show Logs'];
        const choice = await showErrorMessage(message, ...actions);
        if (choice === 'Show Logs') {
            showLogs();
        } else if (choice === 'Open Settings' && setting) {
            await openSettings(`${SETTINGS_SECTION}.${setting}`);
        }
    }

    async dispose(): Promise<void> {
        clearTimeout(this.pollTimer);
        clearTimeout(this.refreshTimer);
        await this.server.stop();
        this.statusBar.dispose();
    }
}
