import DOMPurify from 'dompurify';
import { Marked } from 'marked';

const marked = new Marked({ gfm: true, breaks: true, async: false });

let hooked = false;
function installHooks(): void {
	if (hooked) return;
	hooked = true;
	// Links open in a new tab and never hand the opener to the target page.
	DOMPurify.addHook('afterSanitizeAttributes', (node) => {
		if (node.tagName === 'A' && node.hasAttribute('href')) {
			node.setAttribute('target', '_blank');
			node.setAttribute('rel', 'noopener noreferrer nofollow');
		}
	});
}

const PURIFY_CONFIG = {
	USE_PROFILES: { html: true },
	FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select', 'iframe', 'object', 'embed'],
	FORBID_ATTR: ['style'],
	ALLOWED_URI_REGEXP: /^(?:(?:https?|mailto):|[^a-z]|[a-z+.-]+(?:[^a-z+.\-:]|$))/i
};

/** Render untrusted Markdown to HTML that is safe to put in `{@html}`. */
export function renderMarkdown(source: string | null | undefined): string {
	if (!source) return '';
	installHooks();
	const html = marked.parse(source) as string;
	return DOMPurify.sanitize(html, PURIFY_CONFIG) as string;
}

/** Plain-text excerpt of Markdown (for lists), without any markup. */
export function markdownExcerpt(source: string | null | undefined, max = 160): string {
	if (!source) return '';
	const text = DOMPurify.sanitize(marked.parse(source) as string, { ALLOWED_TAGS: [], KEEP_CONTENT: true })
		.toString()
		.replace(/\s+/g, ' ')
		.trim();
	return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
