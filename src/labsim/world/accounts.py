"""The pilot's money: what the purchaser paid by term, each provider's revenue, cost and profit, and
the break-even caseload at which a provider's revenue covers its costs including set-up.

Purchaser and providers keep separate books (as in life), so that a test can check they agree.
Each client's revenue and cost are also kept, for cost per participant and the break-even volume.
"""

from __future__ import annotations

import math

import numpy as np

from labsim.config.choices import TERMS


class Accounts:
    """Books of the purchaser and of each provider, in euros."""

    def __init__(self, n_providers: int, n_seekers: int, setup_cost: float) -> None:
        self.purchaser = dict.fromkeys(TERMS, 0.0)
        self.revenue = np.zeros((n_providers, len(TERMS)))  # by provider and term
        self.running_cost = np.zeros(n_providers)
        self.setup_cost = np.full(n_providers, setup_cost)
        self.client_revenue = np.zeros(n_seekers)
        self.client_cost = np.zeros(n_seekers)

    def pay(self, term: str, provider: np.ndarray, client: np.ndarray, fee: np.ndarray) -> None:
        """The purchaser pays `fee[i]` to `provider[i]` for `client[i]` under `term`."""
        if client.size == 0:
            return
        self.purchaser[term] += float(fee.sum())
        k = TERMS.index(term)
        self.revenue[:, k] += np.bincount(provider, weights=fee, minlength=self.revenue.shape[0])
        np.add.at(self.client_revenue, client, fee)

    def spend(self, provider: np.ndarray, client: np.ndarray, cost: np.ndarray) -> None:
        """Providers' running cost of serving `client[i]` (by `provider[i]`) this week."""
        # a bincount sums each provider's costs in order (not pairwise), as the books always have
        self.running_cost += np.bincount(provider, weights=cost, minlength=self.running_cost.size)
        self.client_cost[client] += cost

    def cost(self) -> np.ndarray:
        return self.running_cost + self.setup_cost

    def profit(self) -> np.ndarray:
        return self.revenue.sum(axis=1) - self.cost()


def break_even_clients(setup_cost: float, revenue_per_client: float, cost_per_client: float) -> float:
    """Clients a provider needs for revenue to cover running costs and set-up (inf if never)."""
    margin = revenue_per_client - cost_per_client
    return setup_cost / margin if margin > 0 else math.inf
