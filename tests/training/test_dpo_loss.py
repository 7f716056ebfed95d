"""The DPO loss against values worked out by hand (sigmoid loss, beta, label smoothing)."""

from __future__ import annotations

import math

import pytest
import torch

from docent_training.losses import completion_logps, dpo_loss


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))  # -log sigmoid(-x)


def test_one_pair_by_hand() -> None:
    # h = (-10 - -11) - (-12 - -11) = 2; beta * h = 1; loss = -log sigmoid(1) = log(1 + e^-1)
    out = dpo_loss(*(torch.tensor([v]) for v in (-10.0, -12.0, -11.0, -11.0)), beta=0.5)
    assert float(out.loss) == pytest.approx(math.log(1 + math.exp(-1)), abs=1e-6)
    assert float(out.loss) == pytest.approx(0.3132617, abs=1e-6)
    assert float(out.chosen_rewards[0]) == pytest.approx(0.5)
    assert float(out.rejected_rewards[0]) == pytest.approx(-0.5)
    assert out.metrics()["reward_margin"] == pytest.approx(1.0)
    assert out.metrics()["accuracy"] == 1.0


def test_label_smoothing_is_conservative_dpo() -> None:
    # 0.9 * -log sigmoid(1) + 0.1 * -log sigmoid(-1) = 0.9 * 0.3132617 + 0.1 * 1.3132617
    out = dpo_loss(
        *(torch.tensor([v]) for v in (-10.0, -12.0, -11.0, -11.0)), beta=0.5, label_smoothing=0.1
    )
    assert float(out.loss) == pytest.approx(0.4132617, abs=1e-6)
    assert float(out.loss) == pytest.approx(0.9 * softplus(-1) + 0.1 * softplus(1), abs=1e-6)


def test_batch_mean_margin_accuracy_and_gradient() -> None:
    policy_c = torch.tensor([-10.0, -5.0], requires_grad=True)
    policy_r = torch.tensor([-12.0, -4.0])
    out = dpo_loss(
        policy_c, policy_r, torch.tensor([-11.0, -5.0]), torch.tensor([-11.0, -5.0]), 0.5
    )
    # pair 2: h = 0 - 1 = -1, beta h = -0.5, loss = log(1 + e^0.5) = 0.9740770
    assert float(out.losses[1].detach()) == pytest.approx(0.9740770, abs=1e-6)
    assert float(out.loss.detach()) == pytest.approx((0.3132617 + 0.9740770) / 2, abs=1e-6)
    assert out.metrics()["accuracy"] == 0.5
    assert out.metrics()["reward_margin"] == pytest.approx((1.0 - 0.5) / 2)
    out.loss.backward()
    # d/d pc of -log sigmoid(beta h) / 2 = -beta * sigmoid(-beta h) / 2
    sigmoid = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
    assert float(policy_c.grad[0]) == pytest.approx(-0.5 * sigmoid(-1) / 2, abs=1e-6)
    assert float(policy_c.grad[1]) == pytest.approx(-0.5 * sigmoid(0.5) / 2, abs=1e-6)


def test_equal_policy_and_reference_give_log2_and_zero_margin() -> None:
    x = torch.tensor([-3.0, -7.0])
    out = dpo_loss(x, x + 1, x, x + 1, beta=0.1)
    assert float(out.loss) == pytest.approx(math.log(2), abs=1e-6)
    assert out.metrics()["reward_margin"] == 0.0


def test_bad_arguments_are_refused() -> None:
    x = torch.zeros(1)
    with pytest.raises(ValueError, match="beta"):
        dpo_loss(x, x, x, x, beta=0)
    with pytest.raises(ValueError, match="label_smoothing"):
        dpo_loss(x, x, x, x, label_smoothing=0.5)


def test_completion_logps_sums_only_answer_tokens() -> None:
    logits = torch.zeros(1, 4, 5)  # uniform over 5 tokens: each log p = -log 5
    labels = torch.tensor([[-100, -100, 3, 1]])  # two answer tokens (positions 2 and 3)
    assert float(completion_logps(logits, labels)[0]) == pytest.approx(-2 * math.log(5))
