"""The one place that reads configuration from the environment.

Every knob the project has is read here (through ``env``) so that production differs from
development by environment variables only. A ``.env`` file in the checkout is read first if present.
"""

from __future__ import annotations

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
_dotenv = BASE_DIR / ".env"
if _dotenv.is_file():
    environ.Env.read_env(str(_dotenv), overwrite=False)


def data_dir() -> Path:
    """Folder for everything the bot writes locally: embedded servers, models, charts."""
    path = Path(env.str("TRADEBOT_DATA_DIR", default=str(BASE_DIR / ".data")))
    path.mkdir(parents=True, exist_ok=True)
    return path
