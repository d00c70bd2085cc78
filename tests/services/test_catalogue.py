"""The shipped e-service catalogue and its validating loader."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from jisr.services.catalogue import (
    LANGUAGES,
    LATIN_KEYWORD_LANGUAGES,
    CatalogueError,
    load_catalogue,
    load_catalogue_from,
)

FIXED_IDS = {
    "ma.civil.birth-certificate", "ma.civil.marriage-certificate", "ma.civil.death-certificate",
    "ma.id.national-id-card", "ma.passport.application", "ma.residence.certificate",
    "ma.life.certificate", "ma.police.criminal-record", "ma.vehicle.registration",
    "ma.driving.licence", "ma.business.company-creation", "ma.tax.compliance-certificate",
    "ma.health.insurance-enrolment", "ma.social.registry", "ma.education.diploma-equivalence",
    "ma.complaint.submit", "ma.consular.registration", "qa.residence.permit", "qa.work.visa",
    "qa.education.certificate-attestation", "qa.health.card",
}  # fmt: skip

SHIPPED = resources.files("jisr.services.catalogue")


def _shipped(service_id: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SHIPPED.joinpath(f"{service_id}.json").read_text("utf-8"))
    return data


def _write(directory: Path, name: str, data: dict[str, Any] | str) -> None:
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    (directory / name).write_text(text, encoding="utf-8")


class TestShippedCatalogue:
    def test_holds_exactly_the_fixed_services(self) -> None:
        """The catalogue ships the 21 services of issue 5, one per id."""
        assert set(load_catalogue().ids) == FIXED_IDS

    def test_json_files_are_package_data(self) -> None:
        """One JSON file per service is reachable through importlib.resources (so in the wheel)."""
        names = {entry.name for entry in SHIPPED.iterdir() if entry.name.endswith(".json")}
        assert names == {f"{service_id}.json" for service_id in FIXED_IDS}

    def test_every_service_speaks_every_language(self) -> None:
        """Each service has a title, description and keywords in ar, ary, zgh, fr, en."""
        for service in load_catalogue():
            assert set(service.texts) == set(LANGUAGES)
            assert set(service.latin_keywords) == set(LATIN_KEYWORD_LANGUAGES)
            assert all(text.keywords for text in service.texts.values())

    def test_country_and_administration(self) -> None:
        """Moroccan and Qatari services are owned by an administration of their country."""
        for service in load_catalogue():
            assert service.administration.id.startswith(service.country.lower() + ".")
            assert {"ar", "fr", "en"} <= set(service.administration.names)

    def test_lookup(self) -> None:
        """Services are found by id; an unknown id gives None."""
        catalogue = load_catalogue()
        service = catalogue.get("ma.civil.birth-certificate")
        assert service is not None and service.text("fr").title.startswith("Extrait")
        assert catalogue.get("ma.unknown.service") is None
        assert service.text("xx") == service.texts["en"]


class TestValidation:
    def test_a_copy_of_the_shipped_files_loads(self, tmp_path: Path) -> None:
        """The loader reads any directory laid out like the package."""
        _write(tmp_path, "qa.work.visa.json", _shipped("qa.work.visa"))
        _write(tmp_path, "README.txt", "not a service")
        assert load_catalogue_from(tmp_path).ids == ("qa.work.visa",)

    @pytest.mark.parametrize("language", LANGUAGES)
    def test_a_missing_language_is_refused(self, tmp_path: Path, language: str) -> None:
        """A service without one of the five languages fails the load, naming the file."""
        data = _shipped("qa.work.visa")
        del data["texts"][language]
        _write(tmp_path, "qa.work.visa.json", data)
        with pytest.raises(CatalogueError, match=r"qa\.work\.visa\.json.*texts"):
            load_catalogue_from(tmp_path)

    def test_a_missing_arabizi_list_is_refused(self, tmp_path: Path) -> None:
        """Latin-script keywords for Darija are required."""
        data = _shipped("qa.work.visa")
        del data["latin_keywords"]["ary_Latn"]
        _write(tmp_path, "qa.work.visa.json", data)
        with pytest.raises(CatalogueError, match="latin_keywords"):
            load_catalogue_from(tmp_path)

    def test_id_must_match_the_file_name(self, tmp_path: Path) -> None:
        """A file whose id differs from its name is refused."""
        _write(tmp_path, "qa.work.permit.json", _shipped("qa.work.visa"))
        with pytest.raises(CatalogueError, match=r"must be named qa\.work\.visa\.json"):
            load_catalogue_from(tmp_path)

    def test_country_must_match_the_id(self, tmp_path: Path) -> None:
        """A qa.* service cannot claim to be Moroccan."""
        data = _shipped("qa.work.visa") | {"country": "MA"}
        _write(tmp_path, "qa.work.visa.json", data)
        with pytest.raises(CatalogueError, match="country"):
            load_catalogue_from(tmp_path)

    def test_amazigh_title_must_be_tifinagh(self, tmp_path: Path) -> None:
        """The zgh title is written in Tifinagh, not in Latin letters."""
        data = _shipped("qa.work.visa")
        data["texts"]["zgh"]["title"] = "fiza n twuri"
        _write(tmp_path, "qa.work.visa.json", data)
        with pytest.raises(CatalogueError, match=r"zgh\.title"):
            load_catalogue_from(tmp_path)

    def test_blank_keyword_and_unknown_field_are_refused(self, tmp_path: Path) -> None:
        """Keywords cannot be blank and unknown fields are typos, not extensions."""
        data = _shipped("qa.work.visa")
        data["texts"]["fr"]["keywords"].append("  ")
        _write(tmp_path, "qa.work.visa.json", data)
        with pytest.raises(CatalogueError, match="blank"):
            load_catalogue_from(tmp_path)
        _write(tmp_path, "qa.work.visa.json", _shipped("qa.work.visa") | {"titel": "x"})
        with pytest.raises(CatalogueError, match="titel"):
            load_catalogue_from(tmp_path)

    def test_broken_json_is_refused(self, tmp_path: Path) -> None:
        """A file that is not JSON fails the load, naming the file."""
        _write(tmp_path, "qa.work.visa.json", '{"id": "qa.work.visa",')
        with pytest.raises(CatalogueError, match=r"^qa\.work\.visa\.json: "):
            load_catalogue_from(tmp_path)

    def test_an_empty_catalogue_is_refused(self, tmp_path: Path) -> None:
        """A directory without any service is an error, not an empty catalogue."""
        with pytest.raises(CatalogueError, match="no service"):
            load_catalogue_from(tmp_path)
