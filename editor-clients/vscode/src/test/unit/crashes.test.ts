import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { CrashTracker, serverCrashedMessage, serverNotFoundMessage, serverStartFailedMessage } from '../../common/crashes';

test('restarts up to the limit inside the window, then gives up', () => {
    const tracker = new CrashTracker(2, 1000);
    assert.equal(tracker.record(0), true);
    assert.equal(tracker.record(10), true);
    assert.equal(tracker.record(20), false);
    assert.equal(tracker.count, 3);
});

test('crashes older than the window are forgotten', () => {
    const tracker = new CrashTracker(2, 1000);
    tracker.record(0);
    tracker.record(10);
    assert.equal(tracker.record(1500), true);
    assert.equal(tracker.count, 1);
    tracker.reset();
    assert.equal(tracker.count, 0);
});

test('messages say what to do', () => {
    const missing = serverNotFoundMessage('ghostwright');
    assert.match(missing, /^Ghostwright server not found/);
    assert.match(missing, /pip install -e .*ghostwright model pull/);
    assert.match(missing, /ghostwright\.serverPath/);
    assert.match(serverCrashedMessage(5, 180000), /5 times in 3 minutes.*Restart Server/);
    assert.match(serverStartFailedMessage('/x/gw', new Error('boom')), /failed to start: boom/);
    assert.match(serverStartFailedMessage('/x/gw', new Error('write EPIPE')), /failed to start: it exited before answering/);
});
