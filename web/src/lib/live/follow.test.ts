import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LiveTicketEvent } from './connection.svelte';
import { fakeConnection } from './fake-event-source';
import { followTicket, followTicketList, mayChangeList, refresher } from './follow';

const TICKET_7 = '00000000-0000-7000-8000-000000000007';
const TICKET_8 = '00000000-0000-7000-8000-000000000008';

let n = 0;
function change(kind: string, ticketId = TICKET_7): LiveTicketEvent {
	const id = `e${++n}`;
	return { id, ticket_id: ticketId, ticket_number: 7, kind, actor: null, data: {}, created_at: '2026-01-01T10:00:00Z' };
}

function liveStream() {
	const { connection, latest } = fakeConnection();
	connection.open();
	latest().open();
	return { connection, send: (type: string, data: unknown) => latest().send(type, data, (data as { id?: string }).id) };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('refresher', () => {
	it('runs once for a burst, 300 ms after its first ask', async () => {
		const refresh = vi.fn();
		const soon = refresher(refresh);
		soon.schedule();
		await vi.advanceTimersByTimeAsync(200);
		soon.schedule();
		soon.schedule();
		await vi.advanceTimersByTimeAsync(99);
		expect(refresh).not.toHaveBeenCalled();
		await vi.advanceTimersByTimeAsync(1);
		expect(refresh).toHaveBeenCalledOnce();
	});

	it('is not put off for ever by a steady flow of changes', async () => {
		const refresh = vi.fn();
		const soon = refresher(refresh);
		for (let i = 0; i < 10; i++) {
			soon.schedule();
			await vi.advanceTimersByTimeAsync(100);
		}
		expect(refresh).toHaveBeenCalledTimes(3);
	});

	it('runs once more after a refresh that was asked for again while it ran', async () => {
		let finish: () => void = () => undefined;
		const refresh = vi.fn(() => new Promise<void>((resolve) => (finish = resolve)));
		const soon = refresher(refresh);
		soon.schedule();
		await vi.advanceTimersByTimeAsync(300);
		soon.schedule();
		soon.schedule();
		await vi.advanceTimersByTimeAsync(1_000);
		expect(refresh).toHaveBeenCalledOnce();
		finish();
		await vi.advanceTimersByTimeAsync(300);
		expect(refresh).toHaveBeenCalledTimes(2);
	});

	it('waits while held', async () => {
		let held = true;
		const refresh = vi.fn();
		const soon = refresher(refresh, { hold: () => held });
		soon.schedule();
		await vi.advanceTimersByTimeAsync(3_000);
		expect(refresh).not.toHaveBeenCalled();
		held = false;
		await vi.advanceTimersByTimeAsync(300);
		expect(refresh).toHaveBeenCalledOnce();
	});

	it('goes on after a refresh that failed', async () => {
		const refresh = vi.fn().mockRejectedValueOnce(new Error('offline'));
		const soon = refresher(refresh);
		soon.schedule();
		await vi.advanceTimersByTimeAsync(300);
		soon.schedule();
		await vi.advanceTimersByTimeAsync(300);
		expect(refresh).toHaveBeenCalledTimes(2);
	});

	it('runs nothing once cancelled', async () => {
		const refresh = vi.fn();
		const soon = refresher(refresh);
		soon.schedule();
		soon.cancel();
		soon.schedule();
		await vi.advanceTimersByTimeAsync(1_000);
		expect(refresh).not.toHaveBeenCalled();
	});
});

describe('mayChangeList', () => {
	const listed = [{ id: TICKET_7 }];
	it('counts any change that may move a ticket into a list', () => {
		for (const kind of ['created', 'status_changed', 'assigned', 'tags_changed', 'priority_changed', 'commented', 'a_kind_added_later']) {
			expect(mayChangeList(change(kind, TICKET_8), listed)).toBe(true);
		}
	});

	it('counts changes shown on the ticket page only when the ticket is listed', () => {
		for (const kind of ['attachment_added', 'github_link_requested', 'escalated']) {
			expect(mayChangeList(change(kind, TICKET_7), listed)).toBe(true);
			expect(mayChangeList(change(kind, TICKET_8), listed)).toBe(false);
		}
	});
});

describe('followTicketList', () => {
	it('refreshes the list quietly after a change that may touch it, once for a burst', async () => {
		const { connection, send } = liveStream();
		const refresh = vi.fn();
		const stop = followTicketList({ connection, listed: () => [{ id: TICKET_7 }], refresh });
		send('ticket', change('created', TICKET_8));
		send('ticket', change('status_changed', TICKET_8));
		send('ticket', change('attachment_added', TICKET_7));
		await vi.advanceTimersByTimeAsync(300);
		expect(refresh).toHaveBeenCalledOnce();
		send('ticket', change('attachment_added', TICKET_8));
		await vi.advanceTimersByTimeAsync(1_000);
		expect(refresh).toHaveBeenCalledOnce();
		stop();
	});

	it('refreshes after missed changes', async () => {
		const { connection, send } = liveStream();
		const refresh = vi.fn();
		const stop = followTicketList({ connection, listed: () => [], refresh });
		send('reset', {});
		await vi.advanceTimersByTimeAsync(300);
		expect(refresh).toHaveBeenCalledOnce();
		stop();
	});

	it('stops with the page', async () => {
		const { connection, send } = liveStream();
		const refresh = vi.fn();
		const stop = followTicketList({ connection, listed: () => [], refresh });
		send('ticket', change('created', TICKET_8));
		stop();
		send('ticket', change('created', TICKET_8));
		await vi.advanceTimersByTimeAsync(1_000);
		expect(refresh).not.toHaveBeenCalled();
	});
});

describe('followTicket', () => {
	it("reloads the ticket after its own changes, not other tickets'", async () => {
		const { connection, send } = liveStream();
		const reload = vi.fn();
		const presence = vi.fn();
		const stop = followTicket({ connection, ticketId: TICKET_7, reload, presence });
		send('ticket', change('commented', TICKET_8));
		await vi.advanceTimersByTimeAsync(1_000);
		expect(reload).not.toHaveBeenCalled();
		send('ticket', change('commented', TICKET_7));
		send('ticket', change('status_changed', TICKET_7));
		await vi.advanceTimersByTimeAsync(300);
		expect(reload).toHaveBeenCalledOnce();
		expect(presence).not.toHaveBeenCalled();
		stop();
	});

	it("reads presence again when it changed on this ticket", async () => {
		const { connection, send } = liveStream();
		const reload = vi.fn();
		const presence = vi.fn();
		const stop = followTicket({ connection, ticketId: TICKET_7, reload, presence });
		send('presence', { ticket_id: TICKET_8 });
		send('presence', { ticket_id: TICKET_7 });
		expect(presence).toHaveBeenCalledOnce();
		expect(reload).not.toHaveBeenCalled();
		stop();
	});

	it("reloads the ticket when its GitHub link's state changed, not another's", async () => {
		const { connection, send } = liveStream();
		const reload = vi.fn();
		const presence = vi.fn();
		const stop = followTicket({ connection, ticketId: TICKET_7, reload, presence });
		send('github', { ticket_id: TICKET_8 });
		await vi.advanceTimersByTimeAsync(1_000);
		expect(reload).not.toHaveBeenCalled();
		send('github', { ticket_id: TICKET_7 });
		await vi.advanceTimersByTimeAsync(300);
		expect(reload).toHaveBeenCalledOnce();
		expect(presence).not.toHaveBeenCalled();
		stop();
	});

	it('reads both again after missed changes', async () => {
		const { connection, send } = liveStream();
		const reload = vi.fn();
		const presence = vi.fn();
		const stop = followTicket({ connection, ticketId: TICKET_7, reload, presence });
		send('reset', {});
		await vi.advanceTimersByTimeAsync(300);
		expect(reload).toHaveBeenCalledOnce();
		expect(presence).toHaveBeenCalledOnce();
		stop();
	});
});
