"""Infrastructure shared by every domain: database, security, Markdown, errors, time.

``lms.core`` imports no domain package.
"""
