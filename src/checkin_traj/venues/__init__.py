"""Next-venue prediction as ranking (chapter 08): ``metrics`` (Acc@k, MRR, NDCG@k, km of the top
venue, per window), ``baselines``, ``evaluate`` (the baselines on chapter 02's windows; the
field's protocol), ``candidates``, ``features`` (``VenueContext``), ``model`` (the ranker's
inputs, scores and place pick), ``report`` (the chapter's tables and verdicts) and
``predictor`` (the saved ranker on new histories). All counts are fit on training rows; the
Keras ranker is on the chapter's page (:mod:`checkin_traj.pages.next_venue`).
"""
