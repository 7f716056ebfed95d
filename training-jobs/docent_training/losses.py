"""Losses written out rather than imported, so each term can be checked by hand.

DPO (Rafailov et al., 2023): with log-ratios of the policy to the frozen reference,
``h = (log pi(y_w|x) - log ref(y_w|x)) - (log pi(y_l|x) - log ref(y_l|x))``, the sigmoid loss
is ``-log sigmoid(beta * h)``. With label smoothing ``eps`` (conservative DPO, cDPO) each label
is taken to be flipped with probability ``eps``:
``-(1 - eps) * log sigmoid(beta * h) - eps * log sigmoid(-beta * h)``.
The implicit rewards are ``beta * (log pi(y|x) - log ref(y|x))``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class DpoOutput:
    loss: Any  # scalar, mean over the batch
    losses: Any  # per pair
    chosen_rewards: Any  # detached, per pair
    rejected_rewards: Any

    def metrics(self) -> dict[str, float]:
        margin = self.chosen_rewards - self.rejected_rewards
        return {
            "reward_margin": float(margin.mean()),
            "accuracy": float((margin > 0).float().mean()),
            "chosen_reward": float(self.chosen_rewards.mean()),
            "rejected_reward": float(self.rejected_rewards.mean()),
        }


def dpo_loss(
    policy_chosen: Any,
    policy_rejected: Any,
    ref_chosen: Any,
    ref_rejected: Any,
    beta: float = 0.1,
    label_smoothing: float = 0.0,
) -> DpoOutput:
    """Sigmoid DPO loss from summed completion log-probabilities (tensors of shape [pairs])."""
    import torch.nn.functional as F

    if beta <= 0:
        raise ValueError(f"beta must be positive, got {beta}")
    if not 0.0 <= label_smoothing < 0.5:
        raise ValueError(f"label_smoothing must be in [0, 0.5), got {label_smoothing}")
    h = (policy_chosen - ref_chosen) - (policy_rejected - ref_rejected)
    losses = -F.logsigmoid(beta * h) * (1 - label_smoothing) - F.logsigmoid(-beta * h) * (
        label_smoothing
    )
    return DpoOutput(
        loss=losses.mean(),
        losses=losses,
        chosen_rewards=(beta * (policy_chosen - ref_chosen)).detach(),
        rejected_rewards=(beta * (policy_rejected - ref_rejected)).detach(),
    )


def completion_logps(logits: Any, labels: Any) -> Any:
    """Sum of log p(token) over the label positions that are not -100, per row."""
    import torch

    logits = logits[:, :-1].float()
    targets = labels[:, 1:]
    mask = targets != -100
    picked = torch.gather(logits.log_softmax(-1), 2, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return (picked * mask).sum(-1)
