import { describe, expect, it } from 'vitest';
import { formFieldName, toFormProblem } from './problem';

describe('problem+json to form errors', () => {
	it('maps field paths to form fields', () => {
		expect(formFieldName('body.title')).toBe('title');
		expect(formFieldName('title')).toBe('title');
		expect(formFieldName('body.metadata.app_version')).toBe('metadata');
		expect(formFieldName('query.limit')).toBe('limit');
	});

	it('puts errors[] next to their fields', () => {
		const p = toFormProblem({
			type: 'about:blank',
			title: 'Invalid input',
			status: 422,
			detail: 'The request is invalid.',
			code: 'invalid_input',
			errors: [
				{ field: 'body.title', message: 'At least 10 characters.', code: 'too_short' },
				{ field: 'body.description', message: 'At least 20 characters.', code: 'too_short' },
				{ field: 'body.title', message: 'second message ignored', code: 'x' }
			]
		});
		expect(p.fields).toEqual({ title: 'At least 10 characters.', description: 'At least 20 characters.' });
		expect(p.message).toBe('The request is invalid.');
		expect(p.status).toBe(422);
	});

	it('uses `field` when there is no errors list', () => {
		const p = toFormProblem({ title: 'Conflict', status: 409, detail: 'That email is taken.', code: 'conflict', field: 'email' });
		expect(p.fields.email).toBe('That email is taken.');
	});

	it('explains network failures and unknown shapes', () => {
		expect(toFormProblem(new TypeError('Failed to fetch')).message).toMatch(/reach the server/);
		expect(toFormProblem(undefined, 'Fallback').message).toBe('Fallback');
	});
});
