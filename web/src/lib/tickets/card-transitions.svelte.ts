/**
 * Where each board card may move: the statuses its ticket's detail lists (`transitions`),
 * which lists do not carry. Read when a card is first picked up, focused or opened, and
 * kept per version of the ticket, so a moved card is asked again.
 */
import { api as defaultApi, type ApiClient } from '$lib/api/client';
import type { TicketStatus } from '$lib/api/types';

type Versioned = { id: string; version: number };

const key = (ticket: Versioned) => `${ticket.id}@${ticket.version}`;

export class CardTransitions {
	#known = $state<Record<string, TicketStatus[]>>({});
	#pending = new Map<string, Promise<TicketStatus[] | null>>();
	readonly #api: ApiClient;

	constructor(api: ApiClient = defaultApi) {
		this.#api = api;
	}

	/** The statuses this version of the ticket may move to, or null until they are known. */
	of(ticket: Versioned): TicketStatus[] | null {
		return this.#known[key(ticket)] ?? null;
	}

	/** Keep what a detail the page already has says (a write answers with the new version). */
	remember(ticket: Versioned & { transitions: TicketStatus[] }): void {
		this.#known[key(ticket)] = ticket.transitions;
	}

	/** Read them once per version; null when the ticket could not be read. */
	load(ticket: Versioned): Promise<TicketStatus[] | null> {
		const known = this.of(ticket);
		if (known) return Promise.resolve(known);
		const k = key(ticket);
		let pending = this.#pending.get(k);
		if (!pending) {
			pending = this.#api
				.GET('/api/v1/tickets/{id}', { params: { path: { id: ticket.id } } })
				.then(({ data }) => {
					// The ticket may have changed since the board was loaded; its newer
					// transitions are what the server will judge a move by.
					if (!data) return null;
					this.remember(data);
					if (data.version !== ticket.version) this.#known[k] = data.transitions;
					return data.transitions;
				})
				.catch(() => null)
				.finally(() => this.#pending.delete(k));
			this.#pending.set(k, pending);
		}
		return pending;
	}
}
