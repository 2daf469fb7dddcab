/**
 * The signed-in app's one live connection: `GET /api/v1/events/stream` (server-sent events),
 * opened by the (app) layout and closed when the person signs out. Pages subscribe to ticket
 * changes (one ticket's, or every ticket's), to presence changes and to GitHub link changes, and hear `reset` when
 * they may have missed some: then they read again everything they show.
 *
 * EventSource reconnects by itself and sends Last-Event-ID, so the server replays what was
 * missed (replay may repeat events: they are told once, by event id). A stream that fails for
 * good (the server answered with an error, not a stream) is opened anew here after a growing
 * pause; a new stream replays nothing, so its subscribers are told to reset.
 */
import type { TicketEvent } from '$lib/api/types';

export const STREAM_URL = '/api/v1/events/stream';

/** A change to a ticket, as the stream tells it: the timeline event and the ticket's number. */
export type LiveTicketEvent = TicketEvent & { ticket_number: number };

/** `off`: not signed in; `reconnecting`: the stream dropped and changes wait until it is back. */
export type LiveStatus = 'off' | 'connecting' | 'live' | 'reconnecting';

export interface LiveSubscriber {
	/** Hear only about this ticket (its UUID); about every ticket the person may see when absent. */
	ticketId?: string;
	onticket?: (event: LiveTicketEvent) => void;
	/** Someone's presence on the ticket changed (staff only). */
	onpresence?: (ticketId: string) => void;
	/** The state of the ticket's GitHub link changed (staff only). */
	ongithub?: (ticketId: string) => void;
	/** Changes may have been missed: read again what is shown. */
	onreset?: () => void;
}

/** The part of EventSource used here (a fake one in tests). */
export interface EventSourceLike {
	readonly readyState: number;
	addEventListener(type: string, listener: (event: MessageEvent<string>) => void): void;
	close(): void;
}

const EVENT_SOURCE_CLOSED = 2;
// Enough to recognise a replay after any reconnect the server answers with a replay, not a reset.
const REMEMBERED_IDS = 1000;
const RETRY_FIRST_MS = 3_000;
const RETRY_LONGEST_MS = 60_000;

function parse(data: string): unknown {
	try {
		return JSON.parse(data);
	} catch {
		return null;
	}
}

function isTicketEvent(value: unknown): value is LiveTicketEvent {
	const v = value as Partial<LiveTicketEvent> | null;
	return typeof v?.id === 'string' && typeof v.ticket_id === 'string' && typeof v.kind === 'string';
}

/** The ticket a `presence` or `github` notice is about. */
function ticketIdOf(data: string): string | undefined {
	const ticketId = (parse(data) as { ticket_id?: unknown } | null)?.ticket_id;
	return typeof ticketId === 'string' ? ticketId : undefined;
}

export class LiveConnection {
	status = $state<LiveStatus>('off');

	readonly #url: string;
	readonly #create: (url: string) => EventSourceLike;
	#source: EventSourceLike | null = null;
	#subscribers = new Set<LiveSubscriber>();
	// Ids of the events told lately, oldest first (a Set keeps insertion order).
	#told = new Set<string>();
	// A stream was dropped since `open`: the next one starts from now, and what came between is lost.
	#dropped = false;
	#retryTimer: ReturnType<typeof setTimeout> | undefined;
	#retryDelay = RETRY_FIRST_MS;

	constructor({ url = STREAM_URL, create = (u: string) => new EventSource(u) }: { url?: string; create?: (url: string) => EventSourceLike } = {}) {
		this.#url = url;
		this.#create = create;
	}

	/** Connect (again: nothing happens while connected). */
	open(): void {
		if (this.#source || this.#retryTimer !== undefined) return;
		this.#connect();
	}

	/** Disconnect, for good until `open` (signing out). */
	close(): void {
		clearTimeout(this.#retryTimer);
		this.#retryTimer = undefined;
		this.#source?.close();
		this.#source = null;
		this.#told.clear();
		this.#dropped = false;
		this.#retryDelay = RETRY_FIRST_MS;
		this.status = 'off';
	}

	/** Hear about changes until the returned function is called. */
	subscribe(subscriber: LiveSubscriber): () => void {
		// A copy: the same handlers may subscribe twice, and each unsubscribes its own.
		const entry = { ...subscriber };
		this.#subscribers.add(entry);
		return () => void this.#subscribers.delete(entry);
	}

	#connect(): void {
		this.#retryTimer = undefined;
		this.status = this.#dropped ? 'reconnecting' : 'connecting';
		const source = this.#create(this.#url);
		this.#source = source;
		const current = () => this.#source === source;

		source.addEventListener('open', () => {
			if (!current()) return;
			this.status = 'live';
			this.#retryDelay = RETRY_FIRST_MS;
			if (this.#dropped) {
				this.#dropped = false;
				this.#tell((s) => s.onreset?.());
			}
		});
		source.addEventListener('error', () => {
			if (!current()) return;
			this.status = 'reconnecting';
			if (source.readyState !== EVENT_SOURCE_CLOSED) return; // EventSource tries again itself.
			source.close();
			this.#source = null;
			this.#dropped = true;
			this.#retryTimer = setTimeout(() => this.#connect(), this.#retryDelay);
			this.#retryDelay = Math.min(this.#retryDelay * 2, RETRY_LONGEST_MS);
		});
		source.addEventListener('ticket', (message) => {
			if (!current()) return;
			const event = parse(message.data);
			if (!isTicketEvent(event) || this.#told.has(event.id)) return;
			this.#remember(event.id);
			this.#tell((s) => s.onticket?.(event), event.ticket_id);
		});
		source.addEventListener('presence', (message) => {
			if (!current()) return;
			const ticketId = ticketIdOf(message.data);
			if (ticketId) this.#tell((s) => s.onpresence?.(ticketId), ticketId);
		});
		source.addEventListener('github', (message) => {
			if (!current()) return;
			const ticketId = ticketIdOf(message.data);
			if (ticketId) this.#tell((s) => s.ongithub?.(ticketId), ticketId);
		});
		source.addEventListener('reset', () => {
			if (current()) this.#tell((s) => s.onreset?.());
		});
	}

	#remember(id: string): void {
		this.#told.add(id);
		if (this.#told.size > REMEMBERED_IDS) this.#told.delete(this.#told.values().next().value as string);
	}

	/** Call `handler` for every subscriber to `ticketId` (all of them without one); one failing does not stop the others. */
	#tell(handler: (subscriber: LiveSubscriber) => void, ticketId?: string): void {
		for (const subscriber of [...this.#subscribers]) {
			if (ticketId && subscriber.ticketId && subscriber.ticketId !== ticketId) continue;
			try {
				handler(subscriber);
			} catch (e) {
				console.error(e);
			}
		}
	}
}

/** The app's connection. */
export const live = new LiveConnection();
