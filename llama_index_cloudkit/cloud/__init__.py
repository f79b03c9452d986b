"""The cloud core: the one way this package talks to LlamaCloud, for parse, extract and index.

- :mod:`.transport`: retries, ``Retry-After``, the upload limiter, per-request intent.
- :mod:`.errors`: HTTP, JSON and SDK failures to typed errors; job status words to states.
- :mod:`.session`: one HTTP client per event loop (:class:`CloudSession`).
- :mod:`.jobs`: submit once, journal, poll to a deadline that never restarts, bounded
  resubmission of lost jobs (:class:`JobRun`).
- :mod:`.journal`: the sqlite job journal; :mod:`.budget`: credit budgets;
  :mod:`.policy`: every knob as one value (:class:`CloudPolicy`).

Nothing here imports a LlamaCloud SDK.

Example:
    >>> from llama_index_cloudkit.cloud import CloudPolicy
    >>> CloudPolicy().max_resubmissions
    1
"""

from llama_index_cloudkit.cloud.budget import Budget
from llama_index_cloudkit.cloud.deadline import Deadline, deadline_scope
from llama_index_cloudkit.cloud.errors import JobState, map_cloud_errors
from llama_index_cloudkit.cloud.jobs import JobOutcome, JobRun
from llama_index_cloudkit.cloud.journal import JobJournal
from llama_index_cloudkit.cloud.policy import CloudPolicy
from llama_index_cloudkit.cloud.session import CloudSession, run_in_session
from llama_index_cloudkit.cloud.transport import RetryPolicy

__all__ = [
    "Budget",
    "CloudPolicy",
    "CloudSession",
    "Deadline",
    "JobJournal",
    "JobOutcome",
    "JobRun",
    "JobState",
    "RetryPolicy",
    "deadline_scope",
    "map_cloud_errors",
    "run_in_session",
]
