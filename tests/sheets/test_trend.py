"""The words headings and picture titles take from the losses under them."""

from __future__ import annotations

import numpy as np

import workbench as wb
from workbench.sheets.write.trend import loss_trend, rate_trend, step_trend


def test_the_trend_names_the_size_with_the_lowest_valid_loss():
    units = [1, 2, 4, 8]
    assert loss_trend(units, [4, 3, 2, 1], [5, 4, 3, 3.5]) == (
        "train loss falls at every size; valid loss lowest at 4 ReLUs, higher with more (over-fitting)"
    )
    assert loss_trend(units, [4, 3, 2, 1], [5, 4, 3, 2], valid_name="held-out") == (
        "train loss falls at every size; held-out loss lowest at the most, 8 ReLUs (no over-fitting yet)"
    )
    assert loss_trend(units, [4, 3, 3, 1], [1, 4, 3, 2]).startswith(
        "train loss lowest at 8 ReLUs; valid loss lowest at 1 ReLU, higher"
    )


def test_sizes_within_their_margin_of_the_lowest_valid_loss_are_said_together():
    units, train = [1, 2, 4, 8, 16], [5, 4, 3, 2, 1]
    valid = [0.20, 0.15, 0.14, 0.13, 0.18]
    # 2 and 4 lie within their margins of 8's loss (0.02 > 0.15 - 0.13; 0.02 > 0.01), 1 and 16 do not
    assert loss_trend(units, train, valid, margin=[0.05, 0.02, 0.02, 0, 0.04]) == (
        "train loss falls at every size; valid loss as low (within its margin) from 2 to 8 ReLUs,"
        " higher with more (over-fitting)"
    )
    assert loss_trend(units, train, valid, margin=[0.05, 0.01, 0.02, 0, 0.04]).endswith(
        "as low (within its margin) from 4 to 8 ReLUs, higher with more (over-fitting)"
    )
    assert loss_trend(units, train, valid, margin=[0.05, 0.03, 0.0, 0, 0.04]).endswith(
        "as low (within its margin) at 2 and 8 ReLUs, higher with more (over-fitting)"  # 4 is not
    )
    assert loss_trend(units, train, valid, margin=[0.05, 0.03, 0.02, 0, 0.06]).endswith(
        "as low (within its margin) from 2 to 16 ReLUs (no over-fitting yet)"  # the largest is as low
    )
    # margins of zero: the single lowest, as without them
    assert loss_trend(units, train, valid, margin=[0] * 5) == loss_trend(units, train, valid)


def test_the_rate_words_follow_the_losses():
    assert rate_trend(1.1, [1, 2, 4, 8], 0.5) == "lr 1.1: the loss grows at every step (1 to 8 in 3)"
    assert rate_trend(0.01, [8, 6, 5, 4], 0.5) == "lr 0.01: after 3 steps the loss is 8 times the lowest"
    assert rate_trend(0.5, [8, 1, 2, 0.5], 0.5).endswith("is 1 times the lowest")
    assert rate_trend(1.1, [2, 1, 3, 9], 0.5) == "lr 1.1: the loss grows from 2 to 9 in 3 steps"


def test_the_step_words_follow_where_the_steps_landed():
    assert step_trend(0.9, [0, 4, -1, 6], 2) == "lr 0.9: bounces across the bottom, further out each time"
    assert step_trend(0.7, [0, 3.5, 0.8, 2.6], 2) == "lr 0.7: bounces across the bottom, closer in each time"
    creeping = "lr 0.01: creeps, 50% of the way to the bottom in 3 steps"
    assert step_trend(0.01, [0, 0.5, 0.9, 1.0], 2) == creeping
    assert step_trend(0.3, [0, 2.5, 1.9, 2.0], 2) == "lr 0.3: crosses the bottom 2 times in 3 steps"


def test_the_spread_of_fares_is_said_from_their_quantiles():
    from workbench.sheets.write.trend import spread_words

    fares = wb.lesson_table()["Fare"].to_numpy()
    ordered = np.sort(fares)
    median = (ordered[len(ordered) // 2 - 1] + ordered[len(ordered) // 2]) / 2  # 712 rows: an even count
    said = spread_words(fares)
    assert said.startswith(f"half under {median:.3g}, the top 1% over ")
    assert said.endswith(f"the largest {ordered[-1]:.3g}") and ordered[-1] > 500  # the few huge fares
    logged = spread_words(np.log10(fares + 1))
    assert logged.endswith(f"the largest {np.log10(ordered[-1] + 1):.3g}")
