import { describe, expect, it } from 'vitest';
import { linkToken } from './links';

describe('linkToken', () => {
	it('reads the secret from the fragment', () => {
		expect(linkToken('#token=abc_DEF-123')).toBe('abc_DEF-123');
	});

	it('refuses a missing or malformed secret', () => {
		expect(linkToken('')).toBeNull();
		expect(linkToken('#token=')).toBeNull();
		expect(linkToken('#token=a b<script>')).toBeNull();
		expect(linkToken('#other=abc')).toBeNull();
	});
});
