import { describe, expect, it } from 'vitest';
import { guessMapping, parseValueLines } from './imports';

describe('guessMapping', () => {
	it('maps headers other systems use, each field once', () => {
		expect(guessMapping(['Ref', 'Subject', 'Body', 'From', 'Email', 'Notes'], [])).toEqual({
			Ref: 'external_id',
			Subject: 'title',
			Body: 'description',
			From: 'submitter_email',
			Email: null,
			Notes: null
		});
	});

	it('maps a custom field by its key or label', () => {
		expect(guessMapping(['Customer plan'], [{ key: 'plan', label: 'Customer plan' }])).toEqual({ 'Customer plan': 'cf.plan' });
	});
});

describe('parseValueLines', () => {
	it('reads word = value lines and skips the rest', () => {
		expect(parseValueLines('High = HIGH\nnonsense\nP1 = critical\n= low')).toEqual({ High: 'high', P1: 'critical' });
	});
});
