"""The test split, once: the configuration chosen on validation, trained over seeds and scored on test.

This is the only part of :mod:`checkin_traj.tuning` that reads ``data.test``; it goes through
:func:`checkin_traj.training.run_seeds`, the one multi-seed training of the project.
"""

from __future__ import annotations

from .space import MODEL, VARIANT, check_config, config_label
from .study import check_data, check_training, model_data


def score_on_test(
    data,
    config,
    *,
    seeds=(0, 1, 2),
    epochs=30,
    batch_size=256,
    patience=5,
    variant=VARIANT,
    target_mode=None,
    verbose=0,
):
    """Train the chosen configuration once per seed and score each model on the test split.

    The configuration must have been chosen on the validation split (e.g. by
    :func:`checkin_traj.tuning.best_configuration`).

    Parameters
    ----------
    data : WindowedData
        All the windows; the model's form reads its own features of them (the article's
        three for the article's form), as the trials did.
    config : dict
        Seq2Seq hyperparameters (names of the builder in ``variant`` form).
    seeds : sequence of int
        Distinct training seeds, at least one (three or more for a spread).
    epochs, batch_size, patience, variant, target_mode
        As in :func:`checkin_traj.tuning.run_study`.
    verbose : int
        0 silent; 1 one line per seed.

    Returns
    -------
    checkin_traj.training.SeedRuns
        From :func:`checkin_traj.training.run_seeds` with ``split="test"``: ``metrics`` has
        one row per seed with every test metric, the same prefixed ``val_`` and the
        training's ``epochs_run``, ``train_seconds``...; ``summary()`` gives mean and standard
        deviation over seeds; ``predictions`` the test predictions per seed.
    """
    from ..training import run_seeds

    config = check_config(config, variant=variant)
    target_mode, epochs, batch_size, patience = check_training(target_mode, epochs, batch_size, patience, variant)
    check_data(data)
    if getattr(data, "test", None) is None or len(data.test.y) < 2:
        raise ValueError("data.test must hold at least 2 windows")
    if verbose:
        print(f"scoring {config_label(config)} on the test windows, seeds {list(seeds)}", flush=True)
    return run_seeds(
        MODEL,
        model_data(data, variant),
        seeds=seeds,
        split="test",
        hyperparameters=config,
        target_mode=target_mode,
        epochs=epochs,
        batch_size=batch_size,
        patience=patience,
        variant=variant,
        verbose=verbose,
    )
