"""The pure core: names, decisions, config, checklists, rendering (stdlib, YAML, Jinja2)."""
