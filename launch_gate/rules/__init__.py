"""Pure rules several checks share (no network): domain names, HTTP headers (cache, HSTS), cookies, dotenv names,
placeholders, debug output, counting words."""
