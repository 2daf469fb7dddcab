/** What pages do with the live connection: read again, quietly and not too often, what a change touches. */
import { live as defaultLive, type LiveConnection, type LiveTicketEvent } from './connection.svelte';

export const REFRESH_DELAY_MS = 300;

export interface Refresher {
	/** Ask for a refresh: it runs `delay` ms after the first ask of a burst. */
	schedule(): void;
	/** Stop: nothing scheduled runs any more. */
	cancel(): void;
}

/**
 * Run `refresh` once for a burst of asks: `delay` ms after the first one (not after the last,
 * which a steady flow of changes would put off for ever); asks while it runs make it run once
 * more after it. While `hold()` is true (a drag on the board), the refresh waits.
 */
export function refresher(refresh: () => unknown, { delay = REFRESH_DELAY_MS, hold = () => false }: { delay?: number; hold?: () => boolean } = {}): Refresher {
	let timer: ReturnType<typeof setTimeout> | undefined;
	let running = false;
	let again = false;
	let cancelled = false;

	async function run() {
		timer = undefined;
		if (cancelled) return;
		if (hold()) {
			timer = setTimeout(run, delay);
			return;
		}
		running = true;
		try {
			await refresh();
		} catch {
			// The page shows a failed refresh itself (its list's refreshError); the next change tries again.
		} finally {
			running = false;
		}
		if (again) {
			again = false;
			schedule();
		}
	}

	function schedule() {
		if (cancelled) return;
		if (running) again = true;
		else timer ??= setTimeout(run, delay);
	}

	return {
		schedule,
		cancel() {
			cancelled = true;
			clearTimeout(timer);
		}
	};
}

// Changes that show on the ticket page only: they neither move a ticket into or out of a list
// nor change what its row says, unless the ticket is listed (its "updated" time moves).
const DETAIL_ONLY_KINDS = new Set(['attachment_added', 'attachment_deleted', 'github_link_requested', 'github_issue_renamed', 'escalated']);

/** Whether `event` may change a list of tickets showing `listed`: a new ticket, a change to one
 * listed, or a change that may bring another one in (its status, assignee, labels, a reply…). */
export function mayChangeList(event: Pick<LiveTicketEvent, 'kind' | 'ticket_id'>, listed: Iterable<{ id: string }>): boolean {
	if (!DETAIL_ONLY_KINDS.has(event.kind)) return true;
	for (const ticket of listed) if (ticket.id === event.ticket_id) return true;
	return false;
}

/**
 * Keep a list of tickets current: `refresh` (a quiet reload that keeps scroll and selection) runs
 * when a change may touch the list, and when the connection says changes were missed.
 * Returns the function that stops it (an effect's or onMount's teardown).
 */
export function followTicketList({
	listed,
	refresh,
	hold,
	connection = defaultLive,
	delay
}: {
	/** The tickets shown now. */
	listed: () => Iterable<{ id: string }>;
	refresh: () => unknown;
	hold?: () => boolean;
	connection?: LiveConnection;
	delay?: number;
}): () => void {
	const soon = refresher(refresh, { delay, hold });
	const unsubscribe = connection.subscribe({
		onticket: (event) => {
			if (mayChangeList(event, listed())) soon.schedule();
		},
		onreset: soon.schedule
	});
	return () => {
		unsubscribe();
		soon.cancel();
	};
}

/**
 * Keep one ticket's page current: `reload` runs after changes to it (its GitHub link's state
 * too) or missed changes, and
 * `presence` when someone's presence on it changed (or may have). Returns the function that stops it.
 */
export function followTicket({
	ticketId,
	reload,
	presence,
	connection = defaultLive,
	delay
}: {
	ticketId: string;
	reload: () => unknown;
	presence?: () => unknown;
	connection?: LiveConnection;
	delay?: number;
}): () => void {
	const soon = refresher(reload, { delay });
	const unsubscribe = connection.subscribe({
		ticketId,
		onticket: soon.schedule,
		ongithub: soon.schedule,
		onpresence: () => void presence?.(),
		onreset: () => {
			soon.schedule();
			void presence?.();
		}
	});
	return () => {
		unsubscribe();
		soon.cancel();
	};
}
