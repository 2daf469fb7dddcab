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
	to: TicketStatus;
}

/** Move a card to the top of another column, returning new columns; null when it is already there. */
export function moveCard<T extends BoardCard>(columns: Columns<T>, cardId: string, to: TicketStatus): MoveResult<T> | null {
	for (const from of STATUSES) {
		const card = columns[from].find((c) => c.id === cardId);
		if (!card) continue;
		if (from === to) return null;
		const moved = { ...card, status: to };
		const next = { ...columns, [from]: columns[from].filter((c) => c.id !== cardId), [to]: [moved, ...columns[to]] };
		return { columns: next, card: moved, from, to };
	}
	return null;
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
