import { describe, expect, it } from 'vitest';
import { createApiClient } from '$lib/api/client';
import type { TicketStatus } from '$lib/api/types';
import { CardTransitions } from './card-transitions.svelte';

const ID = '00000000-0000-7000-8000-000000000001';

/** A server whose ticket is at `version` and may move to `transitions`; counts the reads. */
function server(version: number, transitions: TicketStatus[], status = 200) {
	const reads: string[] = [];
	const fetch = async (request: Request) => {
		reads.push(new URL(request.url).pathname);
		const body = status === 200 ? { id: ID, version, transitions } : { title: 'Not Found', status, detail: 'No such ticket.', code: 'not_found' };
		return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
	};
	return { api: createApiClient({ baseUrl: 'http://td.test', fetch: fetch as unknown as typeof globalThis.fetch }), reads };
}

describe('CardTransitions', () => {
	it("knows nothing until asked, then the ticket's transitions, read once", async () => {
		const { api, reads } = server(3, ['waiting', 'resolved', 'closed']);
		const cards = new CardTransitions(api);
		expect(cards.of({ id: ID, version: 3 })).toBeNull();
		const [first, second] = await Promise.all([cards.load({ id: ID, version: 3 }), cards.load({ id: ID, version: 3 })]);
		expect(first).toEqual(['waiting', 'resolved', 'closed']);
		expect(second).toEqual(first);
		expect(cards.of({ id: ID, version: 3 })).toEqual(first);
		await cards.load({ id: ID, version: 3 });
		expect(reads).toEqual([`/api/v1/tickets/${ID}`]);
	});

	it('asks again for a new version, unless a write already told it', async () => {
		const { api, reads } = server(4, ['in_progress', 'resolved', 'closed']);
		const cards = new CardTransitions(api);
		cards.remember({ id: ID, version: 3, transitions: ['waiting', 'resolved', 'closed'] });
		expect(await cards.load({ id: ID, version: 3 })).toEqual(['waiting', 'resolved', 'closed']);
		expect(reads).toEqual([]);
		expect(await cards.load({ id: ID, version: 4 })).toEqual(['in_progress', 'resolved', 'closed']);
		expect(reads).toHaveLength(1);
	});

	it('says it does not know when the ticket cannot be read', async () => {
		const { api } = server(1, [], 404);
		const cards = new CardTransitions(api);
		expect(await cards.load({ id: ID, version: 1 })).toBeNull();
		expect(cards.of({ id: ID, version: 1 })).toBeNull();
	});
});
