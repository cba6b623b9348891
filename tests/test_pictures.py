"""Pictures: valid images, deterministic bytes, and an animation that moves toward the points."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import workbench as wb
from workbench import pictures
from workbench import regression as r


@pytest.fixture(scope="module")
def line_fit():
    return r.fit_dataset(r.line())


def test_fit_png_is_deterministic_without_software_metadata(tmp_path, line_fit):
    a = pictures.fit_png(line_fit, tmp_path / "a.png")
    b = pictures.fit_png(line_fit, tmp_path / "b.png")
    assert a.read_bytes() == b.read_bytes()
    with Image.open(a) as im:
        assert im.format == "PNG" and im.size == (640, 420)
        assert "Software" not in im.info
        pixels = np.asarray(im.convert("RGB")).reshape(-1, 3)
    orange = np.array([0xED, 0x7D, 0x31])
    assert (np.abs(pixels.astype(int) - orange).sum(1) < 30).sum() > 500  # the points are drawn


def test_fit_png_with_several_inputs(tmp_path):
    path = tmp_path / "two.csv"
    path.write_text("x1,x2,y\n0,1,2\n1,0,3\n1,1,4.5\n2,1,6\n")
    out = pictures.fit_png(r.fit_dataset(r.read_dataset(path)), tmp_path / "two.png")
    with Image.open(out) as im:
        assert im.size == (640, 420)


def test_loss_png_refuses_a_curve_that_is_not_positive_and_finite(tmp_path, line_fit):
    out = pictures.loss_png({"full batch": line_fit.losses}, tmp_path / "loss.png", floor=0.08)
    with Image.open(out) as im:
        assert im.size == (640, 460)
    with pytest.raises(wb.WorkbenchError, match="'bad' must be positive finite"):
        pictures.loss_png({"bad": [1.0, np.nan]}, tmp_path / "bad.png")
    with pytest.raises(wb.WorkbenchError, match="at least one"):
        pictures.loss_png({}, tmp_path / "none.png")
    assert not (tmp_path / "bad.png").exists()


def test_relu_units_png(tmp_path):
    data = r.relu()
    fits = [r.fit_dataset(data, units=k, epochs=20) for k in (1, 2)]
    with Image.open(pictures.relu_units_png(fits, tmp_path / "units.png")) as im:
        assert im.size == (640, 420)


def blue_rows(frame: Image.Image) -> np.ndarray:
    """For each pixel column, the mean row of the line's blue pixels (NaN where none)."""
    rgb = np.asarray(frame.convert("RGB")).astype(int)
    blue = np.abs(rgb - np.array([0x2F, 0x55, 0x97])).sum(2) < 40
    rows = np.arange(rgb.shape[0])[:, None]
    counts = blue.sum(0)
    with np.errstate(invalid="ignore"):
        return np.where(counts > 0, (blue * rows).sum(0) / counts, np.nan)


def test_descent_gif_frames_move_toward_the_fit(tmp_path, line_fit):
    a = pictures.descent_gif(line_fit, tmp_path / "a.gif", every=10)
    b = pictures.descent_gif(line_fit, tmp_path / "b.gif", every=10)
    assert a.read_bytes() == b.read_bytes()
    with Image.open(a) as im:
        assert im.format == "GIF" and im.n_frames == 11 and im.size == (480, 360)
        assert im.info["loop"] == 0
        frames = []
        for i in range(im.n_frames):
            im.seek(i)
            frames.append(im.copy())
        assert im.info["duration"] == 1500  # the last frame is held
    lines = [blue_rows(f) for f in frames]

    # The start (-1, 1) slopes down; the fit (3, 2.5) slopes up: on screen (rows grow
    # downward) the line's left end starts high and ends low.
    def slope(rows):
        cols = np.flatnonzero(~np.isnan(rows))
        return np.polyfit(cols, rows[cols], 1)[0]

    assert slope(lines[0]) > 0 > slope(lines[-1])
    gaps = [np.nanmean(np.abs(line - lines[-1])) for line in lines[:-1]]
    assert gaps[0] > gaps[5] > gaps[-1]  # each frame closer to the final line


def test_descent_gif_needs_one_input(tmp_path):
    path = tmp_path / "two.csv"
    path.write_text("x1,x2,y\n0,1,2\n1,0,3\n1,1,4.5\n")
    with pytest.raises(wb.WorkbenchError, match="one x column"):
        pictures.descent_gif(r.fit_dataset(r.read_dataset(path), epochs=2), tmp_path / "x.gif")


def test_a_descent_that_flies_off_stays_in_view_when_followed(tmp_path):
    high = r.fit_dataset(r.line(), lr=1.1, epochs=12)  # above 2 / lambda_max: the loss grows every step
    assert high.losses[-1] > 20 * high.losses[0]
    for follow, name in ((False, "lost.gif"), (True, "followed.gif")):
        with Image.open(pictures.descent_gif(high, tmp_path / name, follow=follow)) as im:
            im.seek(im.n_frames - 1)
            drawn = int(np.count_nonzero(~np.isnan(blue_rows(im))))
        if follow:
            assert drawn > 300  # the last line crosses the plot
        else:
            assert drawn < 50  # the lesson's view of the points has lost it


def test_lr_sweep_png_marks_divergence_and_refuses_bad_input(tmp_path):
    out = pictures.lr_sweep_png(
        ([0.01, 0.1, 2.0], [1.0, 0.1, np.inf]),
        tmp_path / "s.png",
        title="t",
        limit=1.0,
        floor=0.08,
        chosen=0.1,
    )
    with Image.open(out) as im:
        rgb = np.asarray(im.convert("RGB")).astype(int).reshape(-1, 3)
    assert (np.abs(rgb - np.array([0xC0, 0, 0])).sum(1) < 40).sum() > 50  # the red crosses and line
    with pytest.raises(wb.WorkbenchError, match="two lists of one length"):
        pictures.lr_sweep_png(([0.1, 0.2], [1.0]), tmp_path / "bad.png", title="t")
    with pytest.raises(wb.WorkbenchError, match="two lists of one length"):
        pictures.lr_sweep_png(([0.0], [1.0]), tmp_path / "bad.png", title="t")
    assert not (tmp_path / "bad.png").exists()


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [  # decades; a span inside one
        (0.05, 50.0, {"10\u207b\u00b9", "10\u2070", "10\u00b9"}),
        (1.5, 5.0, {f"{k}\N{MULTIPLICATION SIGN}10\u2070" for k in (2, 3, 4)}),
    ],
)
def test_log_axes_say_their_powers_in_plain_characters_without_math_text(
    tmp_path, monkeypatch, low, high, expected
):
    from matplotlib.mathtext import MathTextParser

    def refuse(*_a, **_k):
        raise AssertionError("math text was parsed")

    monkeypatch.setattr(MathTextParser, "parse", refuse)
    fig, ax = pictures._figure()
    ax.plot([0, 1], [low, high])
    ax.set_yscale("log")
    path = pictures._save_png(fig, tmp_path / "log.png")
    labels = {t.get_text() for t in ax.yaxis.get_ticklabels(which="both")} - {""}
    assert expected <= labels and not any("$" in t for t in labels), labels
    assert path.stat().st_size > 0
