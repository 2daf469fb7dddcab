import { describe, expect, it } from 'vitest';
import { linkToken } from './links';
import { linkRating } from './rating';

describe('linkRating', () => {
	it('reads the choice beside the token', () => {
		const hash = '#token=0123abcdsig-_x&rating=bad';
		expect(linkRating(hash)).toBe('bad');
		expect(linkToken(hash)).toBe('0123abcdsig-_x');
		expect(linkRating('#rating=good&token=x')).toBe('good');
	});

	it('refuses anything but good or bad', () => {
		expect(linkRating('#token=x&rating=meh')).toBeNull();
		expect(linkRating('#token=x')).toBeNull();
		expect(linkRating('')).toBeNull();
	});
});
