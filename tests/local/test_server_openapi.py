"""The served OpenAPI document is valid and describes exactly the server's routes."""

from __future__ import annotations

import re

import httpx
import yaml
from openapi_spec_validator import validate


def test_openapi_document_is_valid_and_matches_the_routes(server):
    r = httpx.get(f"{server.base_url}/openstrate-reconstruction-api.openapi.yaml")
    assert r.status_code == 200 and "yaml" in r.headers["content-type"]
    document = yaml.safe_load(r.text)
    validate(document)
    from openstrate_nb.local._app import create_app
    from openstrate_nb.local._config import ServerConfig
    from starlette.routing import Route

    app = create_app(ServerConfig(data_dir=server.data_dir))
    served = {}
    for route in app.routes:
        if isinstance(route, Route) and (route.path == "/" or route.path.startswith(("/api/", "/view/"))):
            path = re.sub(r"\{(\w+)(:\w+)?\}", r"{\1}", route.path)
            served.setdefault(path, set()).update(m.lower() for m in route.methods - {"HEAD"})
    documented = {path: set(ops) - {"parameters"} for path, ops in document["paths"].items()}
    assert documented == served
