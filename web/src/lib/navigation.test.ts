import { describe, expect, it } from 'vitest';
import { safeNext } from './navigation';

describe('safeNext', () => {
	it('only allows same-origin paths', () => {
		expect(safeNext('/tickets/12')).toBe('/tickets/12');
		expect(safeNext('//evil.example')).toBe('/');
		expect(safeNext('https://evil.example')).toBe('/');
		expect(safeNext('/\\evil')).toBe('/');
		expect(safeNext('/login?next=/x')).toBe('/');
		expect(safeNext(null, '/home')).toBe('/home');
	});
});
