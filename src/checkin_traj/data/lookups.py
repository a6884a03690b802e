"""The questions that choose a run's data file, each answer announced to whoever listens.

Which file ``DATA="auto"`` reads depends on the environment (``GOWALLA_DATA_DIR``,
``CHECKIN_TRAJ_CACHE``) and on whether the New York sample is there, not only on files'
contents. The data modules ask those questions through :func:`ask`, which raises each
answer as the audit event :data:`EVENT` (:func:`sys.audit`: nothing happens unless a hook
listens). The build's hook records them with the chapter, and executes the chapter again
when one of the same questions, asked again with :data:`QUESTIONS`, gets another answer.
"""

from __future__ import annotations

import os
import sys

EVENT = "checkin_traj.lookup"

#: A question and how it is answered; the build asks again with the same functions.
QUESTIONS = {
    "environ": os.environ.get,  # an environment variable's value (None: unset)
    "is_file": os.path.isfile,  # whether an absolute path is a file
}


def ask(question: str, subject: str):
    """The answer to ``question`` about ``subject`` (see :data:`QUESTIONS`), announced as :data:`EVENT`."""
    answer = QUESTIONS[question](subject)
    sys.audit(EVENT, question, subject, answer)
    return answer
