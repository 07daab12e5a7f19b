"""A resolved payment model: the fees a contract gives for arrays of clients, and what a job start is
worth to a provider (weighed against the cost of effort in `provider.py`). The terms themselves are
configuration (`labsim.config.payment`)."""

from __future__ import annotations

import numpy as np

from labsim.config.payment import Payment
from labsim.config.states import WORK_FORMS


class Contract:
    """A resolved payment model, giving fees for arrays of clients."""

    def __init__(self, payment: Payment, profiling_cuts: np.ndarray | None = None) -> None:
        self.terms = payment
        self.service_norm = payment.service_norm
        self.form_multiplier = np.array([payment.outcome.forms.get(f, 0.0) for f in WORK_FORMS])
        self.group_multiplier = np.array(payment.groups.multipliers)
        self._duration_cuts = np.array(payment.groups.duration_cuts_weeks)
        self._profiling_cuts = profiling_cuts
        s = payment.sustainment
        after = payment.outcome.after_weeks
        self.sustainment_weeks = (
            np.arange(after + s.every_weeks, s.horizon_weeks + 1, s.every_weeks)
            if s.fee_eur > 0 and s.horizon_weeks is not None
            else np.zeros(0, np.int64)
        )
        # whether each week in a job is a sustainment milestone, as a table (its last entry: none later)
        self._milestone = np.zeros(int(self.sustainment_weeks.max(initial=0)) + 2, bool)
        self._milestone[self.sustainment_weeks] = True

    @property
    def pays_for_jobs(self) -> bool:
        """Whether any fee depends on a client's job (outcome or sustainment)."""
        return self.terms.outcome.fee_eur > 0 or self.terms.sustainment.fee_eur > 0

    def group(self, weeks_unemployed: np.ndarray, employability: np.ndarray) -> np.ndarray:
        """Each client's payment group at start, easiest first."""
        by = self.terms.groups.by
        if by == "duration":
            return np.searchsorted(self._duration_cuts, weeks_unemployed, side="right")
        if by == "profiling":
            # cuts run from high employability to low: group 0 is the most employable tier
            return np.searchsorted(-self._profiling_cuts, -employability, side="right")
        return np.zeros(weeks_unemployed.size, np.int64)

    def attachment(self, n: int) -> np.ndarray:
        return np.full(n, self.terms.attachment_fee_eur)

    def progress(self, group: np.ndarray) -> np.ndarray:
        return self.terms.progress.fee_eur * self.group_multiplier[group]

    def outcome(self, form: np.ndarray, group: np.ndarray) -> np.ndarray:
        """Outcome fee for jobs of form index `form` (into WORK_FORMS)."""
        return self.terms.outcome.fee_eur * self.form_multiplier[form] * self.group_multiplier[group]

    def sustainment(self, form: np.ndarray, group: np.ndarray) -> np.ndarray:
        return self.terms.sustainment.fee_eur * self.form_multiplier[form] * self.group_multiplier[group]

    def due(self, weeks_in_job: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Which clients in a placed job (weeks in it: 0 or more) reach the outcome milestone, and which a
        sustainment one."""
        sustained = self._milestone[np.minimum(weeks_in_job, self._milestone.size - 1)]  # np.isin's answer
        return weeks_in_job == self.terms.outcome.after_weeks, sustained

    def job_value(self, form_share: np.ndarray, separation: np.ndarray) -> np.ndarray:
        """Expected payment for a job start, per client group (before the group's multiplier).

        The job's form is drawn from the market's mix `form_share`; outcome and sustainment fees are
        weighted by the chance the job survives to each milestone (weekly `separation` by form).
        """
        t = self.terms
        stay = 1.0 - separation
        outcome = t.outcome.fee_eur * stay ** t.outcome.after_weeks
        sustain = t.sustainment.fee_eur * (stay[:, None] ** self.sustainment_weeks[None, :]).sum(axis=1)
        per_form = self.form_multiplier * (outcome + sustain)
        return float(form_share @ per_form) * self.group_multiplier
