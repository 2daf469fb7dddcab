import { describe, expect, it } from 'vitest';
import { adjacentStatus, keyboardMove, moveCard, nextAllowedStatus, placeCard, undoMove, type BoardCard, type Columns } from './kanban';

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

	it('puts back only the card whose move failed, where it stood, keeping the moves of others', () => {
		const cols: Columns<BoardCard> = { ...columns(), open: [card('a', 'open'), card('d', 'open'), card('e', 'open')] };
		const failed = moveCard(cols, 'd', 'in_progress');
		if (!failed) throw new Error('d should move');
		// Meanwhile another card moved and its move succeeded.
		const other = moveCard(failed.columns, 'c', 'closed');
		if (!other) throw new Error('c should move');
		const back = placeCard(other.columns, card('d', 'open'), failed.index);
		expect(back.open.map((c) => c.id)).toEqual(['a', 'd', 'e']);
		expect(back.in_progress.map((c) => c.id)).toEqual(['b']);
		expect(back.resolved).toEqual([]);
		expect(back.closed.map((c) => c.id)).toEqual(['c']);
	});

	it('puts a card back after a failed move only while the board still shows it where it was moved', () => {
		const moved = moveCard(columns(), 'a', 'in_progress');
		if (!moved) throw new Error('a should move');
		const back = undoMove(moved.columns, card('a', 'open'), 'in_progress', moved.index);
		expect(back?.open.map((c) => c.id)).toEqual(['a']);
		expect(back?.in_progress.map((c) => c.id)).toEqual(['b']);
		// The board was loaded again meanwhile and shows the card where the server has it.
		const reloaded: Columns<BoardCard> = { ...columns(), open: [], resolved: [card('a', 'resolved'), card('c', 'resolved')] };
		expect(undoMove(reloaded, card('a', 'open'), 'in_progress', moved.index)).toBeNull();
	});

	it('shows a saved move in place, even when a reload meanwhile showed the card in its old column', () => {
		const saved = { id: 'a', status: 'in_progress' as const };
		const placed = placeCard(columns(), saved);
		expect(placed.open).toEqual([]);
		expect(placed.in_progress).toEqual([saved, card('b', 'in_progress')]);
		const updated = { id: 'b', status: 'in_progress' as const };
		expect(placeCard(columns(), updated).in_progress[0]).toBe(updated);
	});

	it('leaves the board alone for a card it no longer shows', () => {
		const cols = columns();
		expect(placeCard(cols, card('z', 'open'))).toBe(cols);
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
