#!/usr/bin/env python
"""Django's command-line utility for JobSentinel."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jobsentinel.settings")
    import django
    from django.core.management import execute_from_command_line
    from django.db import DatabaseError

    from jobsentinel import setup_check

    django.setup()
    advice = setup_check.missing_sqlite_file(sys.argv)
    if advice is not None:
        sys.exit(advice)
    try:
        execute_from_command_line(sys.argv)
    except DatabaseError:
        # A missing table is the usual cause; any other database error keeps its traceback.
        advice = setup_check.unapplied_migrations() if setup_check.needs_schema(sys.argv) else None
        if advice is None:
            raise
        sys.exit(advice)


if __name__ == "__main__":
    main()
