"""The data: the SNAP reader (:mod:`.snap`), where the check-ins come from (:mod:`.fetch`, :mod:`.synthetic`,
:mod:`.sources`, :mod:`.lookups`), atomic writes and tables (:mod:`.atomic`, :mod:`.tables`) and the clean
check-ins with their provenance (:mod:`.provenance`). ``DATA.md`` in this folder: the sources, how to rebuild them.
"""
