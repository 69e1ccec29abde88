/**
 * The language client: `ghostwright serve` over stdio, started, restarted and stopped here.
 *
 * vscode-languageclient turns the server's `inlineCompletionProvider` into a VS Code
 * InlineCompletionItemProvider, and each item's `ghostwright.accept` command into a VS Code
 * command that VS Code runs on accept. The middleware skips requests while suggestions are
 * off, times the ones that run and, with `ghostwright.streaming` on, shows the server's
 * partial text while the model decodes (streaming.ts).
 */

import {
    CancellationTokenSource,
    commands,
    InlineCompletionItem,
    InlineCompletionTriggerKind,
    LogOutputChannel,
    Position,
    Range,
    TextDocument,
    Uri,
    window,
} from 'vscode';
import {
    CloseAction,
    DidChangeConfigurationNotification,
    ErrorAction,
    ExecuteCommandRequest,
    LanguageClient,
    LanguageClientOptions,
    RevealOutputChannelOn,
    ServerOptions,
    State,
} from 'vscode-languageclient/node';
import { CLIENT_ID, EXTENSION_NAME, PARTIAL_COMPLETION_NOTIFICATION, ServerCommands } from './constants';
import { CrashTracker, serverCrashedMessage } from './crashes';
import { traceInfo, traceVerbose, traceWarn } from './logger';
import { ClientSettings, ServerOptionsMap } from './settings';
import { ConnectionState } from './status';
import { InlineKey, InlineStreams, PartialCompletion } from './streaming';

export { PartialCompletion } from './streaming';

type InlineResult = Awaited<ReturnType<NonNullable<
    NonNullable<LanguageClientOptions['middleware']>['provideInlineCompletionItems']>>>;

/**
 * The language client, minus its own error pop-ups: it would show "couldn't create connection
 * to server" next to ours for the same failure. Its errors are still logged; the controller
 * decides what deserves a pop-up (one per problem, with the fix).
 */
class QuietLanguageClient extends LanguageClient {
    override error(message: string, data?: unknown, _showNotification?: boolean | 'force'): void {
        super.error(message, data, false);
    }
}

function keyOf(document: TextDocument, position: Position): InlineKey {
    return { uri: document.uri.toString(), version: document.version, line: position.line, character: position.character };
}

export interface ServerEvents {
    /** False while the user has turned suggestions off: requests are not even sent. */
    isEnabled(): boolean;
    /** The `ghostwright.streaming` setting: show partial text while the model decodes. */
    isStreaming(): boolean;
    onState(state: ConnectionState): void;
    /** An inline request started (elapsedMs undefined) or ended. */
    onInlineRequest(elapsedMs?: number): void;
    onPartial(partial: PartialCompletion): void;
    /** The server died too often and will not be restarted (shown to the user once). */
    onGaveUp(message: string): void;
}

export class GhostwrightServer {
    private client: LanguageClient | undefined;
    private readonly crashes = new CrashTracker();
    private gaveUp = false;
    private readonly streams = new InlineStreams<InlineResult>({
        retrigger: (key, afterExplicit) => this.retrigger(key, afterExplicit),
        onEnd: (key, partials) => {
            if (partials) {
                traceInfo(`suggestion at ${key.line + 1}:${key.character + 1} streamed in ${partials} partial update(s)`);
            }
        },
    });

    constructor(private readonly channel: LogOutputChannel, private readonly events: ServerEvents) {}

    get running(): boolean {
        return this.client?.state === State.Running;
    }

    /** Server commands advertised in `executeCommandProvider` (empty until running). */
    get commands(): string[] {
        return this.client?.initializeResult?.capabilities.executeCommandProvider?.commands ?? [];
    }

    get serverVersion(): string | undefined {
        return this.client?.initializeResult?.serverInfo?.version;
    }

    /** Start `serverPath serve serverArgs...`; resolves once initialized, rejects if that fails. */
    async start(executable: string, settings: ClientSettings, options: ServerOptionsMap, cwd?: string): Promise<void> {
        await this.stop();
        this.crashes.reset();
        this.gaveUp = false;
        const serverOptions: ServerOptions = {
            command: executable,
            // No `transport`: TransportKind.stdio would append `--stdio`, which `serve` rejects.
            args: ['serve', ...settings.serverArgs],
            options: { cwd, env: { ...process.env } },
        };
        const clientOptions: LanguageClientOptions = {
            documentSelector: [{ scheme: 'file' }, { scheme: 'untitled' }],
            outputChannel: this.channel,
            traceOutputChannel: this.channel,
            revealOutputChannelOn: RevealOutputChannelOn.Never,
            initializationOptions: options,
            errorHandler: {
                error: (error, _message, count) => {
                    traceWarn(`connection error (${count ?? 0}): ${error.message}`);
                    return { action: ErrorAction.Continue, handled: true };
                },
                closed: () => this.onClosed(),
            },
            middleware: {
                provideInlineCompletionItems: async (document, position, context, token, next) => {
                    if (!this.events.isEnabled()) {
                        this.streams.cancelCurrent();
                        return null;
                    }
                    const timed = (cancel: CancellationTokenSource | undefined) => {
                        const started = Date.now();
                        this.events.onInlineRequest();
                        return Promise.resolve(next(document, position, context, cancel?.token ?? token))
                            .finally(() => this.events.onInlineRequest(Date.now() - started));
                    };
                    if (!this.events.isStreaming()) {
                        return timed(undefined);
                    }
                    const answer = await this.streams.provide(keyOf(document, position), () => {
                        const source = new CancellationTokenSource();
                        return { result: timed(source).finally(() => source.dispose()), cancel: () => source.cancel() };
                    }, token, context.triggerKind === InlineCompletionTriggerKind.Invoke);
                    traceVerbose(`inline ${position.line + 1}:${position.character + 1} v${document.version}: ${answer.kind}`);
                    if (answer.kind === 'final') {
                        return answer.result;
                    }
                    if (answer.kind === 'partial') {
                        // Same shape as the server's final items: an explicit empty range at the
                        // cursor (VS Code would otherwise replace the word) and the accept command.
                        return [new InlineCompletionItem(answer.text, new Range(position, position), {
                            title: 'Accept suggestion',
                            command: ServerCommands.accept,
                            arguments: [{ id: String(answer.id), chars: answer.text.length }],
                        })];
                    }
                    return null;
                },
            },
        };
        const client = new QuietLanguageClient(CLIENT_ID, EXTENSION_NAME, serverOptions, clientOptions);
        this.client = client;
        client.onDidChangeState((e) => {
            const state = e.newState === State.Running ? 'running' : e.newState === State.Starting ? 'starting' : 'stopped';
            this.events.onState(state === 'stopped' && this.gaveUp ? 'failed' : state);
        });
        client.onNotification(PARTIAL_COMPLETION_NOTIFICATION, (params: PartialCompletion) => {
            // The server echoes the URI it was sent; normalise it the way keyOf() spells URIs.
            const partial = { ...params, uri: Uri.parse(params.uri).toString() };
            this.streams.onPartial(partial);
            this.events.onPartial(partial);
        });
        traceInfo(`starting ${executable} serve ${settings.serverArgs.join(' ')}`.trim());
        this.events.onState('starting');
        await client.start();
        traceInfo(`server ${client.initializeResult?.serverInfo?.name ?? ''} ${this.serverVersion ?? ''} running; commands: ${this.commands.join(', ')}`);
    }

    /** Re-query inline suggestions, when the editor is still where the suggestion belongs. */
    private retrigger(key: InlineKey, afterExplicit: boolean): void {
        const editor = window.activeTextEditor;
        const cursor = editor?.selection.active;
        if (!editor || !cursor || !editor.selection.isEmpty || editor.document.uri.toString() !== key.uri
            || editor.document.version !== key.version || cursor.line !== key.line || cursor.character !== key.character) {
            return;
        }
        void (async () => {
            if (afterExplicit) {  // VS Code would answer an explicit re-query from what it shows
                await commands.executeCommand('editor.action.inlineSuggest.hide');
            }
            await commands.executeCommand('editor.action.inlineSuggest.trigger');
        })().catch((error) => traceWarn('re-querying inline suggestions:', error));
    }

    async stop(): Promise<void> {
        this.streams.cancelCurrent();
        const client = this.client;
        this.client = undefined;
        if (!client) {
            return;
        }
        try {
            if (client.needsStop()) {
                await client.stop(2000);
            }
        } catch (error) {
            traceWarn('stopping the server:', error);
        }
        try {
            await client.dispose(2000);
        } catch {
            // already stopped
        }
        this.events.onState('stopped');
    }

    private onClosed() {
        if (this.crashes.record(Date.now())) {
            traceWarn(`the server exited (${this.crashes.count} in the last ${this.crashes.windowMs / 60000} minutes); restarting it`);
            return { action: CloseAction.Restart, handled: true };
        }
        const message = serverCrashedMessage(this.crashes.count, this.crashes.windowMs);
        this.gaveUp = true;
        this.events.onState('failed');
        this.events.onGaveUp(message);
        return { action: CloseAction.DoNotRestart, message, handled: true };
    }

    /** Send changed server settings (workspace/didChangeConfiguration). */
    async sendSettings(options: ServerOptionsMap): Promise<void> {
        if (this.running) {
            await this.client!.sendNotification(DidChangeConfigurationNotification.type, { settings: options });
        }
    }

    /** workspace/executeCommand; undefined when the server is not running. */
    async execute<T>(command: string, args: unknown[] = []): Promise<T | undefined> {
        if (!this.running) {
            return undefined;
        }
        return (await this.client!.sendRequest(ExecuteCommandRequest.type, { command, arguments: args })) as T;
    }

    status<T>(): Promise<T | undefined> {
        return this.execute<T>(ServerCommands.status);
    }

    stats<T>(): Promise<T | undefined> {
        return this.execute<T>(ServerCommands.stats);
    }
}
