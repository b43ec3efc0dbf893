"""The catalog loader: the one-off Lambda function and the local command, both idempotent."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from chalicelib.domain.errors import Invalid
from glint_local import metadefs_loader
from tests.api.test_metadefs import NS
from tests.support import call

CATALOG = Path(__file__).resolve().parent.parent / "metadefs_catalog"


def invoke(client, event) -> dict:
    """The loader function's answer."""
    response = client.lambda_.invoke("metadefs_loader", event)
    return response.payload


def test_loader_function_imports_and_is_idempotent(client):
    catalog = metadefs_loader.read_catalog(CATALOG)
    first = invoke(client, {"catalog": catalog})
    assert first == {"created": ["GLINT::Demo::Compute", "GLINT::Demo::Storage"],
                     "replaced": [], "unchanged": []}
    shown = call(client, "GET", f"{NS}/GLINT::Demo::Compute", project="p1", roles="member")[1]
    assert shown["protected"] is True and shown["owner"] == "admin"
    assert set(shown["properties"]) == {"boot_menu", "serial_port_count"}
    assert shown["objects"][0]["name"] == "CPU Limits"
    assert sorted(t["name"] for t in shown["tags"]) == ["compute", "demo"]
    again = invoke(client, {"catalog": catalog})
    assert again["unchanged"] == ["GLINT::Demo::Compute", "GLINT::Demo::Storage"]
    changed = [{**catalog[0], "description": "new words"}, catalog[1]]
    assert invoke(client, {"catalog": changed})["replaced"] == ["GLINT::Demo::Compute"]
    assert call(client, "GET", f"{NS}/GLINT::Demo::Compute")[1]["description"] == "new words"
    listed = call(client, "GET", f"{NS}?resource_types=OS::Cinder::Volume")[1]["namespaces"]
    assert [n["namespace"] for n in listed] == ["GLINT::Demo::Storage"]
    types = call(client, "GET", "/v2/metadefs/resource_types")[1]["resource_types"]
    assert [t["name"] for t in types] == ["OS::Cinder::Volume", "OS::Glance::Image",
                                         "OS::Nova::Flavor"]


def test_loader_function_rejects_bad_events(client):
    with pytest.raises(Invalid):
        invoke(client, {"not": "a catalog"})
    with pytest.raises(Invalid):
        invoke(client, {"catalog": [{"namespace": "A", "visibility": "everyone"}]})


def test_read_catalog_names_the_bad_file(tmp_path):
    (tmp_path / "a.json").write_text("{not json")
    with pytest.raises(ValueError, match="a.json"):
        metadefs_loader.read_catalog(tmp_path)
    (tmp_path / "a.json").write_text(json.dumps(["not", "a", "namespace"]))
    with pytest.raises(ValueError, match="not a metadef namespace"):
        metadefs_loader.read_catalog(tmp_path)


def test_local_command_loads_into_a_moto_server(server_client, moto_endpoint, capsys):
    assert metadefs_loader.main([str(CATALOG), "--aws-endpoint", moto_endpoint]) == 0
    assert json.loads(capsys.readouterr().out)["created"] == ["GLINT::Demo::Compute",
                                                             "GLINT::Demo::Storage"]
    assert metadefs_loader.main([str(CATALOG), "--aws-endpoint", moto_endpoint]) == 0
    assert len(json.loads(capsys.readouterr().out)["unchanged"]) == 2
    assert call(server_client, "GET", f"{NS}/GLINT::Demo::Storage")[0] == 200


# Glance 33's own catalog, where the anchor is installed on this machine.
GLANCE_CATALOG = Path("/tmp/glance_anchor/venv/etc/glance/metadefs")


def test_glints_default_catalog_covers_the_common_resource_types(client):
    catalog = metadefs_loader.read_catalog(metadefs_loader.DEFAULT_CATALOG)
    assert len(invoke(client, {"catalog": catalog})["created"]) == len(catalog) >= 5
    types = {t["name"] for t in call(client, "GET", "/v2/metadefs/resource_types",
                                     project="p1", roles="member")[1]["resource_types"]}
    assert types >= {"OS::Glance::Image", "OS::Cinder::Volume", "OS::Cinder::Volumetype",
                     "OS::Nova::Flavor", "OS::Nova::Server", "OS::Nova::Aggregate"}
    devices = call(client, "GET", f"{NS}/GLINT::Compute::VirtualDevices"
                                  "?resource_type=OS::Nova::Flavor")[1]
    assert "hw:disk_bus" in devices["properties"]


def test_a_default_outside_its_enum_loads_without_it_and_warns(tmp_path, caplog):
    document = {"namespace": "GLINT::Test::Stray", "properties": {
        "edition": {"title": "Edition", "type": "string", "enum": ["Standard", "Enterprise"],
                    "default": "Express"},
        "kept": {"title": "Kept", "type": "string", "enum": ["a", "b"], "default": "a"}},
        "objects": [{"name": "O", "properties": {
            "inner": {"title": "Inner", "type": "string", "enum": ["x"], "default": "y"}}}]}
    (tmp_path / "stray.json").write_text(json.dumps(document))
    [loaded] = metadefs_loader.read_catalog(tmp_path)
    assert "default" not in loaded["properties"]["edition"]
    assert loaded["properties"]["kept"]["default"] == "a"
    assert "default" not in loaded["objects"][0]["properties"]["inner"]
    assert "stray.json: property edition: default 'Express'" in caplog.text


@pytest.mark.skipif(not GLANCE_CATALOG.is_dir(), reason="Glance's catalog is not installed here")
def test_glances_own_catalog_files_load_unchanged(client):
    catalog = metadefs_loader.read_catalog(GLANCE_CATALOG)
    summary = invoke(client, {"catalog": catalog})
    assert len(summary["created"]) == len(catalog) == 32
