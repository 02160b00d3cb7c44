"""docs/api.md is the generated public-API reference: it must match the code and every public name must
carry a docstring."""
from pathlib import Path

from toeplitznet.report import apidoc

DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"


def test_api_doc_is_current():
    assert DOC.read_text() == apidoc.render(), (
        "docs/api.md is stale: run `make api-doc` (python -m toeplitznet.report.apidoc > docs/api.md)")


def test_every_public_name_is_documented():
    text = apidoc.render()
    assert "(no docstring)" not in text, [ln for ln in text.splitlines() if "(no docstring)" in ln]
    for package in apidoc.PACKAGES:
        for name in apidoc.public_names(package):
            assert f"`{name}" in text, (package, name)
