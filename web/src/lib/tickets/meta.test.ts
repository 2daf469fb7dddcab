import { describe, expect, it } from 'vitest';
import { allowedTransitions, canTransition } from './meta';

describe('status flow (SPEC §2)', () => {
	it('lets submitters only accept or reopen', () => {
		expect(allowedTransitions('open', 'user')).toEqual([]);
		expect(allowedTransitions('resolved', 'user')).toEqual(['closed', 'open']);
		expect(allowedTransitions('closed', 'user')).toEqual(['open']);
	});

	it('lets staff follow the flow and close anything', () => {
		expect(canTransition('open', 'in_progress', 'agent')).toBe(true);
		expect(canTransition('waiting', 'in_progress', 'agent')).toBe(true);
		expect(canTransition('open', 'resolved', 'agent')).toBe(false);
		for (const s of ['open', 'in_progress', 'waiting', 'resolved'] as const) expect(canTransition(s, 'closed', 'admin')).toBe(true);
		expect(canTransition('closed', 'open', 'agent')).toBe(true);
	});
});
