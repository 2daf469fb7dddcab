import { describe, expect, it } from 'vitest';
import { adjacentStatus, keyboardMove, moveCard, nextAllowedStatus, type BoardCard, type Columns } from './kanban';

const card = (id: string, status: BoardCard['status']): BoardCard => ({ id, status });
const columns = (): Columns<BoardCard> => ({
	open: [card('a', 'open')],
	in_progress: [card('b', 'in_progress')],
	waiting: [],
	resolved: [card('c', 'resolved')],
	closed: []
});

describe('kanban', () => {
	it('finds neighbouring columns', () => {
		expect(adjacentStatus('open', -1)).toBeNull();
		expect(adjacentStatus('open', 1)).toBe('in_progress');
		expect(adjacentStatus('closed', 1)).toBeNull();
	});

	it('moves by keyboard to the nearest column the ticket may go to, skipping the others', () => {
		expect(nextAllowedStatus('open', 1, ['in_progress', 'closed'])).toBe('in_progress');
		expect(nextAllowedStatus('open', 1, ['resolved', 'closed'])).toBe('resolved');
		expect(nextAllowedStatus('waiting', -1, ['in_progress', 'resolved', 'closed'])).toBe('in_progress');
		expect(nextAllowedStatus('resolved', -1, ['open', 'closed'])).toBe('open');
		expect(nextAllowedStatus('in_progress', -1, ['waiting', 'resolved', 'closed'])).toBeNull();
		expect(nextAllowedStatus('open', 1, [])).toBeNull();
	});

	it('moves a card to the top of its new column', () => {
		const cols = columns();
		const result = moveCard(cols, 'a', 'in_progress');
		expect(result?.from).toBe('open');
		expect(result?.columns.open).toEqual([]);
		expect(result?.columns.in_progress.map((c) => c.id)).toEqual(['a', 'b']);
		expect(result?.card.status).toBe('in_progress');
		expect(cols.open).toHaveLength(1); // the input is not mutated
	});

	it('does not move a card to its own column, or one that is not on the board', () => {
		const cols = columns();
		expect(moveCard(cols, 'a', 'open')).toBeNull();
		expect(moveCard(cols, 'missing', 'closed')).toBeNull();
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
