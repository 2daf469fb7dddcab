import { describe, expect, it } from 'vitest';
import { keepListed } from './selection';

describe('keepListed', () => {
	it('keeps the tickets still in the list and drops the ones that left it', () => {
		const selected = new Set(['a', 'b', 'c']);
		expect(keepListed(selected, [{ id: 'a' }, { id: 'c' }, { id: 'd' }])).toEqual(new Set(['a', 'c']));
	});

	it('selects nothing new', () => {
		expect(keepListed(new Set(), [{ id: 'a' }])).toEqual(new Set());
	});
});
