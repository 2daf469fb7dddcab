import { describe, expect, it } from 'vitest';
import { cn, tv } from './utils';

describe('tv', () => {
	const chip = tv({
		base: 'inline-flex gap-2 px-4 text-sm',
		variants: { size: { sm: 'gap-1 px-2', md: '' } },
		defaultVariants: { size: 'md' }
	});

	it('lets a variant override the base class it conflicts with', () => {
		expect(chip({ size: 'sm' }).split(' ').sort()).toEqual(['gap-1', 'inline-flex', 'px-2', 'text-sm']);
		expect(chip().split(' ').sort()).toEqual(['gap-2', 'inline-flex', 'px-4', 'text-sm']);
	});

	it('lets a caller’s class override the recipe through cn', () => {
		expect(cn(chip({ size: 'sm' }), 'px-6').split(' ')).toContain('px-6');
		expect(cn(chip({ size: 'sm' }), 'px-6').split(' ')).not.toContain('px-2');
	});
});
