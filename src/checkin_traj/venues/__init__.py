"""Next-venue prediction as ranking: venue metrics and venue baselines (issue 14).

Modules: ``metrics`` (Acc@k, MRR, NDCG@k, km error of the top-ranked venue, per window so
``checkin_traj.uncertainty`` can bootstrap them over users) and ``baselines`` (popular,
user's most frequent with popular fill, first-order transitions user-then-global, last
venue), all fit on training rows only.
"""
