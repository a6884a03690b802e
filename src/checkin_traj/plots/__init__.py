"""One function per figure of the book, grouped by chapter topic.

Each function takes data and an optional ``ax`` (or returns a new figure) and labels its
axes with units; a figure in a chapter is one call.
"""
