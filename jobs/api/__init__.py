"""The REST API under /api/v1/: jobs, sources, scrape runs and preferences.

Reads go through the model querysets, writes through `jobs.services` (or `Model.save()` with
`update_fields`), so every change the API makes reaches live clients as the same events a
scrape makes.
"""
