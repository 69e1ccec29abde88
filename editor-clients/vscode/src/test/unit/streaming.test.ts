import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { InlineKey, InlineStreams, PartialCompletion, Started, TokenLike } from '../../common/streaming';

/** A cancellation token we can cancel by hand (the shape VS Code's has). */
class Token implements TokenLike {
    isCancellationRequested = false;
    private listeners: Array<() => void> = [];
    onCancellationRequested(listener: () => void) {
        this.listeners.push(listener);
        return { dispose: () => { this.listeners = this.listeners.filter((l) => l !== listener); } };
    }
    cancel(): void {
        this.isCancellationRequested = true;
        this.listeners.forEach((l) => l());
    }
}

/** A server request we resolve by hand; counts how often it was sent and cancelled. */
class FakeRequest {
    sent = 0;
    cancelled = 0;
    private resolveResult: ((value: string) => void) | undefined;
    start = (): Started<string> => {
        this.sent += 1;
        return {
            result: new Promise<string>((resolve) => { this.resolveResult = resolve; }),
            cancel: () => { this.cancelled += 1; this.resolveResult?.('cancelled'); },
        };
    };
    finish(value: string): void {
        this.resolveResult?.(value);
    }
}

const key: InlineKey = { uri: 'file:///w/a.py', version: 3, line: 4, character: 4 };
const partial = (text: string, at: InlineKey = key): PartialCompletion => ({
    id: 7, uri: at.uri, version: at.version, position: { line: at.line, character: at.character }, text, done: false,
});
const tick = () => new Promise((resolve) => setImmediate(resolve));

test('without partials the final answer is returned, and nothing re-queries', async () => {
    const retriggers: InlineKey[] = [];
    const streams = new InlineStreams<string>({ retrigger: (k) => retriggers.push(k) });
    const request = new FakeRequest();
    const answer = streams.provide(key, request.start, new Token());
    request.finish('final');
    assert.deepEqual(await answer, { kind: 'final', result: 'final' });
    assert.equal(request.sent, 1);
    assert.deepEqual(retriggers, []);
});

test('a partial answers at once; newer partials and the final re-query, answered without a new request', async () => {
    const retriggers: Array<{ key: InlineKey; afterExplicit: boolean }> = [];
    const ends: number[] = [];
    const streams = new InlineStreams<string>({
        retrigger: (k, afterExplicit) => retriggers.push({ key: k, afterExplicit }),
        onEnd: (_k, n) => ends.push(n),
    });
    const request = new FakeRequest();

    const first = streams.provide(key, request.start, new Token(), false);
    streams.onPartial(partial('if n < 2:\n'));
    assert.deepEqual(await first, { kind: 'partial', text: 'if n < 2:\n', id: 7 });
    assert.equal(retriggers.length, 0, 'the first partial needs no re-query: it is the answer');

    streams.onPartial(partial('if n < 2:\n        return False\n'));
    assert.deepEqual(retriggers, [{ key, afterExplicit: false }], 'newer text shown by asking VS Code again');
    streams.onPartial(partial('if n < 2:\n        return False\n    for'));
    assert.equal(retriggers.length, 1, 'one re-query at a time');
    const second = await streams.provide(key, request.start, new Token(), true);
    assert.deepEqual(second, { kind: 'partial', text: 'if n < 2:\n        return False\n    for', id: 7 });

    request.finish('the final text');
    await tick();
    assert.deepEqual(retriggers[1], { key, afterExplicit: true },
        'the final answer re-queries too, clearing what the explicit re-query showed');
    assert.deepEqual(await streams.provide(key, request.start, new Token(), true), { kind: 'final', result: 'the final text' });
    assert.equal(request.sent, 1, 'one server request for the whole stream');
    assert.equal(request.cancelled, 0);
    assert.deepEqual(ends, [3]);
});

test('a request elsewhere cancels the stream in flight', async () => {
    const streams = new InlineStreams<string>({ retrigger: () => undefined });
    const old = new FakeRequest();
    const first = streams.provide(key, old.start, new Token());
    streams.onPartial(partial('x = 1\n'));
    await first;
    const moved = { ...key, version: 4, character: 5 };
    const fresh = new FakeRequest();
    const second = streams.provide(moved, fresh.start, new Token());
    assert.equal(old.cancelled, 1, 'typing on cancels the old request');
    assert.equal(fresh.sent, 1);
    streams.onPartial(partial('stale\n'));  // a late partial for the old place is ignored
    fresh.finish('new');
    assert.deepEqual(await second, { kind: 'final', result: 'new' });
});

test('VS Code cancelling before anything came back cancels the server request', async () => {
    const streams = new InlineStreams<string>({ retrigger: () => undefined });
    const request = new FakeRequest();
    const token = new Token();
    const answer = streams.provide(key, request.start, token);
    token.cancel();
    assert.deepEqual(await answer, { kind: 'none' });
    assert.equal(request.cancelled, 1);
    assert.equal(streams.inFlight, undefined);
});

test('partials for another document, version or position are ignored', async () => {
    const streams = new InlineStreams<string>({ retrigger: () => undefined });
    const request = new FakeRequest();
    const answer = streams.provide(key, request.start, new Token());
    streams.onPartial(partial('a\n', { ...key, uri: 'file:///w/b.py' }));
    streams.onPartial(partial('b\n', { ...key, version: 2 }));
    streams.onPartial(partial('c\n', { ...key, character: 0 }));
    streams.onPartial(partial(''));
    request.finish('only the final');
    assert.deepEqual(await answer, { kind: 'final', result: 'only the final' });
});

test('a failed request rejects the provider call instead of hanging it', async () => {
    const streams = new InlineStreams<string>({ retrigger: () => undefined });
    const answer = streams.provide(key, () => ({ result: Promise.reject(new Error('boom')), cancel: () => undefined }),
        new Token());
    await assert.rejects(answer, /boom/);
});
