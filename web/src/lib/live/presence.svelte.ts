/**
 * Presence on the ticket page (staff only), so two agents don't answer the same ticket: say that
 * this person is here — viewing, or replying while the reply box has a draft or focus — and show
 * who else is. The server forgets a presence 45 s after its last renewal; it is renewed every
 * 20 s while the page is visible (not while hidden: then it lapses), and dropped at once on
 * leaving the ticket or the page.
 */
import { api, currentCsrfToken } from '$lib/api/client';
import type { PresenceEntry, PresenceState } from '$lib/api/types';

type PresenceClient = typeof api;

export const RENEW_MS = 20_000;
const PATH = '/api/v1/tickets/{id}/presence';
// Beyond this many names, the rest are counted ("Ana, Bo and 3 others").
const NAMES_SHOWN = 2;

function names(list: string[]): string {
	if (list.length <= 1) return list[0] ?? '';
	if (list.length === 2) return `${list[0]} and ${list[1]}`;
	if (list.length === 3) return `${list[0]}, ${list[1]} and ${list[2]}`;
	return `${list.slice(0, NAMES_SHOWN).join(', ')} and ${list.length - NAMES_SHOWN} others`;
}

/**
 * "Ana is replying; Bo and Cy are viewing" — replying first, names in order, each person once
 * (replying if in two tabs at once), so the words change only when who is there does.
 */
export function describePresence(others: readonly PresenceEntry[]): string {
	const byUser = new Map<string, PresenceEntry>();
	for (const entry of others) {
		if (byUser.get(entry.user.id)?.state !== 'replying') byUser.set(entry.user.id, entry);
	}
	const phrase = (state: PresenceState) => {
		const list = [...byUser.values()]
			.filter((e) => e.state === state)
			.map((e) => e.user.name)
			.sort((a, b) => a.localeCompare(b));
		return list.length ? `${names(list)} ${list.length === 1 ? 'is' : 'are'} ${state}` : null;
	};
	return [phrase('replying'), phrase('viewing')].filter(Boolean).join('; ');
}

export class TicketPresence {
	/** The other staff on the ticket. */
	others = $state<PresenceEntry[]>([]);

	readonly #client: PresenceClient;
	readonly #renewMs: number;
	#ticketId: string | null = null;
	#state: PresenceState = 'viewing';
	#timer: ReturnType<typeof setTimeout> | undefined;
	// Every request takes a number: an answer older than the one shown, or sent before leaving, is dropped.
	#sent = 0;
	#shown = 0;

	constructor({ client = api, renewMs = RENEW_MS }: { client?: PresenceClient; renewMs?: number } = {}) {
		this.#client = client;
		this.#renewMs = renewMs;
	}

	/** Be on the ticket `ticketId` (its UUID) until `leave`: viewing, or replying if so told already. */
	enter(ticketId: string): void {
		if (ticketId === this.#ticketId) return;
		this.leave();
		this.#ticketId = ticketId;
		document.addEventListener('visibilitychange', this.#onVisibilityChange);
		window.addEventListener('pagehide', this.#onPageHide);
		this.#announce();
	}

	/** Whether the person is writing a reply (a draft in the reply box, or the box focused). */
	setReplying(replying: boolean): void {
		const state: PresenceState = replying ? 'replying' : 'viewing';
		if (state === this.#state) return;
		this.#state = state;
		this.#announce();
	}

	/** Read again who else is on the ticket (the stream said it changed). */
	async refresh(): Promise<void> {
		const id = this.#ticketId;
		if (id) await this.#ask(id, () => this.#client.GET(PATH, { params: { path: { id } } }));
	}

	/** Leave the ticket: the others see it at once rather than when the presence lapses. */
	leave(): void {
		const id = this.#ticketId;
		if (!id) return;
		this.#ticketId = null;
		clearTimeout(this.#timer);
		document.removeEventListener('visibilitychange', this.#onVisibilityChange);
		window.removeEventListener('pagehide', this.#onPageHide);
		this.#shown = this.#sent;
		this.others = [];
		this.#sendLeave(id);
	}

	/** Say where this person is and what they do, and renew it while the page is visible. */
	#announce(): void {
		clearTimeout(this.#timer);
		const id = this.#ticketId;
		if (!id || document.visibilityState !== 'visible') return;
		const state = this.#state;
		void this.#ask(id, () => this.#client.PUT(PATH, { params: { path: { id } }, body: { state } }));
		this.#timer = setTimeout(() => this.#announce(), this.#renewMs);
	}

	async #ask(id: string, send: () => Promise<{ data?: { others: PresenceEntry[] } }>): Promise<void> {
		const n = ++this.#sent;
		try {
			const { data } = await send();
			if (data && n > this.#shown && id === this.#ticketId) {
				this.#shown = n;
				this.others = data.others;
			}
		} catch {
			// Presence is a hint: a renewal that failed is made again at the next one.
		}
	}

	#sendLeave(id: string): void {
		// Signed out already (the page goes because of it): the presence lapses by itself.
		if (currentCsrfToken() === null) return;
		// keepalive: the request outlives the page when the tab is being closed.
		this.#client.DELETE(PATH, { params: { path: { id } }, keepalive: true }).catch(() => undefined);
	}

	#onVisibilityChange = () => this.#announce();

	// The tab is closing (or going into the back/forward cache, and then `visibilitychange` says it is back).
	#onPageHide = () => {
		clearTimeout(this.#timer);
		if (this.#ticketId) this.#sendLeave(this.#ticketId);
	};
}
