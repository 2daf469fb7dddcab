import { describe, expect, it } from 'vitest';
import { markdownExcerpt, renderMarkdown } from './markdown';

describe('renderMarkdown', () => {
	it('renders ordinary Markdown', () => {
		const html = renderMarkdown('# Title\n\n**bold** and `code`\n\n- a\n- b');
		expect(html).toContain('<h1>Title</h1>');
		expect(html).toContain('<strong>bold</strong>');
		expect(html).toContain('<code>code</code>');
		expect(html).toContain('<li>a</li>');
	});

	it('drops script tags and event handlers', () => {
		const html = renderMarkdown('<script>alert(1)</script><img src=x onerror="alert(2)"> <b onclick="x()">hi</b>');
		expect(html).not.toMatch(/<script/i);
		expect(html).not.toMatch(/onerror/i);
		expect(html).not.toMatch(/onclick/i);
		expect(html).toContain('<b>hi</b>');
	});

	it('neutralises javascript: and data: links', () => {
		const html = renderMarkdown('[click](javascript:alert(1)) <a href="data:text/html,<script>x</script>">d</a>');
		expect(html).not.toMatch(/javascript:/i);
		expect(html).not.toMatch(/href="data:/i);
	});

	it('removes iframes, styles and forms', () => {
		const html = renderMarkdown('<iframe src="https://evil"></iframe><style>body{}</style><form><input></form><p style="color:red">x</p>');
		expect(html).not.toMatch(/<iframe|<style|<form|<input|style=/i);
	});

	it('opens links in a new tab without an opener', () => {
		const html = renderMarkdown('[docs](https://example.org)');
		expect(html).toContain('href="https://example.org"');
		expect(html).toContain('target="_blank"');
		expect(html).toContain('rel="noopener noreferrer nofollow"');
	});

	it('handles empty input', () => {
		expect(renderMarkdown('')).toBe('');
		expect(renderMarkdown(null)).toBe('');
	});
});

describe('markdownExcerpt', () => {
	it('strips markup and truncates', () => {
		expect(markdownExcerpt('**Hello** <script>x()</script>world')).toBe('Hello world');
		expect(markdownExcerpt('a'.repeat(50), 10)).toHaveLength(10);
	});
});
