"""The bundled Kaggle files are exactly the ones data/README.md describes."""

import hashlib

import pytest

from workbench.titanic.data import TEST_CSV, TRAIN_CSV


@pytest.mark.parametrize(
    ("path", "sha256"),
    [
        (TRAIN_CSV, "7d118fef8b6ccf7f81111877bc388536f7b1e498a655e3d649d19aaa010e9f6f"),
        (TEST_CSV, "56023b9948236f3c7a1c9448fcf418b283e109ef177fa8c7e069158dd7dd52b2"),
    ],
)
def test_bundled_files_are_kaggles_bytes(path, sha256):
    data = path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == sha256
    assert b"\r\n" in data  # git must not have rewritten the CRLF endings


def test_readme_states_the_same_hashes(root):
    readme = (root / "data" / "README.md").read_text()
    for path in (TRAIN_CSV, TEST_CSV):
        assert hashlib.sha256(path.read_bytes()).hexdigest() in readme
