/** The status bar item: model · device · last latency, or what is wrong (see status.ts). */

import { StatusBarItem, ThemeColor } from 'vscode';
import { Commands } from './constants';
import { formatStatusBar, StatusView } from './status';
import { createStatusBarItem } from './vscodeapi';

export class StatusBar {
    private readonly item: StatusBarItem;

    constructor() {
        this.item = createStatusBarItem('ghostwright.status', 'Ghostwright');
        this.item.command = Commands.showStatus;
        this.item.show();
    }

    render(view: StatusView): void {
        const content = formatStatusBar(view);
        this.item.text = content.text;
        this.item.tooltip = content.tooltip;
        this.item.backgroundColor = content.severity === 'normal'
            ? undefined
            : new ThemeColor(content.severity === 'error' ? 'statusBarItem.errorBackground' : 'statusBarItem.warningBackground');
    }

    dispose(): void {
        this.item.dispose();
    }
}
