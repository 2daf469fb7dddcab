/**
 * Kanban board state: columns by status, and moving a card by drag or by keyboard. Which
 * columns a card may move to is the server's word (its ticket's `transitions`).
 */
import type { TicketStatus } from '$lib/api/types';
import { STATUSES } from './meta';

export interface BoardCard {
	id: string;
	status: TicketStatus;
}

export type Columns<T extends BoardCard> = Record<TicketStatus, T[]>;

/** The column to the left (-1) or right (+1) of `status`, or null at the board's edge. */
export function adjacentStatus(status: TicketStatus, direction: -1 | 1): TicketStatus | null {
	const index = STATUSES.indexOf(status) + direction;
	return index >= 0 && index < STATUSES.length ? STATUSES[index] : null;
}

/**
 * The nearest column in `direction` that this card may move to, skipping the others (so
 * ArrowRight on an open card jumps straight to the first allowed one).
 */
export function nextAllowedStatus(status: TicketStatus, direction: -1 | 1, transitions: readonly TicketStatus[]): TicketStatus | null {
	let candidate = adjacentStatus(status, direction);
	while (candidate) {
		if (transitions.includes(candidate)) return candidate;
		candidate = adjacentStatus(candidate, direction);
	}
	return null;
}

export interface MoveResult<T extends BoardCard> {
	columns: Columns<T>;
	card: T;
	from: TicketStatus;
	/** Where the card stood in its old column. */
	index: number;
	to: TicketStatus;
}

/** Move a card to the top of another column, returning new columns; null when it is already there. */
export function moveCard<T extends BoardCard>(columns: Columns<T>, cardId: string, to: TicketStatus): MoveResult<T> | null {
	for (const from of STATUSES) {
		const index = columns[from].findIndex((c) => c.id === cardId);
		if (index < 0) continue;
		if (from === to) return null;
		const moved = { ...columns[from][index], status: to };
		const next = { ...columns, [from]: columns[from].filter((c) => c.id !== cardId), [to]: [moved, ...columns[to]] };
		return { columns: next, card: moved, from, index, to };
	}
	return null;
}

/**
 * Show `card` as it is now in the column of its status: in its place when it is there
 * already, else at `index` (the top by default), and in no other column. Columns that no
 * longer show the card (the board was loaded again meanwhile) are returned as they are, so
 * settling one card's move never undoes what happened to the others.
 */
export function placeCard<T extends BoardCard>(columns: Columns<T>, card: T, index = 0): Columns<T> {
	if (!STATUSES.some((s) => columns[s].some((c) => c.id === card.id))) return columns;
	const next = { ...columns };
	for (const s of STATUSES) {
		if (s !== card.status) next[s] = columns[s].filter((c) => c.id !== card.id);
	}
	const column = columns[card.status];
	next[card.status] = column.some((c) => c.id === card.id) ? column.map((c) => (c.id === card.id ? card : c)) : [...column.slice(0, index), card, ...column.slice(index)];
	return next;
}

/**
 * Put back a card whose move to `movedTo` failed (`card` as it was before the move, at the
 * `index` it stood in). Only while the board still shows it in `movedTo`: a board loaded
 * again meanwhile shows where the server has it, which is fresher than where it stood.
 */
export function undoMove<T extends BoardCard>(columns: Columns<T>, card: T, movedTo: TicketStatus, index: number): Columns<T> | null {
	return columns[movedTo].some((c) => c.id === card.id) ? placeCard(columns, card, index) : null;
}

/** Key → action for a focused card: Shift+Arrow moves it; plain arrows move focus. */
export function keyboardMove(
	event: Pick<KeyboardEvent, 'key' | 'shiftKey' | 'altKey' | 'ctrlKey' | 'metaKey'>
): { kind: 'move'; direction: -1 | 1 } | { kind: 'focus'; axis: 'column' | 'row'; direction: -1 | 1 } | null {
	if (event.altKey || event.ctrlKey || event.metaKey) return null;
	const dir = (k: string): -1 | 1 | null => (k === 'ArrowLeft' || k === 'ArrowUp' ? -1 : k === 'ArrowRight' || k === 'ArrowDown' ? 1 : null);
	const direction = dir(event.key);
	if (direction === null) return null;
	const horizontal = event.key === 'ArrowLeft' || event.key === 'ArrowRight';
	if (event.shiftKey) return horizontal ? { kind: 'move', direction } : null;
	return { kind: 'focus', axis: horizontal ? 'column' : 'row', direction };
}
