import { describe, expect, it } from 'vitest';
import { isTyping, pageShortcut, shortcutOf, usePageShortcuts } from './shortcuts';

function press(key: string, target: EventTarget | null = document.body, extra: Partial<KeyboardEvent> = {}) {
	return shortcutOf({ key, target, ctrlKey: false, metaKey: false, altKey: false, defaultPrevented: false, isComposing: false, ...extra });
}

describe('shortcuts', () => {
	it('reads the agent keys', () => {
		expect(press('/')).toBe('search');
		expect(press('j')).toBe('next');
		expect(press('k')).toBe('previous');
		expect(press('a')).toBe('assign');
		expect(press('r')).toBe('reply');
		expect(press('?')).toBe('help');
		expect(press('x')).toBeNull();
	});

	it('never fires while typing or with a modifier', () => {
		const input = document.createElement('input');
		const textarea = document.createElement('textarea');
		const select = document.createElement('select');
		const editable = document.createElement('div');
		editable.setAttribute('contenteditable', 'true');
		const checkbox = document.createElement('input');
		checkbox.type = 'checkbox';
		for (const field of [input, textarea, select, editable]) expect(press('j', field)).toBeNull();
		expect(isTyping(checkbox)).toBe(false);
		expect(press('j', checkbox)).toBe('next');
		expect(press('r', document.body, { ctrlKey: true })).toBeNull();
		expect(press('a', document.body, { defaultPrevented: true })).toBeNull();
	});

	it('never fires in a dialog, over the page it covers', () => {
		const dialog = document.createElement('div');
		dialog.setAttribute('role', 'alertdialog');
		const button = document.createElement('button');
		dialog.append(button);
		expect(press('r', button)).toBeNull();
		expect(press('r', dialog)).toBeNull();
	});

	it('lets the page shown answer, until it goes', () => {
		let moved = 0;
		const stop = usePageShortcuts({ next: () => moved++ });
		pageShortcut('next')?.();
		stop();
		expect(moved).toBe(1);
		expect(pageShortcut('next')).toBeUndefined();
	});
});
