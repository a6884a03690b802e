"""Next-venue prediction as ranking: venue metrics, baselines, candidates, a Keras ranker (issue 14).

Modules: ``metrics`` (Acc@k, MRR, NDCG@k, km error of the top-ranked venue, per window so
``checkin_traj.verdicts`` can bootstrap them over users), ``baselines`` (popular, user's
most frequent with popular fill, first-order transitions user-then-global, last venue),
``evaluate`` (``baseline_table(data)``: the baselines on chapter 02's windows),
``candidates`` (``CandidateGenerator``: own, near, transitions, popular), ``features``
(``VenueContext``: candidates and cheap features per window, training windows counting
only what came before their target), ``model`` (the Keras ranker and the place pick) and
``chapter`` (``VenueChapter``: chapter 08's skeleton). All counts are fit on training rows.
TensorFlow is imported only by ``model`` (and ``chapter`` when training).
"""
