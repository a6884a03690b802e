"""Next-venue prediction as ranking: venue metrics, baselines, candidates, the ranker's plumbing (issue 14).

Modules: ``metrics`` (Acc@k, MRR, NDCG@k, km error of the top-ranked venue, per window so
``checkin_traj.verdicts`` can bootstrap them over users), ``baselines`` (popular, user's
most frequent with popular fill, first-order transitions user-then-global, last venue),
``evaluate`` (``baseline_table(data)``: the baselines on chapter 02's windows; the windows
the field's common protocol scores), ``candidates`` (``CandidateGenerator``: own, near,
transitions, popular), ``features`` (``VenueContext``: candidates and cheap features per
window, training windows counting only what came before their target), ``model`` (the
ranker's inputs, a trained ranker's scores and the place pick) and ``report`` (chapter 08's
tables, place pick and verdicts, called from the chapter with explicit arguments). All
counts are fit on training rows.

The ranker's Keras network and its training call are on chapter 08's page
(``notebooks/08_next_venue.md``), exported to :mod:`checkin_traj.pages.next_venue`; no
module here imports TensorFlow.
"""
