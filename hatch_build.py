"""Build the web app into the wheel, so an installed ticketdesk needs no Node.js."""

import shutil
import subprocess
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class WebAppBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Run `npm ci && npm run build` in web/ and copy the result into the package."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Build the SPA unless this is an editable install or it is already built."""
        if self.target_name != "wheel" or version == "editable":
            return
        root = Path(self.root)
        dist = root / "src" / "ticketdesk" / "web" / "dist"
        web = root / "web"
        # A dist from before the API docs were bundled lacks Swagger UI: built again.
        built = (dist / "index.html").is_file() and (
            dist / "swagger-ui" / "swagger-ui-bundle.js"
        ).is_file()
        if not built:
            if not (web / "package.json").is_file():
                raise RuntimeError("web/ is missing and no built web app was found")
            npm = shutil.which("npm")
            if npm is None:
                raise RuntimeError("building the web app needs Node.js 20 and npm")
            subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=web, check=True)
            subprocess.run([npm, "run", "build"], cwd=web, check=True)
            shutil.rmtree(dist, ignore_errors=True)
            shutil.copytree(web / "build", dist)
        build_data["artifacts"].append("src/ticketdesk/web/dist/**")
