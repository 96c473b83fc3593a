"""Server-rendered pages (Jinja2 + the NHS.UK design system); every journey works without JS."""
