"""Signals of the jobs app beyond Django's own, for changes made in bulk (which send no
post_save). `realtime` listens; `jobs` does not know who does."""

from django.dispatch import Signal

# Sent inside the transaction of a rescore, with `changed: int` (how many jobs got a new score).
jobs_rescored = Signal()

# Sent after each cycle of `manage.py scrape`, and by the worker's sweep every ten minutes (with
# `dry_run: bool`): housekeeping such as event-log retention hangs off it.
scrape_cycle_finished = Signal()
