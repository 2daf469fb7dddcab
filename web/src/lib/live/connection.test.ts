import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { STREAM_URL, type LiveTicketEvent } from './connection.svelte';
import { fakeConnection } from './fake-event-source';

const TICKET_7 = '00000000-0000-7000-8000-000000000007';
const TICKET_8 = '00000000-0000-7000-8000-000000000008';

function change(id: string, ticketId = TICKET_7, kind = 'commented'): LiveTicketEvent {
	return { id, ticket_id: ticketId, ticket_number: ticketId === TICKET_7 ? 7 : 8, kind, actor: null, data: {}, created_at: '2026-01-01T10:00:00Z' };
}

/** A subscriber that writes down what it heard. */
function listener(ticketId?: string) {
	const heard: string[] = [];
	return {
		heard,
		subscriber: {
			ticketId,
			onticket: (e: LiveTicketEvent) => heard.push(`ticket ${e.id}`),
			onpresence: (id: string) => heard.push(`presence ${id}`),
			ongithub: (id: string) => heard.push(`github ${id}`),
			onreset: () => heard.push('reset')
		}
	};
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('LiveConnection', () => {
	it('opens one stream, and says when it is live', () => {
		const { connection, streams } = fakeConnection();
		expect(connection.status).toBe('off');
		connection.open();
		connection.open();
		expect(streams.map((s) => s.url)).toEqual([STREAM_URL]);
		expect(connection.status).toBe('connecting');
		streams[0].open();
		expect(connection.status).toBe('live');
	});

	it("tells a ticket's changes to that ticket's subscribers and to those of every ticket", () => {
		const { connection, latest } = fakeConnection();
		const seven = listener(TICKET_7);
		const eight = listener(TICKET_8);
		const all = listener();
		connection.subscribe(seven.subscriber);
		connection.subscribe(eight.subscriber);
		connection.subscribe(all.subscriber);
		connection.open();
		latest().open();
		latest().send('ticket', change('e1'), 'e1');
		latest().send('ticket', change('e2', TICKET_8), 'e2');
		expect(seven.heard).toEqual(['ticket e1']);
		expect(eight.heard).toEqual(['ticket e2']);
		expect(all.heard).toEqual(['ticket e1', 'ticket e2']);
	});

	it('tells each event once when a reconnect replays it, and needs no reset then', () => {
		const { connection, streams } = fakeConnection();
		const all = listener();
		connection.subscribe(all.subscriber);
		connection.open();
		streams[0].open();
		streams[0].send('ticket', change('e1'), 'e1');
		streams[0].drop();
		expect(connection.status).toBe('reconnecting');
		// EventSource reconnects by itself with Last-Event-ID; the server replays from there, and more.
		streams[0].open();
		streams[0].send('ticket', change('e1'), 'e1');
		streams[0].send('ticket', change('e2'), 'e2');
		expect(connection.status).toBe('live');
		expect(streams).toHaveLength(1);
		expect(all.heard).toEqual(['ticket e1', 'ticket e2']);
	});

	it('remembers a bounded number of event ids', () => {
		const { connection, latest } = fakeConnection();
		const all = listener();
		connection.subscribe(all.subscriber);
		connection.open();
		latest().open();
		for (let i = 0; i <= 1000; i++) latest().send('ticket', change(`e${i}`), `e${i}`);
		latest().send('ticket', change('e1000'), 'e1000');
		latest().send('ticket', change('e0'), 'e0');
		expect(all.heard).toHaveLength(1002);
		expect(all.heard.at(-1)).toBe('ticket e0');
	});

	it("tells a presence change to that ticket's subscribers", () => {
		const { connection, latest } = fakeConnection();
		const seven = listener(TICKET_7);
		const eight = listener(TICKET_8);
		connection.subscribe(seven.subscriber);
		connection.subscribe(eight.subscriber);
		connection.open();
		latest().open();
		latest().send('presence', { ticket_id: TICKET_7 });
		expect(seven.heard).toEqual([`presence ${TICKET_7}`]);
		expect(eight.heard).toEqual([]);
	});

	it("tells a GitHub link change to that ticket's subscribers", () => {
		const { connection, latest } = fakeConnection();
		const seven = listener(TICKET_7);
		const eight = listener(TICKET_8);
		const all = listener();
		connection.subscribe(seven.subscriber);
		connection.subscribe(eight.subscriber);
		connection.subscribe(all.subscriber);
		connection.open();
		latest().open();
		latest().send('github', { ticket_id: TICKET_7 });
		expect(seven.heard).toEqual([`github ${TICKET_7}`]);
		expect(eight.heard).toEqual([]);
		expect(all.heard).toEqual([`github ${TICKET_7}`]);
	});

	it('tells every subscriber to read again on reset', () => {
		const { connection, latest } = fakeConnection();
		const seven = listener(TICKET_7);
		const all = listener();
		connection.subscribe(seven.subscriber);
		connection.subscribe(all.subscriber);
		connection.open();
		latest().open();
		latest().send('reset', {});
		expect(seven.heard).toEqual(['reset']);
		expect(all.heard).toEqual(['reset']);
	});

	it('ignores what it cannot read, and goes on', () => {
		const { connection, latest } = fakeConnection();
		const all = listener();
		connection.subscribe(all.subscriber);
		connection.open();
		latest().open();
		latest().send('ticket', '{not json');
		latest().send('ticket', { hello: 'world' });
		latest().send('presence', {});
		latest().send('github', '{not json');
		latest().send('ticket', change('e1'), 'e1');
		expect(all.heard).toEqual(['ticket e1']);
	});

	it('a subscriber that throws does not keep the others from hearing', () => {
		const { connection, latest } = fakeConnection();
		const all = listener();
		const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
		connection.subscribe({
			onticket: () => {
				throw new Error('broken page');
			}
		});
		connection.subscribe(all.subscriber);
		connection.open();
		latest().open();
		latest().send('ticket', change('e1'), 'e1');
		expect(all.heard).toEqual(['ticket e1']);
		expect(error).toHaveBeenCalledOnce();
	});

	it('opens a refused stream anew after a growing pause, and then tells subscribers to read again', () => {
		const { connection, streams } = fakeConnection();
		const all = listener();
		connection.subscribe(all.subscriber);
		connection.open();
		streams[0].open();
		streams[0].refuse();
		expect(connection.status).toBe('reconnecting');
		vi.advanceTimersByTime(2_999);
		expect(streams).toHaveLength(1);
		vi.advanceTimersByTime(1);
		expect(streams).toHaveLength(2);
		streams[1].refuse();
		vi.advanceTimersByTime(3_000);
		expect(streams).toHaveLength(2);
		vi.advanceTimersByTime(3_000);
		expect(streams).toHaveLength(3);
		expect(all.heard).toEqual([]);
		streams[2].open();
		expect(connection.status).toBe('live');
		// A new stream replays nothing: what changed meanwhile is read again.
		expect(all.heard).toEqual(['reset']);
		streams[2].refuse();
		vi.advanceTimersByTime(3_000);
		expect(streams).toHaveLength(4);
	});

	it('stops for good on close, and hears nothing more', () => {
		const { connection, streams } = fakeConnection();
		const all = listener();
		connection.subscribe(all.subscriber);
		connection.open();
		streams[0].open();
		streams[0].refuse();
		connection.close();
		expect(connection.status).toBe('off');
		vi.advanceTimersByTime(120_000);
		expect(streams).toHaveLength(1);
		connection.open();
		expect(streams).toHaveLength(2);
		connection.close();
		expect(streams[1].readyState).toBe(2);
		streams[1].send('ticket', change('e1'), 'e1');
		expect(all.heard).toEqual([]);
	});

	it('stops telling a subscriber that unsubscribed', () => {
		const { connection, latest } = fakeConnection();
		const all = listener();
		const unsubscribe = connection.subscribe(all.subscriber);
		connection.open();
		latest().open();
		latest().send('ticket', change('e1'), 'e1');
		unsubscribe();
		latest().send('ticket', change('e2'), 'e2');
		expect(all.heard).toEqual(['ticket e1']);
	});
});
