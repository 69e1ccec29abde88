/**
 * Streamed inline suggestions: show the server's `ghostwright/partialCompletion` text while
 * the model is still decoding, then the final answer.
 *
 * VS Code asks an InlineCompletionItemProvider once and draws whatever that one call returns;
 * it has no way to push new text into a request that is still open. So, with streaming on,
 * a request is answered with the first partial text as soon as it arrives, while the real
 * LSP request keeps running under a cancellation source of our own. Each newer partial, and
 * the final answer, asks VS Code to re-query (`retrigger`); a re-query at the same document
 * version and cursor position is answered from here at once, without a new server request.
 * VS Code skips an explicit re-query at the place its last explicit query already answered,
 * so after an explicit query the retrigger must first hide the shown text (`afterExplicit`).
 * A request at any other place cancels the running one: the user has moved on.
 *
 * Pure (no `vscode` import) so `node --test` covers it; server.ts supplies the VS Code parts.
 */

/** Where a suggestion belongs: one document version, one cursor position. */
export interface InlineKey {
    uri: string;
    version: number;
    line: number;
    character: number;
}

/** `ghostwright/partialCompletion` params. */
export interface PartialCompletion {
    id: string | number;
    uri: string;
    version: number;
    position: { line: number; character: number };
    text: string;
    done: boolean;
}

/** The part of a VS Code CancellationToken used here. */
export interface TokenLike {
    readonly isCancellationRequested: boolean;
    onCancellationRequested(listener: () => void): { dispose(): void };
}

/** A running server request: its final result, and how to cancel it. */
export interface Started<R> {
    result: PromiseLike<R>;
    cancel(): void;
}

export type Answer<R> =
    | { kind: 'final'; result: R }
    | { kind: 'partial'; text: string; id: string | number }
    | { kind: 'none' };

export function sameKey(a: InlineKey, b: InlineKey): boolean {
    return a.uri === b.uri && a.version === b.version && a.line === b.line && a.character === b.character;
}

class Stream<R> {
    partial?: { text: string; id: string | number };
    done = false;
    result?: R;
    error?: unknown;
    /** Something (a partial) went back to VS Code, so later text needs a re-query to show. */
    shown = false;
    retriggerQueued = false;
    /** The last provider call for this stream was explicit (a re-query or Alt+\\). */
    lastCallExplicit = false;
    partials = 0;
    private waiters: Array<() => void> = [];

    constructor(readonly key: InlineKey, readonly started: Started<R>) {}

    notify(): void {
        const waiters = this.waiters;
        this.waiters = [];
        waiters.forEach((wake) => wake());
    }

    /** Resolves when a partial or the final answer is available, or `token` is cancelled. */
    changed(token: TokenLike): Promise<void> {
        return new Promise((resolve) => {
            if (token.isCancellationRequested) {
                resolve();
                return;
            }
            const listener = token.onCancellationRequested(() => resolve());
            this.waiters.push(() => {
                listener.dispose();
                resolve();
            });
        });
    }
}

export interface StreamEvents {
    /** Ask VS Code to query again at `key` (editor.action.inlineSuggest.trigger); with
     *  `afterExplicit`, VS Code's last query there was explicit and must be cleared first. */
    retrigger(key: InlineKey, afterExplicit: boolean): void;
    /** A stream ended (final answer, error or cancellation), with its partial count. */
    onEnd?(key: InlineKey, partials: number): void;
}

export class InlineStreams<R> {
    private current: Stream<R> | undefined;

    constructor(private readonly events: StreamEvents) {}

    /** The key of the request in flight, if any (for tests and the status bar). */
    get inFlight(): InlineKey | undefined {
        return this.current && !this.current.done ? this.current.key : undefined;
    }

    /**
     * Answer one provider call at `key`. `start` sends the real request (only when no
     * stream for `key` exists); `token` is VS Code's token for this call; `explicit` says
     * whether VS Code's trigger kind was Invoke.
     */
    async provide(key: InlineKey, start: () => Started<R>, token: TokenLike, explicit = false): Promise<Answer<R>> {
        let stream = this.current;
        if (!stream || !sameKey(stream.key, key)) {
            this.cancelCurrent();
            stream = this.begin(key, start());
        }
        stream.retriggerQueued = false;
        stream.lastCallExplicit = explicit;
        if (!stream.done && stream.partial === undefined) {
            await stream.changed(token);
        }
        if (token.isCancellationRequested && !stream.done && !stream.shown) {
            // VS Code gave up on this call before anything came back: nobody will see the rest.
            if (this.current === stream) {
                this.cancelCurrent();
            }
            return { kind: 'none' };
        }
        if (stream.done) {
            if (stream.error !== undefined) {
                throw stream.error;
            }
            return { kind: 'final', result: stream.result as R };
        }
        if (stream.partial === undefined) {
            return { kind: 'none' };
        }
        stream.shown = true;
        return { kind: 'partial', ...stream.partial };
    }

    /** A `ghostwright/partialCompletion` notification (ignored unless it is for the stream in flight). */
    onPartial(partial: PartialCompletion): void {
        const stream = this.current;
        const key = { uri: partial.uri, version: partial.version, ...partial.position };
        if (!stream || stream.done || !sameKey(stream.key, key) || !partial.text) {
            return;
        }
        stream.partial = { text: partial.text, id: partial.id };
        stream.partials += 1;
        stream.notify();
        this.queueRetrigger(stream);
    }

    /** Cancel the request in flight (the user moved on, or suggestions were turned off). */
    cancelCurrent(): void {
        const stream = this.current;
        this.current = undefined;
        if (stream && !stream.done) {
            stream.started.cancel();
        }
    }

    private begin(key: InlineKey, started: Started<R>): Stream<R> {
        const stream = new Stream<R>(key, started);
        this.current = stream;
        const finish = () => {
            stream.done = true;
            stream.notify();
            this.events.onEnd?.(key, stream.partials);
            if (this.current === stream) {
                this.queueRetrigger(stream);
            }
        };
        Promise.resolve(started.result).then(
            (result) => {
                stream.result = result;
                finish();
            },
            (error: unknown) => {
                stream.error = error ?? new Error('inline completion failed');
                finish();
            },
        );
        return stream;
    }

    private queueRetrigger(stream: Stream<R>): void {
        if (stream.shown && !stream.retriggerQueued && this.current === stream) {
            stream.retriggerQueued = true;
            this.events.retrigger(stream.key, stream.lastCallExplicit);
        }
    }
}
