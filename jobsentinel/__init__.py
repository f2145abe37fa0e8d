"""JobSentinel: a self-hosted, privacy-first job watcher."""

__version__ = "0.7.0"
