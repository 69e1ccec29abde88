/**
 * The commands in the palette: Ghostwright: Ask, Show Stats, Show Status, Restart Server,
 * Toggle. Each answers in a message the user asked for, or logs and says why not.
 */

import { Disposable } from 'vscode';
import { Commands, SETTINGS_SECTION, ServerCommands } from './constants';
import { Controller } from './controller';
import { showLogs, traceError, traceInfo } from './logger';
import { answerText, describeStats, describeStatus, ServerStats } from './status';
import {
    activeTextEditor,
    executeCommand,
    registerCommand,
    showInformationMessage,
    showInputBox,
    showMarkdown,
    updateSetting,
} from './vscodeapi';

export function registerCommands(controller: Controller): Disposable[] {
    const server = controller.server;

    async function ask(): Promise<void> {
        if (!server.commands.includes(ServerCommands.ask)) {
            const version = server.serverVersion ? ` ${server.serverVersion}` : '';
            await showInformationMessage(server.running
                ? `Ghostwright: Ask is not available: this server (ghostwright${version}) does not offer ghostwright.ask yet.`
                : 'Ghostwright: Ask is not available: the server is not running.');
            return;
        }
        const editor = activeTextEditor();
        const question = await showInputBox('Ask Ghostwright', 'e.g. what does this function return?');
        if (!question) {
            return;
        }
        // `uri` picks which AGENTS.md files apply; the server finds the sources itself.
        const args: Record<string, unknown> = { question };
        if (editor) {
            args.uri = editor.document.uri.toString();
        }
        try {
            const result = await server.execute<unknown>(ServerCommands.ask, [args]);
            await showMarkdown(question, `# ${question}\n\n${answerText(result)}\n`);
        } catch (error) {
            traceError('ghostwright.ask failed:', error);
            await controller.reportFailure(`Ghostwright: Ask failed: ${error instanceof Error ? error.message : error}`);
        }
    }

    async function showStats(): Promise<void> {
        const stats = await server.stats<ServerStats>();
        if (!stats) {
            await showInformationMessage('Ghostwright: no stats: the server is not running.');
            return;
        }
        traceInfo('stats:', stats);
        await showInformationMessage(`Ghostwright: ${describeStats(stats)}`);
    }

    async function showStatus(): Promise<void> {
        const status = await controller.refresh();
        const enabled = controller.enabled;
        if (!status) {
            const choice = await showInformationMessage('Ghostwright: the server is not running.', 'Restart Server', 'Show Logs');
            if (choice === 'Restart Server') {
                await controller.start();
            } else if (choice === 'Show Logs') {
                showLogs();
            }
            return;
        }
        const lines = describeStatus(status, enabled);
        traceInfo(['status:', ...lines].join('\n  '));
        const choice = await showInformationMessage(`Ghostwright: ${lines.join(' · ')}`,
            enabled ? 'Turn Off' : 'Turn On', 'Show Stats', 'Show Logs');
        if (choice === 'Turn Off' || choice === 'Turn On') {
            await toggle();
        } else if (choice === 'Show Stats') {
            await showStats();
        } else if (choice === 'Show Logs') {
            showLogs();
        }
    }

    async function toggle(): Promise<void> {
        const enabled = !controller.enabled;
        await updateSetting(SETTINGS_SECTION, 'enabled', enabled);
        traceInfo(`inline suggestions ${enabled ? 'on' : 'off'}`);
        if (!enabled) {
            await executeCommand('editor.action.inlineSuggest.hide');
        }
    }

    return [
        registerCommand(Commands.ask, ask),
        registerCommand(Commands.showStats, showStats),
        registerCommand(Commands.showStatus, showStatus),
        registerCommand(Commands.restart, () => controller.start()),
        registerCommand(Commands.toggle, toggle),
    ];
}
