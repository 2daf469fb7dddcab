/** An EventSource for tests: the test plays the server (opens, sends, drops or refuses the stream). */
import { LiveConnection, type EventSourceLike } from './connection.svelte';

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;

export class FakeEventSource implements EventSourceLike {
	readyState = CONNECTING;
	readonly #listeners = new Map<string, ((event: MessageEvent<string>) => void)[]>();

	constructor(readonly url: string) {}

	addEventListener(type: string, listener: (event: MessageEvent<string>) => void): void {
		this.#listeners.set(type, [...(this.#listeners.get(type) ?? []), listener]);
	}

	close(): void {
		this.readyState = CLOSED;
	}

	/** The server answered with a stream. */
	open(): void {
		this.readyState = OPEN;
		this.#dispatch('open', new MessageEvent('open'));
	}

	/** One `event: type` with `data: JSON` (and `id:` when given). */
	send(type: string, data: unknown, id = ''): void {
		this.#dispatch(type, new MessageEvent(type, { data: typeof data === 'string' ? data : JSON.stringify(data), lastEventId: id }));
	}

	/** The connection dropped; EventSource will connect again by itself. */
	drop(): void {
		this.readyState = CONNECTING;
		this.#dispatch('error', new MessageEvent('error'));
	}

	/** The server answered with an error instead of a stream; EventSource gives up. */
	refuse(): void {
		this.readyState = CLOSED;
		this.#dispatch('error', new MessageEvent('error'));
	}

	#dispatch(type: string, event: MessageEvent<string>): void {
		if (this.readyState === CLOSED && type !== 'error') return;
		for (const listener of this.#listeners.get(type) ?? []) listener(event);
	}
}

/** A connection whose streams are fake; `streams` lists them in the order they were opened. */
export function fakeConnection() {
	const streams: FakeEventSource[] = [];
	const connection = new LiveConnection({
		create: (url) => {
			const stream = new FakeEventSource(url);
			streams.push(stream);
			return stream;
		}
	});
	return { connection, streams, latest: () => streams[streams.length - 1] };
}
