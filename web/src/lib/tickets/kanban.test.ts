import { describe, expect, it } from 'vitest';
import { adjacentStatus, groupByStatus, keyboardMove, moveCard, nextAllowedStatus } from './kanban';

const cards = [
	{ id: 'a', status: 'open' as const },
	{ id: 'b', status: 'in_progress' as const },
	{ id: 'c', status: 'resolved' as const }
];

describe('kanban', () => {
	it('groups cards into every status column', () => {
		const cols = groupByStatus(cards);
		expect(Object.keys(cols)).toEqual(['open', 'in_progress', 'waiting', 'resolved', 'closed']);
		expect(cols.open.map((c) => c.id)).toEqual(['a']);
		expect(cols.waiting).toEqual([]);
	});

	it('finds neighbouring columns', () => {
		expect(adjacentStatus('open', -1)).toBeNull();
		expect(adjacentStatus('open', 1)).toBe('in_progress');
		expect(adjacentStatus('closed', 1)).toBeNull();
	});

	it('skips columns the status flow forbids when moving by keyboard', () => {
		expect(nextAllowedStatus('open', 1, 'agent')).toBe('in_progress');
		expect(nextAllowedStatus('in_progress', 1, 'agent')).toBe('waiting');
		expect(nextAllowedStatus('waiting', -1, 'agent')).toBe('in_progress');
		expect(nextAllowedStatus('resolved', -1, 'agent')).toBe('open');
		expect(nextAllowedStatus('in_progress', -1, 'agent')).toBeNull();
		expect(nextAllowedStatus('closed', -1, 'admin')).toBe('open');
		expect(nextAllowedStatus('open', 1, 'user')).toBeNull();
	});

	it('moves a card to the top of its new column', () => {
		const cols = groupByStatus(cards);
		const result = moveCard(cols, 'a', 'in_progress', 'agent');
		expect(result?.from).toBe('open');
		expect(result?.columns.open).toEqual([]);
		expect(result?.columns.in_progress.map((c) => c.id)).toEqual(['a', 'b']);
		expect(result?.card.status).toBe('in_progress');
		expect(cols.open).toHaveLength(1); // the input is not mutated
	});

	it('refuses illegal or pointless moves', () => {
		const cols = groupByStatus(cards);
		expect(moveCard(cols, 'a', 'resolved', 'agent')).toBeNull();
		expect(moveCard(cols, 'a', 'open', 'agent')).toBeNull();
		expect(moveCard(cols, 'missing', 'closed', 'agent')).toBeNull();
		expect(moveCard(cols, 'b', 'closed', 'user')).toBeNull();
		expect(moveCard(cols, 'c', 'closed', 'user')).not.toBeNull();
	});

	it('maps keys to moves and focus changes', () => {
		const k = (key: string, shiftKey = false) => keyboardMove({ key, shiftKey, altKey: false, ctrlKey: false, metaKey: false });
		expect(k('ArrowRight', true)).toEqual({ kind: 'move', direction: 1 });
		expect(k('ArrowLeft', true)).toEqual({ kind: 'move', direction: -1 });
		expect(k('ArrowDown')).toEqual({ kind: 'focus', axis: 'row', direction: 1 });
		expect(k('ArrowLeft')).toEqual({ kind: 'focus', axis: 'column', direction: -1 });
		expect(k('ArrowUp', true)).toBeNull();
		expect(k('a')).toBeNull();
		expect(keyboardMove({ key: 'ArrowRight', shiftKey: true, altKey: false, ctrlKey: true, metaKey: false })).toBeNull();
	});
});
