// Drive VS Code (code-server) in headless Chromium: open a Python file, type a function
// signature and docstring, wait for Ghostwright's ghost text, screenshot it, accept it with
// Tab, save, run Ghostwright: Show Stats and Ghostwright: Ask. Then name a missing model, point
// ghostwright.serverPath at a missing file, then at a server that exits at once, and capture the
// error notifications the user gets. Prints one JSON line with what happened; exits non-zero with
// the reason when a step fails (a screenshot of the failing moment is kept next to the artifact).
//
//   node drive_vscode.cjs <config.json>
//   config: {url, folder, file, chromium, screenshot, noServerScreenshot, typed: [lines],
//            settingsFile, badServerPath, brokenServerPath, question, timeoutMs, ghostTimeoutMs,
//            askTimeoutMs, askScreenshot, missingModel}
// puppeteer-core is found through NODE_PATH (installed by editor-clients/vscode/scripts/setup-e2e.sh).
'use strict';

const fs = require('fs');
const path = require('path');
const puppeteer = require('puppeteer-core');

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const started = Date.now();
const timings = {};
const mark = (name) => { timings[name] = Date.now() - started; log(`${name} (+${timings[name]} ms)`); };
function log(message) { process.stderr.write(`drive_vscode: ${message}\n`); }

const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'];

// Text of the inline suggestion as VS Code (1.139) draws it: the first line is injected into
// the cursor's line as .ghost-text-decoration spans, later lines are .view-line rows of a view
// zone (.suggest-preview-text). Each is split into syntax-coloured spans; join them per line.
function readGhostText() {
    const clean = (t) => t.replace(/\u00a0/g, ' ');
    const inline = [...document.querySelectorAll('.monaco-editor .view-lines .view-line')]
        .filter((line) => line.querySelector('.ghost-text-decoration'))
        .map((line) => clean([...line.querySelectorAll('.ghost-text-decoration')].map((e) => e.textContent).join('')));
    const block = [...document.querySelectorAll('.monaco-editor .suggest-preview-text .view-line')]
        .map((line) => clean(line.textContent));
    return { inline, block };
}

// Error notifications (toasts) that mention Ghostwright: their message and buttons.
function readGhostwrightErrors() {
    return [...document.querySelectorAll('.notification-toast')]
        .filter((el) => /ghostwright/i.test(el.textContent) && el.querySelector('.codicon-error'))
        .map((el) => ({
            message: (el.querySelector('.notification-list-item-message') || el).textContent.trim(),
            buttons: [...el.querySelectorAll('.monaco-button')].map((b) => b.textContent.trim()).filter(Boolean),
        }));
}

// True while the Ghostwright status bar item (the one naming `model`) shows its spinner.
function ghostwrightBusy(model) {
    return [...document.querySelectorAll('.statusbar-item')]
        .some((el) => el.textContent.includes(model) && el.querySelector('.codicon-loading'));
}

async function statusBarText(page) {
    return page.evaluate((model) => [...document.querySelectorAll('.statusbar-item')]
        .map((el) => el.textContent.trim()).filter((t) => /ghostwright/i.test(t) || t.includes(model)).join(' | '),
    config.model);
}

async function main() {
    const browser = await puppeteer.launch({
        executablePath: config.chromium,
        headless: false, // `--headless` is in CHROMIUM_FLAGS, with the other flags known to work here
        args: [...CHROMIUM_FLAGS, '--window-size=1400,900'],
        defaultViewport: { width: 1400, height: 900 },
    });
    const page = await browser.newPage();
    const result = { ok: false, timings };
    const fail = async (reason) => {
        result.error = reason;
        result.statusBar = await statusBarText(page).catch(() => '');
        const shot = config.screenshot.replace(/\.png$/, '_failure.png');
        await page.screenshot({ path: shot }).catch(() => {});
        result.failureScreenshot = shot;
        throw Object.assign(new Error(reason), { result });
    };
    // Run a command from the command palette (F1), by its title.
    async function runCommand(page, title) {
        await page.keyboard.press('F1');
        await page.waitForSelector('.quick-input-widget input', { visible: true, timeout: 30000 })
            .catch(() => fail(`the command palette did not open (for ${title})`));
        await page.keyboard.type(title, { delay: 10 });
        await page.waitForFunction((wanted) => [...document.querySelectorAll('.quick-input-list .monaco-list-row')]
            .some((row) => row.textContent.includes(wanted)), { timeout: 30000, polling: 100 }, title)
            .catch(() => fail(`the command palette does not list ${title}`));
        await page.keyboard.press('Enter');
    }

    // VS Code shows at most three toasts and queues the rest in the notification centre: clear
    // what earlier steps left up, so the next step's pop-up is one the user would see.
    async function clearNotifications(page) {
        await runCommand(page, 'Notifications: Clear All Notifications');
        await page.waitForFunction(() => !document.querySelector('.notification-toast'), { timeout: 10000, polling: 100 })
            .catch(() => fail('Notifications: Clear All Notifications left toasts up'));
    }
    try {
        await page.goto(`${config.url}/?folder=${encodeURIComponent(config.folder)}`, { waitUntil: 'domcontentloaded' });
        await page.waitForSelector('.monaco-workbench .part.statusbar', { timeout: config.timeoutMs })
            .catch(() => fail('the VS Code workbench did not load'));
        mark('workbench');

        // The extension is up and the model loaded when the status bar reads "model · device · latency";
        // an error notification from Ghostwright ends the wait at once.
        const ready = await page.waitForFunction((readErrors, model) => {
            const errors = new Function(`return (${readErrors})()`)();
            if (errors.length) {
                return { error: errors[0].message };
            }
            return [...document.querySelectorAll('.statusbar-item')]
                .some((el) => el.textContent.includes(model) && el.textContent.split('·').length >= 3) && { error: null };
        }, { timeout: config.timeoutMs, polling: 250 }, readGhostwrightErrors.toString(), config.model)
            .then((handle) => handle.jsonValue(), () => ({ error: 'timeout' }));
        if (ready.error === 'timeout') {
            await fail(`the Ghostwright status bar never showed a loaded model (status bar: ${await statusBarText(page)})`);
        } else if (ready.error) {
            await fail(`Ghostwright reported an error before the model loaded: ${ready.error}`);
        }
        result.statusBarReady = await statusBarText(page);
        mark('model loaded');

        // Open the file with Quick Open.
        await page.click('.monaco-workbench .part.editor');
        await page.keyboard.down('Control'); await page.keyboard.press('KeyP'); await page.keyboard.up('Control');
        await page.waitForSelector('.quick-input-widget input', { visible: true, timeout: 30000 })
            .catch(() => fail('Quick Open did not appear'));
        await page.keyboard.type(path.basename(config.file), { delay: 20 });
        await page.waitForSelector('.quick-input-list .monaco-list-row', { visible: true, timeout: 30000 })
            .catch(() => fail(`Quick Open found no ${config.file}`));
        await page.keyboard.press('Enter');
        await page.waitForSelector('.monaco-editor .view-lines', { visible: true, timeout: 30000 })
            .catch(() => fail('the editor did not open'));
        await page.waitForFunction((name) => [...document.querySelectorAll('.tab.active')]
            .some((el) => el.textContent.includes(name)), { timeout: 30000 }, path.basename(config.file))
            .catch(() => fail(`${config.file} is not the active tab`));
        mark('file open');

        // Record, frame by frame, every distinct ghost text drawn from now on (with streaming on,
        // partial text shows first and grows), and each time a suggestion vanished for some frames
        // and came back grown (a "blink" while VS Code re-queries): how long it was gone.
        await page.evaluate((readGhost) => {
            const read = new Function(`return (${readGhost})()`);
            window.__ghostSeen = [];
            window.__ghostBlinks = [];
            let shown = '';
            let goneSince = 0;
            const frame = () => {
                const g = read();
                const text = [...g.inline, ...g.block].join('\n');
                if (text && text !== shown) {
                    if (goneSince && text.startsWith(shown.trimEnd())) {
                        window.__ghostBlinks.push(Math.round(performance.now() - goneSince));
                    }
                    window.__ghostSeen.push(text);
                    shown = text;
                    goneSince = 0;
                } else if (!text && shown && !goneSince) {
                    goneSince = performance.now();
                }
                requestAnimationFrame(frame);
            };
            requestAnimationFrame(frame);
        }, readGhostText.toString());

        // Type at the end of the file.
        await page.click('.monaco-editor .view-lines');
        await page.keyboard.down('Control'); await page.keyboard.press('End'); await page.keyboard.up('Control');
        for (const line of config.typed) {
            await page.keyboard.type(line, { delay: 15 });
            await page.keyboard.press('Enter');
        }
        mark('typed');

        // Ghost text: wait for it; if the automatic request produced nothing, ask explicitly once
        // (Alt+\ = editor.action.inlineSuggest.trigger) and say so in the result.
        const hasGhost = () => document.querySelectorAll('.monaco-editor .ghost-text-decoration, .monaco-editor .suggest-preview-text .ghost-text').length > 0;
        result.trigger = 'automatic';
        const automatic = await page.waitForFunction(hasGhost, { timeout: config.ghostTimeoutMs, polling: 100 })
            .then(() => true, () => false);
        if (!automatic) {
            result.trigger = 'explicit (Alt+\\)';
            await page.keyboard.down('Alt'); await page.keyboard.press('Backslash'); await page.keyboard.up('Alt');
            await page.waitForFunction(hasGhost, { timeout: config.ghostTimeoutMs, polling: 100 })
                .catch(async () => fail(`no ghost text appeared (status bar: ${await statusBarText(page)})`));
        }
        mark('ghost text');
        // Let the request finish (the final text replaces any partial one), then let it settle.
        await page.waitForFunction((busy, model) => !new Function(`return (${busy})`)()(model),
            { timeout: config.timeoutMs, polling: 100 }, ghostwrightBusy.toString(), config.model)
            .catch(() => fail('the suggestion request never finished'));
        await new Promise((r) => setTimeout(r, 500));
        await page.waitForFunction(hasGhost, { timeout: 5000, polling: 100 })
            .catch(() => fail('the ghost text disappeared when the request finished'));
        mark('ghost text final');
        result.ghost = await page.evaluate(readGhostText);
        result.ghostSeen = await page.evaluate(() => window.__ghostSeen);
        result.ghostBlinksMs = await page.evaluate(() => window.__ghostBlinks);
        result.statusBarAfter = await statusBarText(page);
        await page.screenshot({ path: config.screenshot });
        result.screenshot = config.screenshot;

        // Accept with Tab, then save so the test can read the file back.
        // (The test checks the saved file; a next suggestion may already show after Tab.)
        await page.keyboard.press('Tab');
        await new Promise((r) => setTimeout(r, 500));
        mark('accepted');
        await page.keyboard.down('Control'); await page.keyboard.press('KeyS'); await page.keyboard.up('Control');
        await page.waitForFunction(() => !document.querySelector('.tab.active.dirty'), { timeout: 15000, polling: 100 })
            .catch(() => fail('the file did not save'));
        mark('saved');
        await page.screenshot({ path: config.screenshot.replace(/\.png$/, '_accepted.png') });

        // Ghostwright: Show Stats from the command palette: the acceptance was counted.
        await runCommand(page, 'Ghostwright: Show Stats');
        const stats = await page.waitForFunction(() => [...document.querySelectorAll('.notification-toast .notification-list-item-message')]
            .map((el) => el.textContent).find((text) => /Ghostwright: .*shown/.test(text)), { timeout: 30000, polling: 100 })
            .then((handle) => handle.jsonValue(), () => fail('Show Stats showed no message'));
        result.stats = stats.trim();
        mark('stats shown');

        // Ghostwright: Ask: the question goes to the server's ghostwright.ask; the answer opens
        // beside the editor as Markdown headed by the question.
        await runCommand(page, 'Ghostwright: Ask');
        await page.waitForFunction(() => /Ask Ghostwright/.test(document.querySelector('.quick-input-widget')?.textContent ?? ''),
            { timeout: 30000, polling: 100 }).catch(() => fail('Ghostwright: Ask did not ask for a question'));
        await page.keyboard.type(config.question, { delay: 10 });
        await page.keyboard.press('Enter');
        const answer = await page.waitForFunction((question) => {
            const editors = [...document.querySelectorAll('.editor-instance .monaco-editor .view-lines')];
            const text = editors.map((el) => [...el.querySelectorAll('.view-line')].map((l) => l.textContent).join('\n'))
                .find((t) => t.replace(/\u00a0/g, ' ').includes(`# ${question}`));
            return text && text.split('\n').filter((l) => l.trim()).length >= 2 ? text.replace(/\u00a0/g, ' ') : false;
        }, { timeout: config.askTimeoutMs, polling: 250 }, config.question)
            .then((handle) => handle.jsonValue(), async () => {
                const errors = await page.evaluate(readGhostwrightErrors).catch(() => []);
                return fail(`no answer to Ghostwright: Ask (errors: ${JSON.stringify(errors)})`);
            });
        result.ask = answer;
        await page.screenshot({ path: config.askScreenshot });
        mark('ask answered');

        const settings = JSON.parse(fs.readFileSync(config.settingsFile, 'utf8'));
        await clearNotifications(page);
        // A model that is not there: the server starts, its model load fails, the user is told why.
        fs.writeFileSync(config.settingsFile, JSON.stringify({ ...settings, 'ghostwright.model': config.missingModel }, null, 2));
        await page.waitForFunction((readErrors) => new Function(`return (${readErrors})()`)()
            .some((e) => /could not be loaded/.test(e.message)), { timeout: 90000, polling: 250 }, readGhostwrightErrors.toString())
            .catch(() => fail(`no error notification when ghostwright.model names a missing model`));
        result.missingModel = {
            errors: (await page.evaluate(readGhostwrightErrors)).filter((e) => /could not be loaded/.test(e.message)),
            statusBar: await statusBarText(page),
        };
        mark('missing model reported');
        await clearNotifications(page);

        // A missing server: the user sees an error notification that says what to do.
        fs.writeFileSync(config.settingsFile, JSON.stringify({ ...settings, 'ghostwright.serverPath': config.badServerPath }, null, 2));
        await page.waitForFunction((readErrors, bad) => new Function(`return (${readErrors})()`)()
            .some((e) => e.message.includes(bad)), { timeout: 60000, polling: 250 }, readGhostwrightErrors.toString(), config.badServerPath)
            .catch(() => fail('no error notification after ghostwright.serverPath was pointed at a missing file'));
        result.noServer = {
            errors: (await page.evaluate(readGhostwrightErrors)).filter((e) => e.message.includes(config.badServerPath)),
            statusBar: await statusBarText(page),
        };
        await page.screenshot({ path: config.noServerScreenshot });
        mark('missing server reported');
        await clearNotifications(page);

        // A broken server (it exits at once): an error notification too, not silence.
        fs.writeFileSync(config.settingsFile, JSON.stringify({ ...settings, 'ghostwright.serverPath': config.brokenServerPath }, null, 2));
        // (Earlier steps' notifications are still up: tell them apart by their text.)
        const isBroken = `(e) => !e.message.includes(${JSON.stringify(config.badServerPath)}) && !/could not be loaded/.test(e.message)`;
        await page.waitForFunction((readErrors, filter) => new Function(`return (${readErrors})()`)()
            .some(new Function(`return ${filter}`)()), { timeout: 90000, polling: 250 }, readGhostwrightErrors.toString(), isBroken)
            .catch(() => fail('no error notification for a server that exits at once'));
        result.brokenServer = {
            errors: (await page.evaluate(readGhostwrightErrors)).filter(new Function(`return ${isBroken}`)()),
            statusBar: await statusBarText(page),
        };
        mark('broken server reported');
        result.ok = true;
    } finally {
        await browser.close().catch(() => {});
    }
    return result;
}

main().then((result) => {
    process.stdout.write(JSON.stringify(result) + '\n');
}, (error) => {
    process.stdout.write(JSON.stringify(error.result ?? { ok: false, error: String(error && error.stack || error), timings }) + '\n');
    process.exitCode = 1;
});
