// A client-rendered SPA: the Python server serves index.html for every non-API path.
export const ssr = false;
export const prerender = false;
export const trailingSlash = 'never';
