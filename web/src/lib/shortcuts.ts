/**
 * Keyboard shortcuts for agents: one key each, never while typing. A page that has a list
 * or a ticket of its own answers the keys it knows (`usePageShortcuts`); the shell answers
 * the rest (search, help).
 */

export type ShortcutAction = 'search' | 'next' | 'previous' | 'assign' | 'reply' | 'help';

/** The keys, in the help dialog's order. */
export const SHORTCUTS: readonly { key: string; action: ShortcutAction; description: string }[] = [
	{ key: '/', action: 'search', description: 'Search tickets' },
	{ key: 'j', action: 'next', description: 'Next ticket in a triage list' },
	{ key: 'k', action: 'previous', description: 'Previous ticket in a triage list' },
	{ key: 'a', action: 'assign', description: 'Assign: the current ticket of a triage list to me; on a ticket, open the assignee picker' },
	{ key: 'r', action: 'reply', description: 'Reply: on a ticket, go to the reply box' },
	{ key: '?', action: 'help', description: 'Show these shortcuts' }
];

/** Whether keys typed now go into a field: inputs, text areas, selects, editable text. */
export function isTyping(target: EventTarget | null): boolean {
	if (!(target instanceof HTMLElement)) return false;
	if (target.isContentEditable) return true;
	if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
	if (target instanceof HTMLInputElement) return !['checkbox', 'radio', 'button', 'submit', 'reset', 'file', 'range', 'color'].includes(target.type);
	return target.closest('[contenteditable=""], [contenteditable="true"]') !== null;
}

/** Whether a key press happens in a dialog: the page behind it is not what the keys act on. */
function inDialog(target: EventTarget | null): boolean {
	return target instanceof Element && target.closest('[role="dialog"], [role="alertdialog"]') !== null;
}

/** The shortcut a key press is, or null: a modified key, one typed into a field or pressed in a dialog, is none. */
export function shortcutOf(event: Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'altKey' | 'target' | 'defaultPrevented' | 'isComposing'>): ShortcutAction | null {
	if (event.defaultPrevented || event.isComposing || event.ctrlKey || event.metaKey || event.altKey) return null;
	if (isTyping(event.target) || inDialog(event.target)) return null;
	return SHORTCUTS.find((s) => s.key === event.key)?.action ?? null;
}

type Handlers = Partial<Record<Exclude<ShortcutAction, 'help'>, () => void>>;
let pageHandlers: Handlers = {};

/** Let the page answer some shortcuts while it is shown; returns the function that stops it. */
export function usePageShortcuts(handlers: Handlers): () => void {
	pageHandlers = handlers;
	return () => {
		if (pageHandlers === handlers) pageHandlers = {};
	};
}

/** The page's answer to `action`, if it has one. */
export function pageShortcut(action: ShortcutAction): (() => void) | undefined {
	return action === 'help' ? undefined : pageHandlers[action];
}
