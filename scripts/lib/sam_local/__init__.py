"""scripts/sam-local's helpers: see __main__.py for the commands."""
