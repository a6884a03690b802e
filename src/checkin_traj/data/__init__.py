"""The data: reading SNAP files, writing outputs, and where the check-ins come from.

- :mod:`~checkin_traj.data.snap`: the SNAP reader (:func:`read_checkins`, :func:`read_edges`,
  :class:`ReadReport`, :class:`InputError`);
- :mod:`~checkin_traj.data.atomic`: atomic writes of one file or of a set of files;
- :mod:`~checkin_traj.data.tables`: tables as CSV or Parquet (:func:`read_table`, :func:`write_table`);
- :mod:`~checkin_traj.data.fetch`: the full SNAP files, downloaded once and verified;
- :mod:`~checkin_traj.data.synthetic`: synthetic check-ins and friendships in SNAP format;
- :mod:`~checkin_traj.data.sources`: the chapter's ``DATA`` parameter resolved to a file;
- :mod:`~checkin_traj.data.lookups`: the questions that resolution asks, announced to the build;
- :mod:`~checkin_traj.data.provenance`: the clean check-ins and their provenance, shared by the chapters.

See ``DATA.md`` in this folder for the data's sources and how to rebuild them.
"""
